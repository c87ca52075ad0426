using System.Reflection;
using System.Runtime.CompilerServices;
using Molt.Hosting.Loading;

namespace Molt.Hosting.Updating;

/// <summary>
/// Proves that a retired version was collected, or says what is known of what holds it. A version that
/// stays loaded leaks for ever, so an update that cannot unload its predecessor says so in its result.
/// When the host keeps old code loaded, the proof is that the state its statics held was collected.
/// </summary>
internal static class UnloadVerifier
{
    private const int MaxCollections = 12;
    private const int BlockingCollections = 4;

    /// <summary>The longest wait for one background collection to finish.</summary>
    private static readonly TimeSpan BackgroundCollectionWait = TimeSpan.FromSeconds(5);

    /// <summary>Framework types whose static events outlive any version: a handler of old code there keeps it loaded.</summary>
    private static readonly Type[] EventSources =
    [
        typeof(AppContext), typeof(AppDomain), typeof(System.Runtime.Loader.AssemblyLoadContext), typeof(TaskScheduler), typeof(Console),
    ];

    /// <param name="retired">The version retired.</param>
    /// <param name="retiredThreads">Its thread units, which should end.</param>
    /// <param name="generation">Its generation, for the warnings.</param>
    /// <param name="time">The host's clock.</param>
    /// <param name="role">What the version was, for the warnings: "old" after a commit, "refused" or "rolled-back" after a failed update.</param>
    public static async Task<(bool Unloaded, List<string> Warnings)> VerifyAsync(
        RetiredVersion retired, List<(string Name, WeakReference<Thread> Thread)> retiredThreads, int generation, TimeProvider time, string role = "old")
    {
        var context = retired.Context;
        // Background collections first: a blocking full collection of a large heap stops the new version for as long as
        // it takes (a second at a million keys), which its clients would see as a second pause right after the update.
        // A collectible context usually goes within a few; the blocking ones only confirm a version that stays.
        for (var i = 0; i < MaxCollections; i++)
        {
            await CollectInBackgroundAsync(time).ConfigureAwait(false);
            if (retired.IsReleased)
            {
                return (true, []);
            }
        }
        for (var i = 0; i < BlockingCollections; i++)
        {
            if (Collect(retired))
            {
                return (true, []);
            }
            // Retired threads are unwinding and finalizers may be queued: give them a moment.
            await Task.Delay(TimeSpan.FromMilliseconds(10 * (i + 1)), time).ConfigureAwait(false);
        }
        var warnings = new List<string>();
        if (retired.LibrariesStillLoaded.ToList() is { Count: > 0 } libraries)
        {
            warnings.Add($"The shared {(libraries.Count == 1 ? "library" : "libraries")} {string.Join(", ", libraries)}, which no version uses any more, " +
                $"{(libraries.Count == 1 ? "was" : "were")} not collected: something outside still references {(libraries.Count == 1 ? "its" : "their")} code or objects.");
        }
        if (!retired.VersionReleased)
        {
            warnings.Add(
                retired.CodeUnloads
                    ? $"The {role} version (generation {generation}) was not collected after {MaxCollections + BlockingCollections} garbage collections: something outside it " +
                      "still references its code or objects, and its memory stays in use."
                    : $"The {role} version's state (generation {generation}) was not collected after {MaxCollections + BlockingCollections} garbage collections: " +
                      $"something outside it still references what {string.Join(", ", retired.StillHeld.Take(5))} held, and that memory stays in use.");
        }
        warnings.AddRange(HandlersOfOldCode(context));
        warnings.AddRange(DataOfOldCode(context));
        foreach (var (name, weak) in retiredThreads)
        {
            if (weak.TryGetTarget(out var thread) && thread.IsAlive)
            {
                warnings.Add($"Thread unit '{name}' of the {role} version is still running: it did not let UnitRetiredException end it (a catch-all handler?).");
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

    /// <summary>
    /// A full collection that runs concurrently with the program (a background GC, when concurrent GC is on, as it is by
    /// default), then the finalizers it queued — unloading a collectible context goes through a finalizer — then a short
    /// wait for the finalization's own collection to be possible.
    /// </summary>
    private static async Task CollectInBackgroundAsync(TimeProvider time)
    {
        var before = LastFullCollection();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: false, compacting: false);
        var start = time.GetTimestamp();
        // Wait for it to end: a background collection takes as long as marking the heap does, while the program runs.
        while (LastFullCollection() == before && time.GetElapsedTime(start) < BackgroundCollectionWait)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(5), time).ConfigureAwait(false);
        }
        GC.WaitForPendingFinalizers();
        await Task.Delay(TimeSpan.FromMilliseconds(5), time).ConfigureAwait(false);
    }

    /// <summary>The indices of the last full collections that ended, background and blocking (the GC may choose either).</summary>
    private static (long Background, long Blocking) LastFullCollection() =>
        (GC.GetGCMemoryInfo(GCKind.Background).Index, GC.GetGCMemoryInfo(GCKind.FullBlocking).Index);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool Collect(RetiredVersion retired)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return retired.IsReleased;
    }
}
