using Microsoft.Extensions.Logging;

namespace Molt.Hosting.Updating;

/// <summary>
/// One update, as a transaction: drives its phases in the order <see cref="UpdateLifecycle"/> states (each step is a
/// checked transition of the host's lifecycle), has a mechanism (<see cref="IUpdateMechanism"/>) do each phase's work,
/// measures and reports each phase, and decides: a failure in prepare refuses the update, a failure from quiesce to restart
/// rolls it back. A failed update never throws: it ends Refused or RolledBack with the phase, the cause and, where state
/// could not cross, the path to it. The host's <c>stopping</c> token is cancelled when the program is asked to stop: the
/// update then rolls back at its next step, as a caller's cancellation does.
/// </summary>
internal sealed class UpdateTransaction(
    UpdateLifecycle lifecycle, IUpdateMechanism mechanism, ProgramVersionInfo running, string newPath, MoltHostOptions options, UpdateOptions update,
    ILogger logger, CancellationToken stopping = default)
{
    private readonly TimeProvider _time = options.TimeProvider;

    /// <summary>Phases 1 to 6: ends in <see cref="UpdateState.Committing"/>, or in <see cref="UpdateState.Releasing"/> when refused, or <see cref="UpdateState.RollingBack"/>.</summary>
    public async Task<UpdateResult> ExecuteAsync(CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping);
        return await ExecuteCoreAsync(new UpdateCancellation(linked.Token, stopping)).ConfigureAwait(false);
    }

    /// <summary>Phase 7: releases the version that no longer runs; the lifecycle then serves again (the host finishes it).</summary>
    public async Task ReleaseAsync(UpdateResult result)
    {
        if (lifecycle.State != UpdateState.Releasing)
        {
            lifecycle.Fire(UpdateEvent.Release);
        }
        await mechanism.ReleaseAsync(result).ConfigureAwait(false);
    }

    private async Task<UpdateResult> ExecuteCoreAsync(UpdateCancellation cancellation)
    {
        var result = new UpdateResult(running, PlaceholderInfo());
        var phaseStart = _time.GetTimestamp();

        // 1. Prepare, while the old version serves.
        try
        {
            result = new UpdateResult(running, await mechanism.LoadAsync().ConfigureAwait(false));
            var loaded = result;
            await HostThread.Run(() => mechanism.Prepare(loaded)).ConfigureAwait(false);
        }
        catch (UpdateFailedException e)
        {
            return Refused(result, e, phaseStart);
        }
        result.PrepareTime = Phase(UpdatePhase.Prepare, ref phaseStart);

        // 2. Quiesce: the pause begins.
        var pauseStart = phaseStart;
        lifecycle.Fire(UpdateEvent.Quiesce);
        try
        {
            await mechanism.QuiesceAsync(cancellation).ConfigureAwait(false);
        }
        catch (UpdateFailedException e)
        {
            return RollBack(result, pauseStart, phaseStart, e);
        }
        result.QuiesceTime = Phase(UpdatePhase.Quiesce, ref phaseStart);

        // 3. Transfer and 4. state checks.
        lifecycle.Fire(UpdateEvent.Transfer);
        try
        {
            mechanism.Transfer(result);
            cancellation.ThrowIfRequested(UpdatePhase.Transfer);
            lifecycle.Fire(UpdateEvent.CheckState);
            mechanism.CheckState();
            cancellation.ThrowIfRequested(UpdatePhase.StateCheck);
        }
        catch (UpdateFailedException e)
        {
            return RollBack(result, pauseStart, phaseStart, e);
        }
        result.TransferTime = Phase(UpdatePhase.Transfer, ref phaseStart);

        // 5. Restart the units in the new version, up to their first update point.
        lifecycle.Fire(UpdateEvent.Restart);
        try
        {
            await mechanism.RestartAsync(result, cancellation).ConfigureAwait(false);
        }
        catch (UpdateFailedException e)
        {
            return RollBack(result, pauseStart, phaseStart, e);
        }
        if (cancellation.IsRequested)
        {
            // A stop (or the caller) asked while the new version started: it has not committed, so it still rolls back.
            return RollBack(result, pauseStart, phaseStart, cancellation.Failure(UpdatePhase.Restart));
        }
        result.RestartTime = Phase(UpdatePhase.Restart, ref phaseStart);

        // 6. Commit.
        lifecycle.Commit(running);
        // Set before the mechanism commits: a process update sends the result to the new process as it commits.
        result.PauseTime = _time.GetElapsedTime(pauseStart);
        result.Outcome = UpdateOutcome.Committed;
        mechanism.Commit(result);
        return result;
    }

    private UpdateResult RollBack(UpdateResult result, long pauseStart, long phaseStart, UpdateFailedException failure)
    {
        // The phase that failed ran until now: the result says what it cost too, not 0 (the phases before it were
        // recorded as they ended).
        var failedPhase = _time.GetElapsedTime(phaseStart);
        switch (failure.Phase)
        {
            case UpdatePhase.Quiesce:
                result.QuiesceTime = failedPhase;
                break;
            case UpdatePhase.Transfer or UpdatePhase.StateCheck:
                result.TransferTime = failedPhase;
                break;
            case UpdatePhase.Restart:
                result.RestartTime = failedPhase;
                break;
        }
        lifecycle.Fire(UpdateEvent.RollBack);
        failure = mechanism.RollBack(failure, result);
        result.PauseTime = _time.GetElapsedTime(pauseStart);
        result.Outcome = UpdateOutcome.RolledBack;
        result.Failure = failure;
        return result;
    }

    private UpdateResult Refused(UpdateResult result, UpdateFailedException failure, long phaseStart)
    {
        lifecycle.Fire(UpdateEvent.Refuse);
        result.PrepareTime = _time.GetElapsedTime(phaseStart);
        result.Outcome = UpdateOutcome.Refused;
        result.Failure = failure;
        return result;
    }

    private TimeSpan Phase(UpdatePhase phase, ref long start)
    {
        var now = _time.GetTimestamp();
        var elapsed = _time.GetElapsedTime(start, now);
        start = now;
        Log.PhaseDone(logger, phase, elapsed.TotalMilliseconds);
        update.Progress?.Report(new UpdateProgress(phase, elapsed));
        return elapsed;
    }

    private ProgramVersionInfo PlaceholderInfo() =>
        new(Path.GetFullPath(newPath), Path.GetFileNameWithoutExtension(newPath), "?", new string('0', 64), running.Generation + 1, _time.GetUtcNow());
}
