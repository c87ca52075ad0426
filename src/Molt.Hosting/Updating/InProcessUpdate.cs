using System.Reflection;
using Microsoft.Extensions.Logging;
using Molt.Hosting.Loading;
using Molt.Hosting.Transfer;
using Molt.Hosting.Transfer.Stream;

namespace Molt.Hosting.Updating;

/// <summary>
/// The in-process mechanism: the new version is loaded into a context of its own in this process, the old state is
/// transferred object by object into its types, and its units restart on this process's <see cref="ProgramSession"/>.
/// The phases' order is <see cref="UpdateLifecycle"/>'s.
/// </summary>
/// <remarks>
/// It holds both versions while the update runs; <see cref="ReleaseAsync"/> drops every reference to them before it proves
/// the one that no longer runs collected (a field left set here would keep that version alive).
/// </remarks>
internal sealed class InProcessUpdate(
    ProgramSession session, ProgramVersion current, string newPath, string[] args, MoltHostOptions options, UpdateOptions update, ILogger logger)
    : IUpdateMechanism
{
    /// <summary>How long, with old code kept, the retired version's thread units get to finish unwinding before its statics are cleared.</summary>
    private static readonly TimeSpan RetiredThreadsWait = TimeSpan.FromSeconds(2);

    private readonly TimeProvider _time = options.TimeProvider;
    private readonly TimeSpan _quiesceTimeout = update.QuiesceTimeout ?? options.QuiesceTimeout;

    private ProgramVersion? _current = current;
    private ProgramVersion? _incoming;
    private TransferPlan? _plan;
    private List<MigratingUnit>? _migrating;
    private List<(string Name, WeakReference<Thread> Thread)> _retiredThreads = [];
    private bool _committed;

    /// <summary>The old version loaded anew to read a state stream into (<see cref="UpdateOptions.ThroughStream"/>), retired after the transfer.</summary>
    private RetiredVersion? _reloaded;

    /// <summary>What a rollback needs to tell whether the new version changed state it shares with the old one: set once the transfer starts.</summary>
    private (StateTransfer Transfer, TransferPlan Plan, IReadOnlyList<MigratingUnit> Parked)? _shared;

    /// <summary>
    /// In the new process of a process update: the old state comes from the old process's state stream, read into the old
    /// version loaded anew (which is <c>current</c> here: loaded for its types only), instead of from the session's parked units
    /// (the session of a new process has none). Called in the transfer phase; it waits for the stream.
    /// </summary>
    internal Func<StreamedState>? StateFromStream { get; init; }

    /// <summary>In the new process of a process update: the old process's units, for the check before the pause.</summary>
    internal IReadOnlyList<(string Name, object State, UnitEntry Entry, string? LastSeenAt)>? OldUnits { get; set; }

    /// <summary>Loads the new version into a context that is not collectible, whatever the host's options: its code is tiered as a standalone program's.</summary>
    internal bool LoadTiered { get; init; }

    /// <summary>The new version, loaded; after a commit, the one that runs.</summary>
    public ProgramVersion Incoming => _incoming ?? throw new InvalidOperationException("The new version has not been loaded, or has been released.");

    private ProgramVersion Current => _current ?? throw new InvalidOperationException("The old version has been released.");

    private TransferPlan Plan => _plan ?? throw new InvalidOperationException("The transfer has not been planned.");

    public Task<ProgramVersionInfo> LoadAsync() => HostThread.Run(Load);

    private ProgramVersionInfo Load()
    {
        _incoming = ProgramVersion.Load(newPath, Current.Info.Generation + 1, _time, collectible: options.UnloadOldCode && !LoadTiered,
            libraries: Current.Libraries);
        return _incoming.Info;
    }

    public void Prepare(UpdateResult result)
    {
        try
        {
            _plan = TransferPlan.Plan(Current, Incoming);
            result.DroppedFields = [.. _plan.DroppedFields.Distinct()];
            result.SharedLibraries = [.. _plan.Map.SharedAssemblies.Select(SharedLibrary.Describe).Order(StringComparer.Ordinal)];
            // The same check as `molt check`, on the same plan: an incompatible version is refused before the pause.
            var report = CompatibilityReport.Create(_plan, OldUnits ?? session.UnitEntries(), acrossProcesses: StateFromStream is not null);
            foreach (var warning in report.Findings.Where(f => f.Severity == Control.CheckSeverity.Warning))
            {
                Log.CheckWarning(logger, warning.Detail);
            }
            if (!report.Compatible)
            {
                throw new UpdateFailedException(UpdatePhase.Prepare, report.RefusalMessage);
            }
            if (StateFromStream is null)
            {
                ResolveEntries(session.UnitEntries().Select(u => u.Entry));
            }
            if (options.PrepareCode)
            {
                var rewritten = _plan.SharedStatics.ToHashSet();
                Incoming.PrepareCode(f => _plan.Map.IsShared(f.DeclaringType!) && !rewritten.Contains(f));
                ProgramVersion.PrepareMoltCode();
            }
        }
        catch (Exception e) when (e is not UpdateFailedException)
        {
            throw new UpdateFailedException(UpdatePhase.Prepare, $"Preparing the new version failed: {Describe(e)}", Detach(e));
        }
    }

    public Task QuiesceAsync(UpdateCancellation cancellation) => ParkUnitsAsync(session, _quiesceTimeout, _time, cancellation);

    /// <summary>Phase 2 in the process that runs the program, whatever the mechanism: every unit parks within the deadline, or the update is cancelled with words on the late ones.</summary>
    internal static async Task ParkUnitsAsync(ProgramSession session, TimeSpan timeout, TimeProvider time, UpdateCancellation cancellation)
    {
        var arrived = session.RequestQuiescence();
        if (!await ArrivesAsync(arrived, timeout, time, cancellation.Token).ConfigureAwait(false))
        {
            if (cancellation.IsRequested)
            {
                throw cancellation.Failure(UpdatePhase.Quiesce);
            }
            var late = session.UnitsNotArrived(incoming: false);
            throw new UpdateFailedException(UpdatePhase.Quiesce,
                $"The update was cancelled: {Units(late)} did not reach an update point within {timeout.TotalSeconds:0.###} s. " +
                $"{string.Join("; ", late.Select(u => DescribeLate(u, time)))}. Each unit should pass Live.UpdateRequested to its blocking waits.");
        }
    }

    public void Transfer(UpdateResult result)
    {
        if (StateFromStream is { } streamed)
        {
            TransferFromStream(result, streamed);
            return;
        }
        if (update.ThroughStream || options.TransferThroughStream)
        {
            TransferThroughStream(result);
            return;
        }
        var plan = Plan;
        var parked = session.ParkedUnits().Select(u => new MigratingUnit(u.Name, u.State, u.ParkedAt, u.Entry.DeclaringTypeName, u.Entry.Method.Name, u.Entry.OnThread)).ToList();
        var transfer = NewTransfer(plan, watchSharedState: true);
        _shared = (transfer, plan, parked);
        RunTransfer(plan, transfer, parked, result);
    }

    /// <summary>A transfer by <paramref name="plan"/> on as many threads as the host's options allow.</summary>
    private StateTransfer NewTransfer(TransferPlan plan, bool watchSharedState, IOldStatics? oldStatics = null) =>
        new(plan, watchSharedState, options.TransferParallelism, options.TransferSplitMinimum) { OldStatics = oldStatics };

    /// <summary>The transfer of the units and statics by <paramref name="plan"/>, whatever the old objects came from; its counts and warnings recorded, failed or not.</summary>
    private void RunTransfer(TransferPlan plan, StateTransfer transfer, IReadOnlyList<MigratingUnit> units, UpdateResult result)
    {
        try
        {
            using (options.TransferHoldsCollections ? StateTransfer.HoldCollections() : null)
            {
                _migrating = TransferState(plan, transfer, units, result);
            }
            CheckStateLeftBehind(plan, transfer, goingBack: update.IsRollback || IsOlder(Incoming.Info, Current.Info));
        }
        finally
        {
            result.ObjectsRebuilt = transfer.ObjectsRebuilt;
            result.ReferencesPassed = transfer.ReferencesPassed;
            // Before the rollback's own warnings, if it rolls back: the transfer's come first.
            result.Warnings = [.. transfer.Warnings, .. result.Warnings];
        }
    }

    /// <summary>
    /// Issue 11's transfer, in one process: the quiesced old state is written as a state stream, read into the old version
    /// loaded anew (for its types only), and transferred from those objects by the same plan, copiers and transformers. The live
    /// old objects are only read, and nothing is shared with the new version: a rollback resumes them as they are.
    /// </summary>
    private void TransferThroughStream(UpdateResult result)
    {
        var parked = session.ParkedUnits();
        var live = Plan;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        StateStream stream;
        try
        {
            var statics = live.Map.Old.StaticHolders().SelectMany(TypeFacts.StaticFields).ToList();
            stream = StateWriter.Write(Current, statics, [.. parked.Select(u => (u.Name, u.State))]);
        }
        catch (StateTransferException failure)
        {
            var path = failure.Offender is null ? null : StatePathFinder.Find(StatePathFinder.Roots(live.Map, parked.Select(u => (u.Name, u.State))), failure.Offender, live.Map);
            var what = failure.Offender is null ? "Some state" : $"A {TypeFacts.Describe(failure.Offender.GetType())}";
            throw new UpdateFailedException(UpdatePhase.Transfer,
                $"{what} cannot be written to the state stream{(path is null ? "" : $" (at {path})")}: {failure.Message}.", null, path);
        }
        result.StreamBytes = stream.Bytes.Length;
        result.StreamWriteTime = clock.Elapsed;
        var reloaded = ProgramVersion.Load(Current.Info.AssemblyPath, Current.Info.Generation, _time, collectible: true, typesOnly: true);
        try
        {
            clock.Restart();
            StateReader reader;
            try
            {
                reader = StateReader.Read(stream, reloaded);
            }
            catch (StateStreamException e)
            {
                throw new UpdateFailedException(UpdatePhase.Transfer, $"Reading the state stream failed: {e.Message}.");
            }
            result.StreamReadTime = clock.Elapsed;
            var plan = TransferPlan.Plan(reloaded, Incoming);
            var units = parked.Zip(reader.Units, (u, r) => new MigratingUnit(u.Name, r.State, u.ParkedAt, u.Entry.DeclaringTypeName, u.Entry.Method.Name, u.Entry.OnThread)).ToList();
            RunTransfer(plan, NewTransfer(plan, watchSharedState: false, reader), units, result);
        }
        finally
        {
            // Only its types were needed: it goes now, and is proven collected with the version that no longer runs.
            _reloaded = reloaded.Retire();
        }
    }

    /// <summary>
    /// The new process's transfer: the old process's state, read from its stream into the old version loaded anew (this
    /// mechanism's current version), crosses by the same plan, copiers and transformers as in one process.
    /// </summary>
    private void TransferFromStream(UpdateResult result, Func<StreamedState> streamed)
    {
        var state = streamed();
        var plan = Plan;
        var units = state.Units.Zip(state.Reader.Units, (u, r) => new MigratingUnit(u.Name, r.State, u.ParkedAt, u.EntryTypeName, u.EntryMethodName, u.OnThread)).ToList();
        RunTransfer(plan, NewTransfer(plan, watchSharedState: false, state.Reader), units, result);
    }

    public void CheckState() => RunStateChecks(Plan.Map.Transformers);

    public Task RestartAsync(UpdateResult result, UpdateCancellation cancellation) =>
        RestartCoreAsync(Incoming, _migrating ?? throw new InvalidOperationException("No state was transferred."), result, cancellation);

    public void Commit(UpdateResult result)
    {
        // What both versions shared is the new version's now.
        _shared = null;
        _retiredThreads = session.Commit();
        _committed = true;
        result.ResumedUnits = [.. session.DescribeUnits().Where(u => u.ResumedFrom is not null).Select(u => $"{u.Name} (from '{u.ResumedFrom}')")];
    }

    public UpdateFailedException RollBack(UpdateFailedException failure, UpdateResult result)
    {
        // Before the old units go on: what both versions share goes back to what it was (or the failure says it could not).
        failure = RestoreSharedState(failure, result);
        session.Rollback();
        _shared = null;
        return failure;
    }

    public async Task ReleaseAsync(UpdateResult result)
    {
        await ReleaseReloadedAsync(result).ConfigureAwait(false);
        var old = _committed ? _current : _incoming;
        var threads = _committed ? _retiredThreads : [];
        // Nothing here may hold either version while the released one is proven collected.
        _current = null;
        _incoming = null;
        _plan = null;
        _migrating = null;
        _shared = null;
        _retiredThreads = [];
        _entries.Clear(); // The new version's methods.
        OldUnits = null; // Their entries are the old version's methods.
        if (old is null)
        {
            return; // The new version was never loaded.
        }
        if (_committed && !options.UnloadOldCode)
        {
            // Its statics are about to be cleared: retired thread units unwinding (their finally blocks run) may still read them.
            await ThreadsEndedAsync(threads, RetiredThreadsWait).ConfigureAwait(false);
        }
        // A hosted application's version stops its host and disposes its container first: until then they hold its code.
        await session.EndingAsync().WaitAsync(VersionEndingWait, _time).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        var retired = old.Retire();
        old = null;
        result.LibrariesReleased = [.. retired.Libraries.Select(l => l.Description)];
        if (!options.VerifyUnload)
        {
            return;
        }
        var start = _time.GetTimestamp();
        // A version that failed leaks as surely as a retired one would if something held it: proven gone the same way.
        var role = _committed ? null : result.Outcome == UpdateOutcome.Refused ? "refused" : "rolled-back";
        var (unloaded, warnings) = role is null
            ? await UnloadVerifier.VerifyAsync(retired, threads, result.From.Generation, _time).ConfigureAwait(false)
            : await UnloadVerifier.VerifyAsync(retired, [], result.To.Generation, _time, role).ConfigureAwait(false);
        if (_committed)
        {
            result.UnloadTime = _time.GetElapsedTime(start);
            result.OldVersionUnloaded = unloaded;
        }
        else
        {
            result.FailedVersionUnloaded = unloaded;
        }
        result.Warnings = [.. result.Warnings, .. warnings];
        foreach (var warning in warnings)
        {
            Log.UpdateWarning(logger, warning);
        }
    }

    /// <summary>Proves the old version loaded anew for a state stream collected, as a failed version is.</summary>
    private async Task ReleaseReloadedAsync(UpdateResult result)
    {
        var reloaded = _reloaded;
        _reloaded = null;
        if (reloaded is null || !options.VerifyUnload)
        {
            return;
        }
        var (unloaded, warnings) = await UnloadVerifier.VerifyAsync(reloaded, [], result.From.Generation, _time, "re-loaded old").ConfigureAwait(false);
        result.StreamContextUnloaded = unloaded;
        result.Warnings = [.. result.Warnings, .. warnings];
        foreach (var warning in warnings)
        {
            Log.UpdateWarning(logger, warning);
        }
    }

    private async Task ThreadsEndedAsync(List<(string Name, WeakReference<Thread> Thread)> threads, TimeSpan wait)
    {
        var start = _time.GetTimestamp();
        while (threads.Any(t => t.Thread.TryGetTarget(out var thread) && thread.IsAlive) && _time.GetElapsedTime(start) < wait)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(5), _time).ConfigureAwait(false);
        }
    }

    private List<MigratingUnit> TransferState(TransferPlan plan, StateTransfer transfer, IReadOnlyList<MigratingUnit> parked, UpdateResult result)
    {
        try
        {
            foreach (var statics in plan.Statics)
            {
                try
                {
                    if (transfer.OldStatics is null)
                    {
                        statics.Copy(transfer);
                    }
                    else
                    {
                        CopierEmitter.StaticsCopyFromValues(statics.TypeName, statics.Copies)([.. statics.Copies.Select(c => transfer.ReadOldStatic(c.Old))], transfer);
                    }
                }
                catch (InvalidCastException e)
                {
                    throw transfer.ExplainMisfit(statics.Copies, null, e);
                }
                result.StaticsMigrated += statics.Copies.Count;
            }
            var sharedStatics = TransferSharedStatics(plan, transfer);
            var migrating = parked
                .Select(u => u with { State = transfer.TransferObject(u.State)! })
                .ToList();
            transfer.Drain();
            // Written once the new objects are whole: on a failure before, the fields still hold the old ones (and name the path).
            foreach (var (field, old, transferred) in sharedStatics)
            {
                transfer.SharedObjects!.RewriteStatic(field, old, transferred);
            }
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
            var path = failure.Offender is null ? null : StatePathFinder.Find(StatePathFinder.Roots(plan.Map, parked.Select(u => (u.Name, u.State)),
                transfer.OldStatics is null ? null : transfer.ReadOldStatic), failure.Offender, plan.Map);
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
    /// The statics of a library both versions share that may hold something of the old version: they are the same fields in
    /// both, so those whose value changes in the transfer are written in place once it is done, and the ledger gives them
    /// back on a rollback.
    /// </summary>
    private static List<(FieldInfo Field, object? Old, object? New)> TransferSharedStatics(TransferPlan plan, StateTransfer transfer)
    {
        var changed = new List<(FieldInfo, object?, object?)>();
        foreach (var field in plan.SharedStatics)
        {
            if (transfer.SharedObjects is null)
            {
                throw new UpdateFailedException(UpdatePhase.Transfer,
                    $"{StatePathFinder.SharedStaticLabel(field)} of a shared library may hold the old version's objects, " +
                    "and this transfer cannot give them back on a rollback.");
            }
            var value = field.GetValue(null);
            var transferred = transfer.TransferObject(value);
            if (!ReferenceEquals(value, transferred) && !(value is ValueType && Equals(value, transferred)))
            {
                changed.Add((field, value, transferred));
            }
        }
        return changed;
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
            .Select(f => (Field: f, Held: DescribeHeld(transfer.ReadOldStatic(f), plan)))
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
                return plan.Map.IsOld(value.GetType().Assembly) ? $"a {TypeFacts.Describe(value.GetType())}" : null;
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

    private async Task RestartCoreAsync(ProgramVersion incoming, List<MigratingUnit> migrating, UpdateResult result, UpdateCancellation cancellation)
    {
        var deadline = _time.GetTimestamp();
        session.BeginRestart(migrating);
        try
        {
            await incoming.RunEntryPointAsync(session, args, isUpdating: true)
                .WaitAsync(options.RestartTimeout, _time, cancellation.Token).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new UpdateFailedException(UpdatePhase.Restart,
                $"The new version's start-up (its Main) did not return within {options.RestartTimeout.TotalSeconds:0.###} s.");
        }
        catch (OperationCanceledException) when (cancellation.Token.IsCancellationRequested)
        {
            throw cancellation.Failure(UpdatePhase.Restart);
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
                entry = EntryFor(incoming, unit.EntryTypeName, unit.EntryMethodName, unit.OnThread);
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
        var arrived = left > TimeSpan.Zero && await ArrivesAsync(session.AwaitRestartArrival(), left, cancellation.Token).ConfigureAwait(false);
        if (session.RestartFault is { } fault)
        {
            throw new UpdateFailedException(UpdatePhase.Restart,
                $"Unit '{fault.Unit}' of the new version threw {Describe(fault.Error)} before reaching its first update point", Detach(fault.Error));
        }
        if (!arrived && cancellation.IsRequested)
        {
            throw cancellation.Failure(UpdatePhase.Restart);
        }
        if (!arrived)
        {
            var late = session.UnitsNotArrived(incoming: true);
            throw new UpdateFailedException(UpdatePhase.Restart,
                $"{Units(late)} of the new version did not reach an update point within {options.RestartTimeout.TotalSeconds:0.###} s: " +
                string.Join(", ", late.Select(u => $"'{u.Name}'")) + ".");
        }
    }

    /// <summary>
    /// The new version's entry for units of an old entry, looked up once per entry (a server's thousand connection units share
    /// one): resolved in the prepare phase for the units running then (<see cref="ResolveEntries"/>), the others in the pause.
    /// </summary>
    private UnitEntry? EntryFor(ProgramVersion incoming, string typeName, string methodName, bool onThread)
    {
        if (!_entries.TryGetValue((typeName, methodName, onThread), out var resolved))
        {
            resolved = UnitEntry.Resolve(typeName, methodName, onThread, name => incoming.FindType(name));
            _entries[(typeName, methodName, onThread)] = resolved;
        }
        return resolved;
    }

    private readonly Dictionary<(string Type, string Method, bool OnThread), UnitEntry?> _entries = [];

    /// <summary>Resolves, before the pause, the new version's entries for the units running now; one that cannot resume is found again, and refused, in the pause.</summary>
    private void ResolveEntries(IEnumerable<UnitEntry> running)
    {
        foreach (var entry in running.DistinctBy(e => (e.DeclaringTypeName, e.Method.Name, e.OnThread)))
        {
            try
            {
                EntryFor(Incoming, entry.DeclaringTypeName, entry.Method.Name, entry.OnThread);
            }
            catch (ArgumentException)
            {
                // Said in the pause, where the unit that cannot resume is named (the check has said it already).
            }
        }
    }

    private Task<bool> ArrivesAsync(Task arrival, TimeSpan timeout, CancellationToken cancellationToken) => ArrivesAsync(arrival, timeout, _time, cancellationToken);

    private static async Task<bool> ArrivesAsync(Task arrival, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        try
        {
            await arrival.WaitAsync(timeout, time, cancellationToken).ConfigureAwait(false);
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

    private static string DescribeLate(UnitInfo unit, TimeProvider time)
    {
        var ago = (time.GetUtcNow() - unit.LastSeenTime).TotalSeconds;
        return unit.LastSeenAt is null
            ? $"unit '{unit.Name}' has not reached an update point since it started {ago:0.0} s ago"
            : $"unit '{unit.Name}' was last seen at update point '{unit.LastSeenAt}' {ago:0.0} s ago";
    }

    private static string Units(IReadOnlyList<UnitInfo> units) => units.Count == 1 ? "1 unit" : $"{units.Count} units";

    /// <summary>How long the release of a version waits for its hosted application to stop.</summary>
    private static readonly TimeSpan VersionEndingWait = TimeSpan.FromSeconds(15);

    internal static Exception Unwrap(Exception e) => e is TargetInvocationException { InnerException: { } inner } ? inner : e;

    internal static string Describe(Exception e) => $"{Unwrap(e).GetType().Name}: {Unwrap(e).Message}";

    /// <summary>
    /// A copy of an exception that holds no reference to the code that threw it: an exception's stack trace
    /// keeps a collectible version's code alive, and a rolled-back version must be collected.
    /// </summary>
    internal static Exception Detach(Exception e) => new ProgramException(Unwrap(e));
}
