using System.Runtime.CompilerServices;

namespace Molt.Hosting.Updating;

/// <summary>
/// Proves that a retired version was collected, or says what is known of what holds it. A version that
/// stays loaded leaks for ever, so an update that cannot unload its predecessor says so in its result.
/// </summary>
internal static class UnloadVerifier
{
    private const int MaxCollections = 12;

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

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool Collect(WeakReference context)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return context.IsAlive;
    }
}
