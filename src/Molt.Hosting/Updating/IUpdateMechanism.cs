namespace Molt.Hosting.Updating;

/// <summary>
/// How an update does the work of each phase: in the running process (<see cref="InProcessUpdate"/>), or later in a new
/// process. The order of the phases, and what may follow what, is <see cref="UpdateLifecycle"/>'s; the driver
/// (<see cref="UpdateTransaction"/>) calls these in that order, measures each phase, and decides between commit and rollback.
/// </summary>
/// <remarks>
/// A phase that fails throws <see cref="UpdateFailedException"/> with its phase and the cause in words, and nothing else:
/// the driver turns it into a refusal (prepare) or a rollback (quiesce to restart). A failed update never throws out of the host.
/// </remarks>
internal interface IUpdateMechanism
{
    /// <summary>Phase 1, first step: loads the new version (the old one serves on); nothing needs releasing when it fails.</summary>
    /// <remarks>Asynchronous because a process update waits here for the new process to start and prepare (seconds, off the thread pool).</remarks>
    Task<ProgramVersionInfo> LoadAsync();

    /// <summary>Phase 1: plans the transfer, checks compatibility on that plan, compiles what it can; a failure refuses the update.</summary>
    void Prepare(UpdateResult result);

    /// <summary>Phase 2: every unit parks at an update point within the deadline; the pause begins.</summary>
    Task QuiesceAsync(UpdateCancellation cancellation);

    /// <summary>Phase 3: the old state becomes the new version's objects, and the after-transfer steps run.</summary>
    void Transfer(UpdateResult result);

    /// <summary>Phase 4: the new version's state checks over the migrated state.</summary>
    void CheckState();

    /// <summary>Phase 5: the new version's start-up, then its units up to their first update point.</summary>
    Task RestartAsync(UpdateResult result, UpdateCancellation cancellation);

    /// <summary>Phase 6, on success: the old units retire, the new ones go on.</summary>
    void Commit(UpdateResult result);

    /// <summary>Phase 6, on a failure in phases 2-5: the new units retire and the old ones go on with their state as it was.</summary>
    /// <returns>The failure, told more when something could not be put back.</returns>
    UpdateFailedException RollBack(UpdateFailedException failure, UpdateResult result);

    /// <summary>Phase 7: releases the version that no longer runs (the old one after a commit, else the new one) and verifies it is gone.</summary>
    Task ReleaseAsync(UpdateResult result);
}

/// <summary>
/// Whether the caller or a stop asked to cancel an update in flight, and the words for it. The stop is read at its
/// source: the token linked to it is cancelled by a callback, which may not have run yet when the stop has been asked for.
/// </summary>
internal sealed class UpdateCancellation(CancellationToken token, CancellationToken stopping)
{
    /// <summary>The caller's token linked with the stop.</summary>
    public CancellationToken Token { get; } = token;

    public bool IsRequested => Token.IsCancellationRequested || stopping.IsCancellationRequested;

    public UpdateFailedException Failure(UpdatePhase phase) => stopping.IsCancellationRequested
        ? new(phase, "The update was cancelled: the program is stopping. It rolled back, and the old version stops as it was.")
        : new(phase, "The update was cancelled by its caller; the old version goes on.");

    /// <summary>A cancellation seen between two steps of the pause: the update rolls back before the new version does more.</summary>
    public void ThrowIfRequested(UpdatePhase phase)
    {
        if (IsRequested)
        {
            throw Failure(phase);
        }
    }
}
