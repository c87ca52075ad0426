namespace Molt.Hosting.Updating;

/// <summary>Where a hosted program is in its life, as far as updates go: one value at a time, owned by <see cref="UpdateLifecycle"/>.</summary>
internal enum UpdateState
{
    /// <summary>The running version serves; no update, check or stop is under way.</summary>
    Serving,
    /// <summary>A compatibility check runs (<c>molt check</c>): the running version must not be replaced under it.</summary>
    Checking,
    /// <summary>Phase 1: the new version is loaded, planned, checked and compiled while the old one serves.</summary>
    Preparing,
    /// <summary>Phase 2: the pause begins; every unit is asked to park at an update point.</summary>
    Quiescing,
    /// <summary>Phase 3: the old state becomes the new version's objects.</summary>
    Transferring,
    /// <summary>Phase 4: the new version's [StateCheck]s run over the migrated state.</summary>
    CheckingState,
    /// <summary>Phase 5: the new version starts up and its units run to their first update point.</summary>
    Restarting,
    /// <summary>Phase 6, on success: the old units retire and the new ones go on; the pause ends.</summary>
    Committing,
    /// <summary>Phase 6, on a failure in phases 2-5: the new units retire and the old ones go on with their state.</summary>
    RollingBack,
    /// <summary>Phase 7: the version that no longer runs (the old one, or the one refused or rolled back) is released and its collection verified.</summary>
    Releasing,
    /// <summary>The program's units are being stopped.</summary>
    Stopping,
    /// <summary>The program has stopped; nothing more can happen to it.</summary>
    Stopped,
}

/// <summary>What the host asks of the lifecycle: each moves it from some states to one state (<see cref="UpdateLifecycle.Transitions"/>).</summary>
internal enum UpdateEvent
{
    BeginUpdate,
    BeginCheck,
    EndCheck,
    Quiesce,
    Transfer,
    CheckState,
    Restart,
    Commit,
    RollBack,
    /// <summary>A failure in the prepare phase: nothing paused, nothing to roll back; the refused version is released.</summary>
    Refuse,
    Release,
    Finish,
    /// <summary>An exception escaped the update (not a failed update, which ends in a result): the host takes updates again.</summary>
    Abandon,
    Stop,
    FinishStop,
}

/// <summary>
/// The life of a hosted program's updates, as one state machine: the one place that states the order of an update's phases.
/// </summary>
/// <remarks>
/// <para>An update runs these phases, in this order (<see cref="UpdateState"/> names each; the host's <see cref="UpdateTransaction"/>
/// drives them, and an <see cref="IUpdateMechanism"/> does each one's work):</para>
/// <list type="number">
/// <item>Prepare (the old version serves on). A failure or an incompatibility refuses the update: nothing paused.</item>
/// <item>Quiesce: the pause begins.</item>
/// <item>Transfer.</item>
/// <item>Check the state.</item>
/// <item>Restart: the new version's start-up and its units up to their first update point.</item>
/// <item>Commit, or roll back on any failure (or cancellation, or stop) in phases 2-5; the pause ends.</item>
/// <item>Release the old: the version that no longer runs — the old one after a commit, the new one after a refusal or
/// rollback — is unloaded and proven collected. Then the program serves again.</item>
/// </list>
/// <para>Around updates: a check (<c>molt check</c>) runs only while the program serves, as an update does; a stop waits
/// for the update in flight, which sees the stop (<see cref="StopRequested"/>) at its next step and rolls back, then the
/// program stops for good. Every transition checks the state it leaves, under one lock, and a call in the wrong state is
/// refused with an <see cref="InvalidOperationException"/> that says in words what is under way instead.</para>
/// </remarks>
internal sealed class UpdateLifecycle
{
    /// <summary>Every allowed transition, written once: (from, event) → to. Any pair not here is refused.</summary>
    public static readonly IReadOnlyDictionary<(UpdateState From, UpdateEvent Event), UpdateState> Transitions =
        new Dictionary<(UpdateState, UpdateEvent), UpdateState>
        {
            [(UpdateState.Serving, UpdateEvent.BeginUpdate)] = UpdateState.Preparing,
            [(UpdateState.Serving, UpdateEvent.BeginCheck)] = UpdateState.Checking,
            [(UpdateState.Checking, UpdateEvent.EndCheck)] = UpdateState.Serving,
            [(UpdateState.Preparing, UpdateEvent.Quiesce)] = UpdateState.Quiescing,
            [(UpdateState.Preparing, UpdateEvent.Refuse)] = UpdateState.Releasing,
            [(UpdateState.Quiescing, UpdateEvent.Transfer)] = UpdateState.Transferring,
            [(UpdateState.Transferring, UpdateEvent.CheckState)] = UpdateState.CheckingState,
            [(UpdateState.CheckingState, UpdateEvent.Restart)] = UpdateState.Restarting,
            [(UpdateState.Restarting, UpdateEvent.Commit)] = UpdateState.Committing,
            [(UpdateState.Quiescing, UpdateEvent.RollBack)] = UpdateState.RollingBack,
            [(UpdateState.Transferring, UpdateEvent.RollBack)] = UpdateState.RollingBack,
            [(UpdateState.CheckingState, UpdateEvent.RollBack)] = UpdateState.RollingBack,
            [(UpdateState.Restarting, UpdateEvent.RollBack)] = UpdateState.RollingBack,
            [(UpdateState.Committing, UpdateEvent.Release)] = UpdateState.Releasing,
            [(UpdateState.RollingBack, UpdateEvent.Release)] = UpdateState.Releasing,
            [(UpdateState.Releasing, UpdateEvent.Finish)] = UpdateState.Serving,
            [(UpdateState.Preparing, UpdateEvent.Abandon)] = UpdateState.Serving,
            [(UpdateState.Quiescing, UpdateEvent.Abandon)] = UpdateState.Serving,
            [(UpdateState.Transferring, UpdateEvent.Abandon)] = UpdateState.Serving,
            [(UpdateState.CheckingState, UpdateEvent.Abandon)] = UpdateState.Serving,
            [(UpdateState.Restarting, UpdateEvent.Abandon)] = UpdateState.Serving,
            [(UpdateState.Committing, UpdateEvent.Abandon)] = UpdateState.Serving,
            [(UpdateState.RollingBack, UpdateEvent.Abandon)] = UpdateState.Serving,
            [(UpdateState.Releasing, UpdateEvent.Abandon)] = UpdateState.Serving,
            [(UpdateState.Serving, UpdateEvent.Stop)] = UpdateState.Stopping,
            [(UpdateState.Stopping, UpdateEvent.FinishStop)] = UpdateState.Stopped,
        };

    private readonly object _lock = new();
    private readonly CancellationTokenSource _stopRequested = new();
    private UpdateState _state = UpdateState.Serving;

    /// <summary>Completes when the program serves again (or stops): what a stop waits for while an update or check runs.</summary>
    private TaskCompletionSource _settled = NewSettled(completed: true);

    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The version an update of the program back would go to: the one the last committed update came from.</summary>
    private ProgramVersionInfo? _previous;

    public UpdateState State
    {
        get { lock (_lock) { return _state; } }
    }

    /// <summary>Cancelled when the program is asked to stop: an update in flight rolls back at its next step (it has not committed).</summary>
    public CancellationToken StopRequested => _stopRequested.Token;

    /// <summary>Moves to the state the table gives for this event, or refuses in words when the event does not fit the state.</summary>
    public UpdateState Fire(UpdateEvent e)
    {
        lock (_lock)
        {
            if (e is UpdateEvent.BeginUpdate && _state == UpdateState.Serving && _stopRequested.IsCancellationRequested)
            {
                // The stop has been asked for and waits its turn: nothing new may start before it.
                throw new InvalidOperationException("The program is stopping: no update can start.");
            }
            if (!Transitions.TryGetValue((_state, e), out var next))
            {
                throw new InvalidOperationException(Refusal(_state, e));
            }
            var wasSettled = _state is UpdateState.Serving or UpdateState.Stopping or UpdateState.Stopped;
            _state = next;
            var settled = next is UpdateState.Serving or UpdateState.Stopping or UpdateState.Stopped;
            if (wasSettled && !settled)
            {
                _settled = NewSettled(completed: false);
            }
            else if (!wasSettled && settled)
            {
                _settled.TrySetResult();
            }
            if (next == UpdateState.Stopped)
            {
                _stopped.TrySetResult();
            }
            return next;
        }
    }

    /// <summary>Commits the update: from now on the program can be updated back to <paramref name="from"/>, the version it ran.</summary>
    public void Commit(ProgramVersionInfo from)
    {
        lock (_lock)
        {
            Fire(UpdateEvent.Commit);
            _previous = from;
        }
    }

    /// <summary>
    /// Ends the update in flight, whatever its phase: <see cref="UpdateEvent.Finish"/> after its release, else
    /// <see cref="UpdateEvent.Abandon"/> (an exception escaped it) so that the host takes updates again.
    /// </summary>
    public void EndUpdate()
    {
        lock (_lock)
        {
            Fire(_state == UpdateState.Releasing ? UpdateEvent.Finish : UpdateEvent.Abandon);
        }
    }

    /// <summary>The version to go back to, or a refusal in words when there is none.</summary>
    /// <summary>The versions this program has committed from, for a process update to carry to the new process (the last is the one to roll back to).</summary>
    public IReadOnlyList<ProgramVersionInfo> Versions
    {
        get { lock (_lock) { return _previous is null ? [] : [_previous]; } }
    }

    /// <summary>Takes over the versions of the process this program ran in before (a process update's new process).</summary>
    public void Inherit(IReadOnlyList<ProgramVersionInfo> versions)
    {
        lock (_lock)
        {
            _previous = versions.Count > 0 ? versions[^1] : _previous;
        }
    }

    public ProgramVersionInfo PreviousVersion()
    {
        lock (_lock)
        {
            if (_state is UpdateState.Stopping or UpdateState.Stopped)
            {
                throw new InvalidOperationException(Refusal(_state, UpdateEvent.BeginUpdate));
            }
            return _previous ?? throw new InvalidOperationException("There is no previous version to roll back to: no update has committed.");
        }
    }

    /// <summary>
    /// Asks the program to stop, waits until no update or check runs (the one in flight sees <see cref="StopRequested"/>), then
    /// enters <see cref="UpdateState.Stopping"/>.
    /// </summary>
    /// <returns>True for the caller that stops the program; false when it is stopped already (or another caller stopped it, waited for).</returns>
    public async Task<bool> BeginStopAsync(CancellationToken cancellationToken)
    {
        await _stopRequested.CancelAsync().ConfigureAwait(false);
        while (true)
        {
            Task wait;
            lock (_lock)
            {
                switch (_state)
                {
                    case UpdateState.Serving:
                        Fire(UpdateEvent.Stop);
                        return true;
                    case UpdateState.Stopped:
                        return false;
                    case UpdateState.Stopping:
                        wait = _stopped.Task;
                        break;
                    default:
                        wait = _settled.Task;
                        break;
                }
            }
            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (wait == _stopped.Task)
            {
                return false;
            }
        }
    }

    /// <summary>The words for an event that does not fit the state: what is under way, and what the event follows.</summary>
    internal static string Refusal(UpdateState state, UpdateEvent e)
    {
        switch (e)
        {
            case UpdateEvent.BeginUpdate or UpdateEvent.BeginCheck:
                return state switch
                {
                    UpdateState.Stopping => $"The program is stopping: no {Noun(e)} can start.",
                    UpdateState.Stopped => $"The program is stopped: no {Noun(e)} can start.",
                    UpdateState.Checking => "A check of this program is already in progress; try again when it has finished.",
                    _ => $"An update of this program is already in progress ({Doing(state)}); try again when it has finished.",
                };
            case UpdateEvent.Stop when state is UpdateState.Stopping or UpdateState.Stopped:
                return $"Cannot stop: the program {(state == UpdateState.Stopping ? "is stopping already" : "is stopped")}.";
        }
        var what = Transitions.Where(t => t.Key.Event == e).Select(t => t.Key.From).ToList();
        var target = Transitions.First(t => t.Key.Event == e).Value;
        string now = state switch
        {
            UpdateState.Serving => e == UpdateEvent.EndCheck ? "no check is in progress" : "no update is in progress",
            UpdateState.Checking => "a check is in progress, not an update",
            UpdateState.Stopping => "the program is stopping",
            UpdateState.Stopped => "the program is stopped",
            _ when target == state => $"an update is already {Doing(state)}",
            _ => $"the update is {Doing(state)}",
        };
        return $"Cannot {Verb(e)}: {now} ({Verb(e)} is allowed only while {string.Join(" or ", what.Select(Doing))}).";
    }

    private static string Noun(UpdateEvent e) => e == UpdateEvent.BeginCheck ? "check" : "update";

    /// <summary>What the program is doing in a state, in words (the refusals use it).</summary>
    internal static string Doing(UpdateState state) => state switch
    {
        UpdateState.Serving => "serving",
        UpdateState.Checking => "checking",
        UpdateState.Preparing => "preparing",
        UpdateState.Quiescing => "quiescing",
        UpdateState.Transferring => "transferring state",
        UpdateState.CheckingState => "checking state",
        UpdateState.Restarting => "restarting",
        UpdateState.Committing => "committing",
        UpdateState.RollingBack => "rolling back",
        UpdateState.Releasing => "releasing the version that no longer runs",
        UpdateState.Stopping => "stopping",
        UpdateState.Stopped => "stopped",
        _ => state.ToString(),
    };

    private static string Verb(UpdateEvent e) => e switch
    {
        UpdateEvent.BeginUpdate => "begin an update",
        UpdateEvent.BeginCheck => "begin a check",
        UpdateEvent.EndCheck => "end a check",
        UpdateEvent.Quiesce => "quiesce",
        UpdateEvent.Transfer => "transfer state",
        UpdateEvent.CheckState => "check state",
        UpdateEvent.Restart => "restart",
        UpdateEvent.Commit => "commit",
        UpdateEvent.RollBack => "roll back",
        UpdateEvent.Refuse => "refuse",
        UpdateEvent.Release => "release a version",
        UpdateEvent.Finish => "finish an update",
        UpdateEvent.Abandon => "abandon an update",
        UpdateEvent.Stop => "stop",
        UpdateEvent.FinishStop => "finish stopping",
        _ => e.ToString(),
    };

    private static TaskCompletionSource NewSettled(bool completed)
    {
        var settled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (completed)
        {
            settled.TrySetResult();
        }
        return settled;
    }
}
