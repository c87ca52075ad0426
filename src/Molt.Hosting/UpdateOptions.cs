namespace Molt.Hosting;

/// <summary>Settings of one update, over the host's <see cref="MoltHostOptions"/>.</summary>
public sealed class UpdateOptions
{
    /// <summary>This update's quiescence deadline, instead of <see cref="MoltHostOptions.QuiesceTimeout"/>.</summary>
    public TimeSpan? QuiesceTimeout { get; init; }

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

/// <summary>A phase of an update that has completed, and how long it took.</summary>
/// <param name="Phase">The phase.</param>
/// <param name="Elapsed">Its duration.</param>
public readonly record struct UpdateProgress(UpdatePhase Phase, TimeSpan Elapsed);
