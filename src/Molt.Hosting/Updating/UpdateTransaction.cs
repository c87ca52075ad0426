using System.Reflection;
using Microsoft.Extensions.Logging;
using Molt.Hosting.Loading;
using Molt.Hosting.Transfer;

namespace Molt.Hosting.Updating;

/// <summary>
/// One update, as a transaction. The order of its phases:
/// <list type="number">
/// <item>Prepare: load the new version, plan and compile the transfer, check compatibility on that plan (<see cref="CompatibilityReport"/>,
/// the report of <c>molt check</c>), JIT its code. The old version serves on; a failure or an incompatibility refuses the update.</item>
/// <item>Quiesce: every unit parks at an update point, within a deadline. The pause begins.</item>
/// <item>Transfer: statics and units' states become the new version's objects; after-transfer steps run.</item>
/// <item>State check: the new version's invariants over the migrated state.</item>
/// <item>Restart: the new version's Main runs with <see cref="Live.IsUpdating"/>, its units start and run to their first update point.</item>
/// <item>Commit: the old units retire, the new ones go on; the pause ends. Any failure in 2-5 rolls back instead: the new
/// version's units retire, the old ones go on with their state untouched.</item>
/// </list>
/// Unloading the old version happens after, in the host (<see cref="UnloadVerifier"/>). The host's <c>stopping</c> token is
/// cancelled when the program is asked to stop: the update then rolls back at its next step, as a caller's cancellation does.
/// </summary>
internal sealed class UpdateTransaction(
    ProgramSession session, ProgramVersion current, string newPath, string[] args, MoltHostOptions options, UpdateOptions update, ILogger logger,
    CancellationToken stopping = default)
{
    private readonly TimeProvider _time = options.TimeProvider;
    private readonly TimeSpan _quiesceTimeout = update.QuiesceTimeout ?? options.QuiesceTimeout;

    /// <summary>What a rollback needs to tell whether the new version changed state it shares with the old one: set once the transfer starts.</summary>
    private (StateTransfer Transfer, TransferPlan Plan, IReadOnlyList<(string Name, object State, string ParkedAt, UnitEntry Entry)> Parked)? _shared;

    public async Task<UpdateOutcomeData> ExecuteAsync(CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping);
        return await ExecuteCoreAsync(linked.Token).ConfigureAwait(false);
    }

    private async Task<UpdateOutcomeData> ExecuteCoreAsync(CancellationToken cancellationToken)
    {
        var result = new UpdateResult(current.Info, PlaceholderInfo());
        var phaseStart = _time.GetTimestamp();

        // 1. Prepare, while the old version serves.
        ProgramVersion incoming;
        TransferPlan plan;
        try
        {
            incoming = ProgramVersion.Load(newPath, current.Info.Generation + 1, _time, options.UnloadOldCode);
        }
        catch (UpdateFailedException e)
        {
            return Refused(result, e, phaseStart);
        }
        result = new UpdateResult(current.Info, incoming.Info);
        try
        {
            plan = TransferPlan.Plan(current, incoming);
            result.DroppedFields = [.. plan.DroppedFields.Distinct()];
            // The same check as `molt check`, on the same plan: an incompatible version is refused before the pause.
            var report = CompatibilityReport.Create(plan, session.UnitEntries());
            foreach (var warning in report.Findings.Where(f => f.Severity == Control.CheckSeverity.Warning))
            {
                Log.CheckWarning(logger, warning.Detail);
            }
            if (!report.Compatible)
            {
                throw new UpdateFailedException(UpdatePhase.Prepare, report.RefusalMessage);
            }
            if (options.PrepareCode)
            {
                incoming.PrepareCode();
                ProgramVersion.PrepareMoltCode();
            }
        }
        catch (Exception e)
        {
            return Refused(result, e as UpdateFailedException
                ?? new UpdateFailedException(UpdatePhase.Prepare, $"Preparing the new version failed: {Describe(e)}", Detach(e)), phaseStart, incoming.Retire());
        }
        result.PrepareTime = Phase(UpdatePhase.Prepare, ref phaseStart);

        // 2. Quiesce: the pause begins.
        var pauseStart = phaseStart;
        var arrived = session.RequestQuiescence();
        if (!await ArrivesAsync(arrived, _quiesceTimeout, cancellationToken).ConfigureAwait(false))
        {
            if (IsCancelled(cancellationToken))
            {
                return RollBack(result, incoming, pauseStart, phaseStart, Cancelled(UpdatePhase.Quiesce));
            }
            var late = session.UnitsNotArrived(incoming: false);
            return RollBack(result, incoming, pauseStart, phaseStart, new UpdateFailedException(UpdatePhase.Quiesce,
                $"The update was cancelled: {Units(late)} did not reach an update point within {_quiesceTimeout.TotalSeconds:0.###} s. " +
                $"{string.Join("; ", late.Select(DescribeLate))}. Each unit should pass Live.UpdateRequested to its blocking waits."));
        }
        result.QuiesceTime = Phase(UpdatePhase.Quiesce, ref phaseStart);

        // 3. Transfer and 4. state checks.
        var parked = session.ParkedUnits();
        List<MigratingUnit> migrating;
        var transfer = new StateTransfer(plan);
        _shared = (transfer, plan, parked);
        try
        {
            migrating = TransferState(plan, transfer, parked, result);
            CheckStateLeftBehind(plan, transfer, goingBack: update.IsRollback || IsOlder(incoming.Info, current.Info));
        }
        catch (UpdateFailedException e)
        {
            return RollBack(result, incoming, pauseStart, phaseStart, e);
        }
        finally
        {
            result.ObjectsRebuilt = transfer.ObjectsRebuilt;
            result.ReferencesPassed = transfer.ReferencesPassed;
            // A rollback from inside the transfer has already warned of shared state it changed: kept, after the transfer's own.
            result.Warnings = [.. transfer.Warnings, .. result.Warnings];
        }
        try
        {
            ThrowIfCancelled(cancellationToken, UpdatePhase.Transfer);
            RunStateChecks(plan.Map.Transformers);
            ThrowIfCancelled(cancellationToken, UpdatePhase.StateCheck);
        }
        catch (UpdateFailedException e)
        {
            return RollBack(result, incoming, pauseStart, phaseStart, e);
        }
        result.TransferTime = Phase(UpdatePhase.Transfer, ref phaseStart);

        // 5. Restart the units in the new version, up to their first update point.
        try
        {
            await RestartAsync(incoming, migrating, result, cancellationToken).ConfigureAwait(false);
        }
        catch (UpdateFailedException e)
        {
            return RollBack(result, incoming, pauseStart, phaseStart, e);
        }
        if (IsCancelled(cancellationToken))
        {
            // A stop (or the caller) asked while the new version started: it has not committed, so it still rolls back.
            return RollBack(result, incoming, pauseStart, phaseStart, Cancelled(UpdatePhase.Restart));
        }
        result.RestartTime = Phase(UpdatePhase.Restart, ref phaseStart);

        // 6. Commit: what both versions shared is the new version's now.
        _shared = null;
        var retiredThreads = session.Commit();
        result.PauseTime = _time.GetElapsedTime(pauseStart);
        result.Outcome = UpdateOutcome.Committed;
        result.ResumedUnits = [.. session.DescribeUnits().Where(u => u.ResumedFrom is not null).Select(u => $"{u.Name} (from '{u.ResumedFrom}')")];
        return new UpdateOutcomeData(result, incoming, retiredThreads);
    }

    private List<MigratingUnit> TransferState(TransferPlan plan, StateTransfer transfer, IReadOnlyList<(string Name, object State, string ParkedAt, UnitEntry Entry)> parked, UpdateResult result)
    {
        try
        {
            foreach (var statics in plan.Statics)
            {
                try
                {
                    statics.Copy(transfer);
                }
                catch (InvalidCastException e)
                {
                    throw transfer.ExplainMisfit(statics.Copies, null, e);
                }
                result.StaticsMigrated += statics.Copies.Count;
            }
            var migrating = parked
                .Select(u => new MigratingUnit(u.Name, transfer.TransferObject(u.State)!, u.ParkedAt, u.Entry.DeclaringTypeName, u.Entry.Method.Name, u.Entry.OnThread))
                .ToList();
            transfer.Drain();
            transfer.CompleteReads = true;
            foreach (var step in plan.Map.Transformers.AfterTransfer)
            {
                try
                {
                    step.Invoke(null, [new OldVersion(transfer)]);
                }
                catch (TargetInvocationException e) when (e.InnerException is { } inner and not StateTransferException)
                {
                    throw new UpdateFailedException(UpdatePhase.Transfer,
                        $"The new version's after-transfer step {step.DeclaringType?.Name}.{step.Name} threw {Describe(inner)}", Detach(inner));
                }
                transfer.Drain();
            }
            return migrating;
        }
        catch (Exception e) when (Unwrap(e) is StateTransferException failure)
        {
            var path = failure.Offender is null ? null : StatePathFinder.Find(StatePathFinder.Roots(plan.Map, parked.Select(u => (u.Name, u.State))), failure.Offender, plan.Map);
            var what = failure.Offender is null ? "Some state" : $"A {TypeFacts.Describe(failure.Offender.GetType())}";
            throw new UpdateFailedException(UpdatePhase.Transfer,
                $"{what} cannot cross to the new version{(path is null ? "" : $" (at {path})")}: {failure.Message}.",
                failure.InnerException is { } inner ? Detach(inner) : null, path);
        }
        catch (Exception e) when (e is not UpdateFailedException)
        {
            // Anything else must still roll back: an exception that escaped here would leave the old version paused.
            throw new UpdateFailedException(UpdatePhase.Transfer, $"Transferring the state failed: {Describe(e)}", Detach(e));
        }
    }

    /// <summary>
    /// State that stays in the old version: a static the new version has no place for, holding a non-empty collection or
    /// program objects, that no transformer read. Going forward the new version's author chose to drop it (the check lists
    /// it), so it is a warning; going back — a rollback, or an update to a lower assembly version — the older version cannot
    /// know the newer one's state, so nobody chose: the update fails and the newer version runs on, rather than losing, say,
    /// a restructured keyspace.
    /// </summary>
    private static void CheckStateLeftBehind(TransferPlan plan, StateTransfer transfer, bool goingBack)
    {
        var behind = plan.DroppedStatics
            .Where(f => !transfer.StaticsRead.Contains(f))
            .Select(f => (Field: f, Held: DescribeHeld(f.GetValue(null), plan)))
            .Where(d => d.Held is not null)
            .Select(d => $"static {TypeFacts.Describe(d.Field.DeclaringType!)}.{TypeFacts.LogicalName(d.Field)} ({d.Held})")
            .ToList();
        if (behind.Count == 0)
        {
            return;
        }
        if (goingBack)
        {
            throw new UpdateFailedException(UpdatePhase.Transfer,
                $"Going back to an older version would lose state: {string.Join(", ", behind)} {(behind.Count == 1 ? "has" : "have")} no place in the older version " +
                "and nothing in it reads them (the newer version moved that state where the older one cannot know to look). " +
                "To go back, update to a build of the older version with an [AfterTransfer] step that reads it.");
        }
        foreach (var item in behind)
        {
            transfer.Warn($"{item} was dropped and no transformer read it: that state is not in the new version.");
        }
    }

    /// <summary>An update to a lower assembly version is a downgrade, whatever path it came by.</summary>
    private static bool IsOlder(ProgramVersionInfo incoming, ProgramVersionInfo running) =>
        Version.TryParse(incoming.Version, out var a) && Version.TryParse(running.Version, out var b) && a < b;

    /// <summary>What a dropped static holds, when it is state worth keeping: a non-empty collection, or program objects.</summary>
    private static string? DescribeHeld(object? value, TransferPlan plan)
    {
        switch (value)
        {
            case null or string:
                return null;
            case System.Collections.IEnumerable items:
                // Not every collection is a non-generic ICollection (HashSet<T> is not): its Count property, or whether it has any item.
                var count = value is System.Collections.ICollection collection ? collection.Count
                    : value.GetType().GetProperty("Count")?.GetValue(value) is int counted ? counted
                    : items.Cast<object?>().Any() ? -1 : 0;
                return count == 0 ? null : $"a {TypeFacts.Describe(value.GetType())}{(count > 0 ? $" of {count}" : "")}";
            default:
                return plan.Map.Old.Owns(value.GetType().Assembly) ? $"a {TypeFacts.Describe(value.GetType())}" : null;
        }
    }

    private static void RunStateChecks(TransformerSet transformers)
    {
        foreach (var (method, description) in transformers.StateChecks)
        {
            object? passed;
            try
            {
                passed = method.Invoke(null, null);
            }
            catch (TargetInvocationException e) when (e.InnerException is { } inner)
            {
                throw new UpdateFailedException(UpdatePhase.StateCheck, $"State check '{description}' failed: {Describe(inner)}", Detach(inner));
            }
            if (passed is false)
            {
                throw new UpdateFailedException(UpdatePhase.StateCheck, $"State check '{description}' returned false.");
            }
        }
    }

    private async Task RestartAsync(ProgramVersion incoming, List<MigratingUnit> migrating, UpdateResult result, CancellationToken cancellationToken)
    {
        var deadline = _time.GetTimestamp();
        session.BeginRestart(migrating);
        try
        {
            await incoming.RunEntryPointAsync(session, args, isUpdating: true)
                .WaitAsync(options.RestartTimeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new UpdateFailedException(UpdatePhase.Restart,
                $"The new version's start-up (its Main) did not return within {options.RestartTimeout.TotalSeconds:0.###} s.");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw Cancelled(UpdatePhase.Restart);
        }
        catch (Exception e)
        {
            throw new UpdateFailedException(UpdatePhase.Restart, $"The new version's start-up (its Main) threw {Describe(e)}", Detach(e));
        }
        var dropped = new List<string>();
        foreach (var unit in session.TakeUnclaimedMigratingUnits())
        {
            UnitEntry? entry;
            try
            {
                entry = UnitEntry.Resolve(unit.EntryTypeName, unit.EntryMethodName, unit.OnThread, name => incoming.FindType(name));
            }
            catch (ArgumentException e)
            {
                throw new UpdateFailedException(UpdatePhase.Restart, $"Unit '{unit.Name}' cannot resume in the new version: {e.Message}");
            }
            if (entry is null)
            {
                dropped.Add(unit.Name);
                continue;
            }
            try
            {
                session.ResumeUnit(unit, entry);
            }
            catch (ArgumentException e)
            {
                throw new UpdateFailedException(UpdatePhase.Restart, $"Unit '{unit.Name}' cannot resume in the new version: {e.Message}");
            }
        }
        result.DroppedUnits = dropped;
        var left = options.RestartTimeout - _time.GetElapsedTime(deadline);
        var arrived = left > TimeSpan.Zero && await ArrivesAsync(session.AwaitRestartArrival(), left, cancellationToken).ConfigureAwait(false);
        if (session.RestartFault is { } fault)
        {
            throw new UpdateFailedException(UpdatePhase.Restart,
                $"Unit '{fault.Unit}' of the new version threw {Describe(fault.Error)} before reaching its first update point", Detach(fault.Error));
        }
        if (!arrived && IsCancelled(cancellationToken))
        {
            throw Cancelled(UpdatePhase.Restart);
        }
        if (!arrived)
        {
            var late = session.UnitsNotArrived(incoming: true);
            throw new UpdateFailedException(UpdatePhase.Restart,
                $"{Units(late)} of the new version did not reach an update point within {options.RestartTimeout.TotalSeconds:0.###} s: " +
                string.Join(", ", late.Select(u => $"'{u.Name}'")) + ".");
        }
    }

    private async Task<bool> ArrivesAsync(Task arrival, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await arrival.WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private UpdateFailedException Cancelled(UpdatePhase phase) => stopping.IsCancellationRequested
        ? new(phase, "The update was cancelled: the program is stopping. It rolled back, and the old version stops as it was.")
        : new(phase, "The update was cancelled by its caller; the old version goes on.");

    /// <summary>A cancellation seen between two steps of the pause: the update rolls back before the new version does more.</summary>
    private void ThrowIfCancelled(CancellationToken cancellationToken, UpdatePhase phase)
    {
        if (IsCancelled(cancellationToken))
        {
            throw Cancelled(phase);
        }
    }

    /// <summary>
    /// Whether the caller or a stop asked to cancel. The stop is read at its source: the token linked to it is cancelled by
    /// a callback, which may not have run yet when the stop has been asked for.
    /// </summary>
    private bool IsCancelled(CancellationToken cancellationToken) => cancellationToken.IsCancellationRequested || stopping.IsCancellationRequested;

    private UpdateOutcomeData RollBack(UpdateResult result, ProgramVersion incoming, long pauseStart, long phaseStart, UpdateFailedException failure)
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
        // Before the old units go on: what both versions share goes back to what it was (or the failure says it could not).
        failure = RestoreSharedState(failure, result);
        session.Rollback();
        result.PauseTime = _time.GetElapsedTime(pauseStart);
        result.Outcome = UpdateOutcome.RolledBack;
        result.Failure = failure;
        _shared = null;
        return new UpdateOutcomeData(result, null, [], incoming.Retire());
    }

    /// <summary>
    /// The collections both versions share (passed by reference) belong to the old version until the commit: each one
    /// snapshotted is put back as it was (<see cref="SharedStateLedger"/>). One that changed and could not be snapshotted
    /// (past the update's snapshot budget) cannot be undone, and the old version is not resumed on it in silence: the
    /// failure says so and where, and the result warns.
    /// </summary>
    private UpdateFailedException RestoreSharedState(UpdateFailedException failure, UpdateResult result)
    {
        if (_shared is not { } shared)
        {
            return failure;
        }
        var changed = shared.Transfer.SharedObjects!.Restore();
        if (changed.Count == 0)
        {
            return failure;
        }
        const int Named = 5;
        var roots = StatePathFinder.Roots(shared.Plan.Map, shared.Parked.Select(u => (u.Name, u.State))).ToList();
        var named = changed.Take(Named)
            .Select(o => $"{StatePathFinder.Find(roots, o, shared.Plan.Map) ?? "an object reached by the transfer"} (a {TypeFacts.Describe(o.GetType())})")
            .ToList();
        var what = string.Join(", ", named) + (changed.Count > Named ? $" and {changed.Count - Named} more" : "");
        var warning = $"The new version changed state that it shares with the old version before the update rolled back, and that change cannot be undone " +
            $"(past the {SharedStateLedger.SnapshotBudgetBytes >> 20} MiB that an update snapshots to undo such changes): " +
            $"{what}. The old version goes on with {(changed.Count == 1 ? "that change" : "those changes")}: check that state, or restart the program from a state you trust. " +
            "(A transformer, [AfterTransfer] step, [StateCheck] or the new version's start-up must not change objects passed by reference.)";
        result.Warnings = [.. result.Warnings, warning];
        Log.SharedStateChanged(logger, warning);
        return new UpdateFailedException(failure.Phase, $"{failure.Message} {warning}", failure.InnerException, failure.StatePath);
    }

    private UpdateOutcomeData Refused(UpdateResult result, UpdateFailedException failure, long phaseStart, RetiredVersion? failed = null)
    {
        result.PrepareTime = _time.GetElapsedTime(phaseStart);
        result.Outcome = UpdateOutcome.Refused;
        result.Failure = failure;
        return new UpdateOutcomeData(result, null, [], failed);
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
        new(Path.GetFullPath(newPath), Path.GetFileNameWithoutExtension(newPath), "?", new string('0', 64), current.Info.Generation + 1, _time.GetUtcNow());

    private string DescribeLate(UnitInfo unit)
    {
        var ago = (_time.GetUtcNow() - unit.LastSeenTime).TotalSeconds;
        return unit.LastSeenAt is null
            ? $"unit '{unit.Name}' has not reached an update point since it started {ago:0.0} s ago"
            : $"unit '{unit.Name}' was last seen at update point '{unit.LastSeenAt}' {ago:0.0} s ago";
    }

    private static string Units(IReadOnlyList<UnitInfo> units) => units.Count == 1 ? "1 unit" : $"{units.Count} units";

    private static Exception Unwrap(Exception e) => e is TargetInvocationException { InnerException: { } inner } ? inner : e;

    private static string Describe(Exception e) => $"{Unwrap(e).GetType().Name}: {Unwrap(e).Message}";

    /// <summary>
    /// A copy of an exception that holds no reference to the code that threw it: an exception's stack trace
    /// keeps a collectible version's code alive, and a rolled-back version must be collected.
    /// </summary>
    private static Exception Detach(Exception e) => new ProgramException(Unwrap(e));
}

/// <summary>
/// What a transaction hands back to the host; with <c>Failed</c>, the version that was refused or rolled back, retired (the
/// host proves it is collected), null when it committed or was never loaded.
/// </summary>
internal sealed record UpdateOutcomeData(
    UpdateResult Result, ProgramVersion? Committed, List<(string Name, WeakReference<Thread> Thread)> RetiredThreads, RetiredVersion? Failed = null);
