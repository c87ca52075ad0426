using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Molt.Hosting;

/// <summary>Options of a <see cref="MoltHost"/>.</summary>
public sealed class MoltHostOptions
{
    /// <summary>
    /// How long every unit has to reach an update point once an update is requested. Past it the update is
    /// cancelled and the units go on in the old version. Default: 5 seconds.
    /// </summary>
    public TimeSpan QuiesceTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long the new version's start-up and its units have to reach their first update point. Past it
    /// the update rolls back. Default: 10 seconds.
    /// </summary>
    public TimeSpan RestartTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long the units have to end when the host stops. Default: 10 seconds.</summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Whether to JIT-compile the new version's code before the pause. Default: true.</summary>
    public bool PrepareCode { get; set; } = true;

    /// <summary>
    /// Whether to wait, before an update returns, for the old version to be collected (its context, or with
    /// <see cref="UnloadOldCode"/> off, the state its statics held). Default: true.
    /// </summary>
    public bool VerifyUnload { get; set; } = true;

    /// <summary>
    /// Whether each version's code is unloaded when an update retires it. Default: true: each version runs from a
    /// collectible context, whose memory returns once the version is collected. The runtime compiles code in a
    /// collectible context once, fully optimized, but never tiers it (no dynamic PGO, no recompilation once the
    /// program has run); CPU-bound program code measured 1.2 to 1.5 times slower per operation than the same
    /// code run standalone (docs/benchmarks.md). False: each version's code stays loaded for the life of the process
    /// (its code and the runtime's data about it, never returned; a failed update's too) and is tiered as a standalone program's is. The
    /// old version's state is still released: after the commit its static fields are cleared, and the update checks
    /// that what they held was collected. Turn it off only for a program whose updates report the old version
    /// unloaded with it on: that proves none of its code runs after it retires (a timer, a stray thread), which,
    /// with its statics cleared, would fail.
    /// </summary>
    public bool UnloadOldCode { get; set; } = true;

    /// <summary>
    /// Whether the program's own libraries (its project references; not NuGet packages) load once, each in a context of its
    /// own, and are shared by every version that ships the same build of one (same module version id, and the same builds of
    /// the program's libraries it references). Default: true. An update then passes the objects of a shared library's types
    /// by reference instead of rebuilding them — a program whose state types live in such a library pauses for a code-only
    /// update in constant time, whatever the state's size — and the library's statics are the same fields in both versions.
    /// A library unloads when the last version that uses it retires. False: each version loads its own copy of every library
    /// (the behaviour before shared libraries), and every object of their types is rebuilt at every update.
    /// </summary>
    public bool ShareLibraries { get; set; } = true;

    /// <summary>The clock for deadlines. Default: <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Where the host logs. Default: nowhere.</summary>
    public ILoggerFactory LoggerFactory { get; set; } = NullLoggerFactory.Instance;

    /// <summary>
    /// How many threads an update's transfer may use: the elements of a large collection (thousands of them) are split into
    /// chunks that threads transfer side by side, and the rebuilt hash collections are refilled side by side. 1 transfers on
    /// the updating thread alone, in the order the state is reached; the new version's state is the same either way.
    /// Default: <see cref="Environment.ProcessorCount"/>.
    /// </summary>
    public int TransferParallelism { get; set; } = Environment.ProcessorCount;

    /// <summary>
    /// The fewest elements of a collection that a parallel transfer splits across threads (<see cref="TransferParallelism"/>).
    /// Internal, for tests: 2 splits nearly everything, so that small states take the parallel path too.
    /// </summary>
    internal int TransferSplitMinimum { get; set; } = Transfer.StateTransfer.ParallelMinimum;

    /// <summary>
    /// Whether the transfer holds the garbage collector off while it runs (see <c>StateTransfer.HoldCollections</c>). Internal,
    /// for the benchmarks that measure what holding it saves.
    /// </summary>
    internal bool TransferHoldsCollections { get; set; } = true;

    /// <summary>Every update of this host through the state stream (<see cref="UpdateOptions.ThroughStream"/>). Internal, for tests.</summary>
    internal bool TransferThroughStream { get; set; }

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(QuiesceTimeout, TimeSpan.Zero, nameof(QuiesceTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(RestartTimeout, TimeSpan.Zero, nameof(RestartTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(StopTimeout, TimeSpan.Zero, nameof(StopTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(TransferParallelism, 1, nameof(TransferParallelism));
        ArgumentNullException.ThrowIfNull(TimeProvider);
        ArgumentNullException.ThrowIfNull(LoggerFactory);
    }
}
