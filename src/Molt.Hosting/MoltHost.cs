using Microsoft.Extensions.Logging;
using Molt.Hosting.Loading;
using Molt.Hosting.Updating;

namespace Molt.Hosting;

/// <summary>
/// Runs an updatable program and updates it live. Each version is loaded into its own collectible
/// context; an update is a transaction, committed or rolled back, after which the version that no longer runs is
/// released and its collection verified (its phases and their order: <see cref="UpdateLifecycle"/>, and docs/architecture.md).
/// </summary>
/// <remarks>
/// Lifecycle: <see cref="StartAsync"/> → any number of <see cref="UpdateAsync(string, CancellationToken)"/> (one at a time) →
/// <see cref="StopAsync"/>. Several hosts can run in one process, each with its own program.
/// </remarks>
public sealed class MoltHost : IAsyncDisposable
{
    private readonly ProgramSession _session = new(isHosted: true);

    /// <summary>Where the program is in its updates: one update or check at a time, none after a stop; every step checked.</summary>
    private readonly UpdateLifecycle _lifecycle = new();
    private readonly List<UpdateResult> _history = [];
    private readonly MoltHostOptions _options;
    private readonly ILogger _logger;
    private readonly string[] _args;
    private ProgramVersion? _current;

    private MoltHost(ProgramVersion version, string[] args, MoltHostOptions options)
    {
        _current = version;
        _args = args;
        _options = options;
        _logger = options.LoggerFactory.CreateLogger<MoltHost>();
        StartedAt = options.TimeProvider.GetUtcNow();
        _session.UnitFaulted = (unit, error) => Log.UnitFaulted(_logger, unit, error);
    }

    /// <summary>The running version.</summary>
    public ProgramVersionInfo Version => Current.Info;

    /// <summary>Set by <c>molt</c>'s program process: what process updates need (the supervisor, the successor's arguments, the control listener).</summary>
    internal ProcessHandoff? Handoff { get; set; }

    /// <summary>The updates of the processes this program ran in before this one, oldest first (a process update carries them over).</summary>
    internal IReadOnlyList<Control.UpdateSummary> EarlierHistory { get; private set; } = [];

    /// <summary>After a committed process update: the process that serves the program now. This host then serves nothing.</summary>
    internal int? HandedOverTo { get; private set; }

    /// <summary>
    /// The running version's main assembly, for Molt.Testing's <c>ProgramState</c>: found through the host, not by
    /// the name of its context, which another host's version or a kept-loaded old one may share.
    /// </summary>
    internal System.Reflection.Assembly RunningAssembly => Current.MainAssembly;

    /// <summary>Whether each version's code stays loaded after an update (<see cref="MoltHostOptions.UnloadOldCode"/> off).</summary>
    internal bool KeepsOldCode => !_options.UnloadOldCode;

    /// <summary>When the host started the program.</summary>
    public DateTimeOffset StartedAt { get; }

    /// <summary>Raised, on the updating thread, when an update or a rollback has committed: <see cref="Version"/> is the new one.</summary>
    internal event Action? VersionCommitted;

    /// <summary>The running version's units: where each is, and where each resumed from.</summary>
    public IReadOnlyList<RunningUnit> Units =>
        [.. _session.DescribeUnits().Select(u => new RunningUnit(u.Name, u.Kind, u.Status, u.LastSeenAt, u.ResumedFrom))];

    /// <summary>Every update attempted, oldest first.</summary>
    public IReadOnlyList<UpdateResult> History
    {
        get { lock (_history) { return [.. _history]; } }
    }

    private ProgramVersion Current => _current ?? throw new InvalidOperationException("The program is stopped.");

    /// <summary>Loads a program and runs its entry point (Main) under Molt.</summary>
    /// <param name="programPath">The program's main assembly (its .dll).</param>
    /// <param name="args">The arguments for Main; an update's start-up gets the same.</param>
    /// <param name="options">Deadlines, logging, clock.</param>
    /// <param name="cancellationToken">Cancels waiting for Main.</param>
    /// <exception cref="UpdateFailedException">The program cannot be loaded (phase Prepare).</exception>
    public static async Task<MoltHost> StartAsync(string programPath, string[]? args = null, MoltHostOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(programPath);
        options ??= new MoltHostOptions();
        options.Validate();
        var version = ProgramVersion.Load(programPath, generation: 0, options.TimeProvider, options.UnloadOldCode,
            libraries: options.ShareLibraries ? new SharedLibraries() : null);
        var host = new MoltHost(version, args ?? [], options);
        try
        {
            await version.RunEntryPointAsync(host._session, host._args, isUpdating: false).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        MoltMetrics.Register(host);
        Log.Started(host._logger, version.Info, version.Info.AssemblyPath);
        return host;
    }

    /// <summary>
    /// Updates the running program to another version (newer or older: an update to an older version is
    /// just another update). Never throws for a failed update: the result says what happened, and a failed
    /// update leaves the old version running with its state intact. It first runs the check of <see cref="CheckAsync"/>
    /// on the plan it prepares: a version that check finds incompatible is refused (phase Prepare) before any pause.
    /// </summary>
    /// <param name="newProgramPath">The new version's main assembly.</param>
    /// <param name="cancellationToken">Cancels waiting; an update cancelled during its pause rolls back.</param>
    /// <exception cref="InvalidOperationException">Another update of this program is in progress, or the program is stopped.</exception>
    public Task<UpdateResult> UpdateAsync(string newProgramPath, CancellationToken cancellationToken = default) =>
        UpdateAsync(newProgramPath, new UpdateOptions(), cancellationToken);

    /// <summary>Updates the running program to another version, with settings for this update.</summary>
    /// <param name="newProgramPath">The new version's main assembly.</param>
    /// <param name="options">This update's deadline and progress reporting.</param>
    /// <param name="cancellationToken">Cancels waiting; an update cancelled during its pause rolls back.</param>
    /// <exception cref="InvalidOperationException">Another update (or a check) of this program is in progress, or the program is stopped.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The quiescence deadline is not positive, or longer than the timers reach (about 49 days).</exception>
    public async Task<UpdateResult> UpdateAsync(string newProgramPath, UpdateOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(newProgramPath);
        ArgumentNullException.ThrowIfNull(options);
        // Checked before the pause: a deadline the timers refuse would throw once units are already parking, and leave them parked.
        if (options.QuiesceTimeout is { } quiesce && (quiesce <= TimeSpan.Zero || quiesce.TotalMilliseconds > uint.MaxValue - 1))
        {
            throw new ArgumentOutOfRangeException(nameof(options), quiesce, "The quiescence deadline must be positive and at most about 49 days.");
        }
        cancellationToken.ThrowIfCancellationRequested();
        _lifecycle.Fire(UpdateEvent.BeginUpdate);
        try
        {
            Log.UpdateRequested(_logger, Current.Info, newProgramPath);
            InProcessUpdate? inProcess = null;
            ProcessUpdate? process = null;
            IUpdateMechanism mechanism = options.Mechanism == UpdateMechanism.NewProcess
                ? process = new ProcessUpdate(_session, Current, newProgramPath, _options, options, Handoff, [.. EarlierHistory, .. History.Select(Summary)], _lifecycle.Versions, _logger)
                : inProcess = new InProcessUpdate(_session, Current, newProgramPath, _args, _options, options, _logger);
            var transaction = new UpdateTransaction(_lifecycle, mechanism, Current.Info, newProgramPath, _options, options, _logger, _lifecycle.StopRequested);
            var result = await transaction.ExecuteAsync(cancellationToken).ConfigureAwait(false);
            result.Mechanism = options.Mechanism;
            var committed = result.Outcome == UpdateOutcome.Committed;
            if (committed && inProcess is not null)
            {
                _current = inProcess.Incoming;
                VersionCommitted?.Invoke();
            }
            if (committed && process is not null)
            {
                HandedOverTo = process.SuccessorProcessId;
            }
            await transaction.ReleaseAsync(result).ConfigureAwait(false);
            if (committed)
            {
                options.Progress?.Report(new UpdateProgress(UpdatePhase.Unload, result.UnloadTime));
                Log.Committed(_logger, result);
            }
            else
            {
                Log.NotCommitted(_logger, result);
            }
            lock (_history)
            {
                _history.Add(result);
            }
            MoltMetrics.Record(result);
            return result;
        }
        finally
        {
            _lifecycle.EndUpdate();
        }
    }

    /// <summary>The old process's units, for the check before the pause: their entries in the old version loaded anew, and where each is.</summary>
    private static List<(string Name, object State, UnitEntry Entry, string? LastSeenAt)> OldUnits(IEnumerable<Processes.StreamedUnit> units, ProgramVersion reloaded) =>
        [.. units.Select(u => (u.Name, State: (object)null!, Entry: UnitEntry.Resolve(u.EntryTypeName, u.EntryMethodName, u.OnThread, n => reloaded.FindType(n))!,
                LastSeenAt: string.IsNullOrEmpty(u.ParkedAt) ? null : u.ParkedAt))
            .Where(u => u.Entry is not null)];

    private static Control.UpdateSummary Summary(UpdateResult r) => Control.UpdateSummary.Of(r, r.To.LoadedAt);

    /// <summary>
    /// The new process's side of a process update: loads the old version anew for its types only, and runs the same update
    /// as in one process from it, its state read from the old process's stream (<see cref="SuccessorUpdate"/>). Returns the
    /// host serving the new version once the old process has committed, or null (the failure told to the old process) when
    /// the update did not commit: this process then exits without serving.
    /// </summary>
    internal static async Task<(MoltHost? Host, UpdateResult Result, System.Net.Sockets.Socket? ControlListener)> TakeOverAsync(
        Processes.HandoffChannel channel, Processes.ProcessNote prepare, string newProgramPath, string[] args, MoltHostOptions options,
        Action<ProgramVersionInfo>? committing, CancellationToken cancellationToken)
    {
        options.Validate();
        var oldPath = prepare.OldProgram ?? throw new ArgumentException("The old process did not name its program.", nameof(prepare));
        ProgramVersion? reloaded = ProgramVersion.Load(oldPath, prepare.OldGeneration ?? 0, options.TimeProvider, collectible: true, typesOnly: true,
            libraries: options.ShareLibraries ? new SharedLibraries() : null);
        var host = new MoltHost(reloaded, args, options) { EarlierHistory = prepare.History ?? [] };
        host._lifecycle.Inherit(prepare.Versions ?? []);
        var logger = host._logger;
        var update = new UpdateOptions { IsRollback = prepare.IsRollback ?? false };
        SuccessorUpdate? mechanism = null;
        mechanism = new SuccessorUpdate(channel, reloaded, options.RestartTimeout, self =>
            new InProcessUpdate(host._session, reloaded!, newProgramPath, args, options, update, logger)
            {
                StateFromStream = self.ReceiveState, OldUnits = OldUnits(prepare.Units ?? [], reloaded!), LoadTiered = true,
            })
        {
            // The version that serves from now on (the host's own is set once the update returns).
            Committing = () => committing?.Invoke(mechanism!.Inner.Incoming.Info),
        };
        var from = reloaded.Info;
        reloaded = null; // Held past the transfer, it would keep the old version's types alive here (proven collected at release).
        host._lifecycle.Fire(UpdateEvent.BeginUpdate);
        UpdateResult result;
        try
        {
            var transaction = new UpdateTransaction(host._lifecycle, mechanism, from, newProgramPath, options, update, logger, host._lifecycle.StopRequested);
            result = await transaction.ExecuteAsync(cancellationToken).ConfigureAwait(false);
            result.Mechanism = UpdateMechanism.NewProcess;
            if (result.Outcome == UpdateOutcome.Committed)
            {
                host._current = mechanism.Inner.Incoming;
                result.NewProcessId = Environment.ProcessId;
            }
            else
            {
                mechanism.SendFailure(result.Failure!);
            }
            await transaction.ReleaseAsync(result).ConfigureAwait(false);
        }
        finally
        {
            host._lifecycle.EndUpdate();
        }
        if (result.Outcome != UpdateOutcome.Committed)
        {
            Log.NotCommitted(logger, result);
            mechanism.ControlListener?.Dispose();
            return (null, result, null);
        }
        // The old process recorded this update; its summary (with the old process's view of the pause) is the history's.
        host.EarlierHistory = [.. host.EarlierHistory, mechanism.CommittedResult ?? Summary(result)];
        MoltMetrics.Register(host);
        Log.Committed(logger, result);
        return (host, result, mechanism.ControlListener);
    }

    /// <summary>
    /// Updates the program back to the version it ran before the last committed update, with the default
    /// mapping and whatever transformers that version declares.
    /// </summary>
    /// <param name="options">This update's deadline and progress reporting.</param>
    /// <param name="cancellationToken">Cancels waiting; an update cancelled during its pause rolls back.</param>
    /// <exception cref="InvalidOperationException">No update has committed yet, or another update is in progress.</exception>
    public Task<UpdateResult> RollbackAsync(UpdateOptions? options = null, CancellationToken cancellationToken = default)
    {
        var previous = _lifecycle.PreviousVersion();
        return UpdateAsync(previous.AssemblyPath,
            new UpdateOptions
            {
                QuiesceTimeout = options?.QuiesceTimeout, Progress = options?.Progress, IsRollback = true,
                Mechanism = options?.Mechanism ?? UpdateMechanism.InProcess, Environment = options?.Environment, HostPath = options?.HostPath,
            }, cancellationToken);
    }

    /// <summary>
    /// Checks a new version against the running one without applying anything: the types and fields that
    /// changed and what covers each change, the state that cannot cross, the units the new version would
    /// drop or resume elsewhere, and the verdict, which is what <see cref="UpdateAsync(string, CancellationToken)"/>
    /// would do if run then: refuse it in its prepare phase, roll it back at transfer (the check tries the transfer of the
    /// running state into the new version, read-only, and discards it), or commit. The program runs on untouched: no unit
    /// parks; the checked version is unloaded after.
    /// </summary>
    /// <param name="newProgramPath">The new version's main assembly.</param>
    /// <param name="cancellationToken">Cancels the check before it starts.</param>
    /// <exception cref="InvalidOperationException">An update (or another check) is in progress, or the program is stopped.</exception>
    public async Task<Control.CheckSummary> CheckAsync(string newProgramPath, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(newProgramPath);
        // The running version must not be replaced (and unloaded) under the check; a check during an update is refused, as a second update is.
        cancellationToken.ThrowIfCancellationRequested();
        _lifecycle.Fire(UpdateEvent.BeginCheck);
        try
        {
            var current = Current;
            var (summary, checkedContext) = await HostThread.Run(() =>
                (CompatibilityCheck.Run(_session, current, newProgramPath, _options.TimeProvider, out var checkedContext), checkedContext)).ConfigureAwait(false);
            LastCheckedContext = checkedContext;
            return summary;
        }
        finally
        {
            _lifecycle.Fire(UpdateEvent.EndCheck);
        }
    }

    /// <summary>The context of the version last checked, weakly held: tests prove it is collected.</summary>
    internal WeakReference? LastCheckedContext { get; private set; }

    /// <summary>Old versions that were not collected after their update (they leak until the process ends).</summary>
    public IReadOnlyList<ProgramVersionInfo> OldVersionsNotUnloaded => [.. History.Where(r => r.OldVersionUnloaded == false).Select(r => r.From)];

    /// <summary>
    /// Stops the program: an update in flight rolls back first (it sees the stop at its next step; a transformer or
    /// start-up that is running is not interrupted), then each unit leaves its next update point by exception (its finally
    /// blocks run), then the version is unloaded.
    /// </summary>
    /// <param name="cancellationToken">Not waited on beyond <see cref="MoltHostOptions.StopTimeout"/> anyway.</param>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (_current is null)
        {
            return;
        }
        if (!await _lifecycle.BeginStopAsync(cancellationToken).ConfigureAwait(false))
        {
            return; // Another caller stopped it.
        }
        try
        {
            if (_current is not { } current)
            {
                return;
            }
            if (HandedOverTo is not null)
            {
                // A process update committed: the units parked here belong to the new process now (their sockets too). They
                // must not leave their update points (their finally blocks would close what the new process serves): this
                // process ends with them parked.
                return;
            }
            Log.Stopping(_logger, current.Info);
            if (!await _session.StopAsync(_options.StopTimeout, _options.TimeProvider).ConfigureAwait(false))
            {
                Log.StopTimedOut(_logger, _options.StopTimeout);
            }
            _current = null;
            MoltMetrics.Unregister(this);
            current.Retire();
        }
        finally
        {
            _lifecycle.Fire(UpdateEvent.FinishStop);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);
}
