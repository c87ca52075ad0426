namespace Molt.Hosting;

/// <summary>Settings of one update, over the host's <see cref="MoltHostOptions"/>.</summary>
public sealed class UpdateOptions
{
    /// <summary>This update's quiescence deadline, instead of <see cref="MoltHostOptions.QuiesceTimeout"/>.</summary>
    public TimeSpan? QuiesceTimeout { get; init; }

    /// <summary>
    /// Where the update runs. <see cref="UpdateMechanism.InProcess"/> (the default): the new version is loaded into this
    /// process. <see cref="UpdateMechanism.NewProcess"/>: the new version starts in a new process, which receives the state and
    /// the sockets; this process exits once it serves. Only a program run by <c>molt run</c> can be updated across processes
    /// (its supervisor starts the new process); elsewhere such an update is refused.
    /// </summary>
    public UpdateMechanism Mechanism { get; init; }

    /// <summary>
    /// For a process update: environment variables to set (or, with a null value, remove) for the new process, over this
    /// process's own; for example <c>DOTNET_GCHeapHardLimit</c>. Later process updates inherit them.
    /// </summary>
    public IReadOnlyDictionary<string, string?>? Environment { get; init; }

    /// <summary>For a process update: the Molt host (its <c>Molt.Cli.dll</c>) the new process runs; default: the one this process was started from.</summary>
    public string? HostPath { get; init; }

    /// <summary>Told of each phase as it completes (prepare, quiesce, transfer, restart, unload).</summary>
    public IProgress<UpdateProgress>? Progress { get; init; }

    /// <summary>
    /// Set by <see cref="MoltHost.RollbackAsync"/>: going back to a version that cannot know the newer one's state, an
    /// update that would leave state behind fails (and the newer version runs on) instead of warning.
    /// </summary>
    internal bool IsRollback { get; init; }

    /// <summary>
    /// Issue 11's state stream, proven in one process: the quiesced old state is written to a stream, read into the old version
    /// loaded anew, and transferred from those objects (the live old objects stay untouched). Internal, for tests.
    /// </summary>
    internal bool ThroughStream { get; init; }
}

/// <summary>Where an update runs.</summary>
public enum UpdateMechanism
{
    /// <summary>In the running process: the new version is loaded beside the old one, and the state transferred object by object.</summary>
    InProcess,

    /// <summary>In a new process: the state crosses as a stream, the sockets as descriptors; the old process exits once the new one serves.</summary>
    NewProcess,
}

/// <summary>A phase of an update that has completed, and how long it took.</summary>
/// <param name="Phase">The phase.</param>
/// <param name="Elapsed">Its duration.</param>
public readonly record struct UpdateProgress(UpdatePhase Phase, TimeSpan Elapsed);
