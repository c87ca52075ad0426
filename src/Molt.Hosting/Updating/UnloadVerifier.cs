using System.Reflection;
using System.Runtime.CompilerServices;

namespace Molt.Hosting.Updating;

/// <summary>
/// Proves that a retired version was collected, or says what is known of what holds it. A version that
/// stays loaded leaks for ever, so an update that cannot unload its predecessor says so in its result.
/// </summary>
internal static class UnloadVerifier
{
    private const int MaxCollections = 12;

    /// <summary>Framework types whose static events outlive any version: a handler of old code there keeps it loaded.</summary>
    private static readonly Type[] EventSources =
    [
        typeof(AppContext), typeof(AppDomain), typeof(System.Runtime.Loader.AssemblyLoadContext), typeof(TaskScheduler), typeof(Console),
    ];

    public static async Task<(bool Unloaded, List<string> Warnings)> VerifyAsync(
        WeakReference context, List<(string Name, WeakReference<Thread> Thread)> retiredThreads, int generation, TimeProvider time)
    {
        for (var i = 0; i < MaxCollections; i++)
        {
            if (!Collect(context))
            {
                return (true, []);
            }
            // Retired threads are unwinding and finalizers may be queued: give them a moment.
            await Task.Delay(TimeSpan.FromMilliseconds(10 * (i + 1)), time).ConfigureAwait(false);
        }
        var warnings = new List<string>
        {
            $"The old version (generation {generation}) was not collected after {MaxCollections} garbage collections: something outside it " +
            "still references its code or objects, and its memory stays in use.",
        };
        warnings.AddRange(HandlersOfOldCode(context));
        warnings.AddRange(DataOfOldCode(context));
        foreach (var (name, weak) in retiredThreads)
        {
            if (weak.TryGetTarget(out var thread) && thread.IsAlive)
            {
                warnings.Add($"Thread unit '{name}' of the old version is still running: it did not let UnitRetiredException end it (a catch-all handler?).");
            }
        }
        warnings.Add("Known causes: a static event handler or AppDomain/AppContext event registered by the old code, a Timer not disposed, " +
            "a CancellationToken registration or a framework cache (System.Text.Json, TypeDescriptor) holding old types, " +
            "a thread or task started outside Live.StartUnit still running the old code.");
        return (false, warnings);
    }

    /// <summary>Handlers of the old version's code on the framework's process-wide events, by name.</summary>
    private static IEnumerable<string> HandlersOfOldCode(WeakReference context)
    {
        if (context.Target is not System.Runtime.Loader.AssemblyLoadContext old)
        {
            yield break;
        }
        var sources = EventSources.Select(t => (Owner: t.Name, Target: (object?)null, Type: t))
            .Append((Owner: "AppDomain.CurrentDomain", Target: AppDomain.CurrentDomain, Type: typeof(AppDomain)))
            .Append((Owner: "AssemblyLoadContext.Default", Target: System.Runtime.Loader.AssemblyLoadContext.Default, Type: typeof(System.Runtime.Loader.AssemblyLoadContext)));
        foreach (var (owner, target, type) in sources)
        {
            var flags = BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly | (target is null ? BindingFlags.Static : BindingFlags.Instance);
            foreach (var field in type.GetFields(flags).Where(f => typeof(Delegate).IsAssignableFrom(f.FieldType)))
            {
                if (field.GetValue(target) is not Delegate handlers)
                {
                    continue;
                }
                foreach (var handler in handlers.GetInvocationList())
                {
                    if (handler.Method.DeclaringType is { } declaring && System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(declaring.Assembly) == old)
                    {
                        yield return $"{owner}.{field.Name.TrimStart('_')} still has a handler of the old version: " +
                            $"{declaring.FullName}.{handler.Method.Name} (remove it when the unit retires, or register it once from a [NotMigrated] place).";
                    }
                }
            }
        }
    }

    /// <summary>Objects of the old version stored with AppContext.SetData.</summary>
    private static IEnumerable<string> DataOfOldCode(WeakReference context)
    {
        if (context.Target is not System.Runtime.Loader.AssemblyLoadContext old
            || typeof(AppContext).GetField("s_dataStore", BindingFlags.Static | BindingFlags.NonPublic)?.GetValue(null) is not System.Collections.IDictionary store)
        {
            yield break;
        }
        List<(object Key, object? Value)> entries;
        lock (store)
        {
            entries = [.. store.Keys.Cast<object>().Select(k => (k, store[k]))];
        }
        foreach (var (key, value) in entries)
        {
            if (value is not null && System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(value.GetType().Assembly) == old)
            {
                yield return $"AppContext.SetData(\"{key}\") holds a {value.GetType().FullName} of the old version.";
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool Collect(WeakReference context)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return context.IsAlive;
    }
}
