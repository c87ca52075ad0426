using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Molt;

/// <summary>
/// One running program across its versions: its live units, the token that wakes them, and the
/// protocol by which an update parks them (quiescence), hands their state to the new version's
/// units, and then retires one generation of units and releases the other.
/// </summary>
/// <remarks>
/// The life of an update, as seen from here (the host drives it):
/// <see cref="RequestQuiescence"/> → every current unit parks → <see cref="BeginRestart"/> → the new
/// version's units start and park at their first update point (<see cref="AwaitRestartArrival"/>) →
/// <see cref="Commit"/> retires the old units and releases the new ones, or <see cref="Rollback"/>
/// retires the new units and releases the old ones. Everything here runs on the slow path: a unit
/// only reaches it while some session has an update pending.
/// </remarks>
internal sealed class ProgramSession
{
    /// <summary>
    /// How many sessions in the process have an update or a stop pending (or units to retire). Update
    /// points read only this field when it is zero.
    /// </summary>
    internal static int PendingSessions;

    private static ProgramSession? s_standalone;

    private readonly object _lock = new();

    /// <summary>Units of the running version, by name.</summary>
    private Dictionary<string, Unit> _current = new(StringComparer.Ordinal);

    /// <summary>Units of the incoming version during a restart; null otherwise.</summary>
    private Dictionary<string, Unit>? _incoming;

    /// <summary>Units told to retire that have not parked or ended yet (they retire at their next update point).</summary>
    private readonly List<Unit> _retiring = [];

    /// <summary>Old units' migrated state waiting to be claimed by the new version during a restart.</summary>
    private Dictionary<string, MigratingUnit>? _migrating;

    /// <summary>Completes when every awaited unit has parked or ended.</summary>
    private TaskCompletionSource? _arrival;

    private bool _awaitIncoming;

    private CancellationTokenSource _wake = new();

    private Pending _pending;

    /// <summary>Whether this session holds one count in <see cref="PendingSessions"/>.</summary>
    private bool _countedPending;

    private int _generation;

    /// <summary>
    /// Epochs tell apart the starts of the program's code: the first start is epoch 0, each restart gets a new one.
    /// Code of a restart that was rolled back, or of a version that was replaced, may still run (a start-up that
    /// outlived its deadline, a unit late to retire): it must not start units in the running version.
    /// </summary>
    private int _lastEpoch;

    private int _currentEpoch;

    private int _incomingEpoch = -1;

    private (Unit Unit, Exception Error)? _restartFault;

    private TaskCompletionSource? _allEnded;

    private enum Pending
    {
        None,
        Update,
        Stop,
    }

    public ProgramSession(bool isHosted)
    {
        IsHosted = isHosted;
    }

    /// <summary>The session of a program that runs without the Molt host.</summary>
    public static ProgramSession Standalone =>
        LazyInitializer.EnsureInitialized(ref s_standalone, () => new ProgramSession(isHosted: false));

    public bool IsHosted { get; }

    /// <summary>Called (outside the lock) when a unit's entry throws; the host logs it.</summary>
    public Action<string, Exception>? UnitFaulted { get; set; }

    public CancellationToken WakeToken => Volatile.Read(ref _wake).Token;

    /// <summary>The generation of the running version's units.</summary>
    public int Generation
    {
        get { lock (_lock) { return _generation; } }
    }

    // ---- Units -------------------------------------------------------------------------------

    /// <param name="name">The unit's name.</param>
    /// <param name="state">Its state.</param>
    /// <param name="entry">Its entry.</param>
    /// <param name="caller">The scope of the code that starts the unit: its epoch says which version's units it may start.</param>
    public void StartUnit(string name, object state, UnitEntry entry, LiveScope? caller = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(state);
        Unit unit;
        lock (_lock)
        {
            if (_pending == Pending.Stop)
            {
                throw new InvalidOperationException($"Cannot start unit '{name}': the program is stopping.");
            }
            var toIncoming = _incoming is not null;
            if (caller is not null)
            {
                toIncoming = _incoming is not null && caller.Epoch == _incomingEpoch;
                if (!toIncoming && caller.Epoch != _currentEpoch)
                {
                    throw new InvalidOperationException(
                        $"Cannot start unit '{name}': the code that starts it belongs to a version that was rolled back or replaced.");
                }
            }
            var units = toIncoming ? _incoming! : _current;
            string? resumedFrom = null;
            if (toIncoming && _migrating is not null && _migrating.Remove(name, out var migrating))
            {
                // The new version's start-up names a unit that the old version had: it resumes with the migrated state.
                state = migrating.State;
                resumedFrom = migrating.ParkedAt;
            }
            if (units.ContainsKey(name))
            {
                throw new InvalidOperationException($"A unit named '{name}' is already running.");
            }
            if (!entry.StateType.IsInstanceOfType(state))
            {
                throw new ArgumentException(
                    $"Unit '{name}': its state is a {state.GetType().FullName}, but its entry {entry} takes a {entry.StateType.FullName}.");
            }
            unit = new Unit(this, name, state, entry, toIncoming ? _generation + 1 : _generation, resumedFrom)
            {
                Epoch = toIncoming ? _incomingEpoch : _currentEpoch,
            };
            units.Add(name, unit);
        }
        Launch(unit);
    }

    /// <summary>Starts the old version's units that the new version's start-up did not name, with the entries of the same name.</summary>
    public List<MigratingUnit> TakeUnclaimedMigratingUnits()
    {
        lock (_lock)
        {
            var left = _migrating?.Values.ToList() ?? [];
            _migrating?.Clear();
            return left;
        }
    }

    public void ResumeUnit(MigratingUnit migrating, UnitEntry entry)
    {
        Unit unit;
        lock (_lock)
        {
            if (_incoming is null)
            {
                throw new InvalidOperationException("Units are resumed only during a restart.");
            }
            unit = new Unit(this, migrating.Name, migrating.State, entry, _generation + 1, migrating.ParkedAt) { Epoch = _incomingEpoch };
            _incoming.Add(migrating.Name, unit);
        }
        Launch(unit);
    }

    private void Launch(Unit unit)
    {
        var scope = new LiveScope(this, unit, isStartingUpdate: false, unit.Epoch);
        if (unit.Entry.OnThread)
        {
            var thread = new Thread(() => RunOnThread(unit, scope))
            {
                IsBackground = true,
                Name = $"molt:{unit.Name}",
            };
            unit.Thread = new WeakReference<Thread>(thread);
            thread.Start();
        }
        else
        {
            _ = Task.Run(() => RunAsTaskAsync(unit, scope));
        }
    }

    private void RunOnThread(Unit unit, LiveScope scope)
    {
        Live.CurrentScope.Value = scope;
        Exception? fault = null;
        try
        {
            unit.Entry.Method.Invoke(null, [unit.State]);
        }
        catch (Exception e)
        {
            fault = Unwrap(e);
        }
        Ended(unit, fault);
    }

    private async Task RunAsTaskAsync(Unit unit, LiveScope scope)
    {
        Live.CurrentScope.Value = scope;
        Exception? fault = null;
        try
        {
            var task = (Task?)unit.Entry.Method.Invoke(null, [unit.State]);
            if (task is not null)
            {
                await task.ConfigureAwait(false);
            }
        }
        catch (Exception e)
        {
            fault = Unwrap(e);
        }
        Ended(unit, fault);
    }

    private static Exception Unwrap(Exception e) => e is TargetInvocationException { InnerException: { } inner } ? inner : e;

    private void Ended(Unit unit, Exception? fault)
    {
        if (fault is OperationCanceledException && (unit.Status == UnitStatus.Ended || fault is UnitRetiredException))
        {
            fault = null; // Ended by Molt (stop or retire): not a fault.
        }
        lock (_lock)
        {
            unit.Status = UnitStatus.Ended;
            unit.Fault = fault;
            if (_current.TryGetValue(unit.Name, out var c) && c == unit)
            {
                _current.Remove(unit.Name);
            }
            if (_incoming is not null && _incoming.TryGetValue(unit.Name, out var i) && i == unit)
            {
                _incoming.Remove(unit.Name);
                if (fault is not null)
                {
                    _restartFault ??= (unit, fault);
                }
            }
            ForgetRetiredLocked(unit);
            CheckArrivalLocked();
            if (_current.Count == 0 && _incoming is null)
            {
                _allEnded?.TrySetResult();
                UpdateCountLocked(); // A stopped program whose units have all ended no longer needs the slow path.
            }
        }
        if (fault is not null)
        {
            UnitFaulted?.Invoke(unit.Name, fault);
        }
    }

    // ---- Update points -----------------------------------------------------------------------

    internal static void ParkHere(string name)
    {
        var unit = Live.CurrentScope.Value?.Unit;
        unit?.Session.Park(unit, name);
    }

    internal static ValueTask ParkHereAsync(string name)
    {
        var unit = Live.CurrentScope.Value?.Unit;
        return unit is null ? default : unit.Session.ParkAsync(unit, name);
    }

    private void Park(Unit unit, string name)
    {
        ManualResetEventSlim released;
        lock (_lock)
        {
            if (!ShouldParkLocked(unit, name))
            {
                return;
            }
            released = new ManualResetEventSlim();
            unit.ParkedThread = released;
            unit.Status = UnitStatus.Parked;
            ParkedLocked(unit);
        }
        released.Wait();
        released.Dispose();
        switch (unit.Decision)
        {
            case ParkDecision.Retire:
                throw new UnitRetiredException(unit.Name, stopping: false);
            case ParkDecision.Stop:
                throw new UnitRetiredException(unit.Name, stopping: true);
        }
    }

    private ValueTask ParkAsync(Unit unit, string name)
    {
        TaskCompletionSource released;
        lock (_lock)
        {
            if (!ShouldParkLocked(unit, name))
            {
                return default;
            }
            released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            unit.ParkedTask = released;
            unit.Status = UnitStatus.Parked;
            ParkedLocked(unit);
        }
        return new ValueTask(released.Task);
    }

    private bool ShouldParkLocked(Unit unit, string name)
    {
        unit.LastSeenAt = name;
        unit.LastSeenTime = DateTimeOffset.UtcNow;
        if (unit.Status != UnitStatus.Running)
        {
            return false;
        }
        if (_pending == Pending.Stop)
        {
            unit.Status = UnitStatus.Ended;
            throw new UnitRetiredException(unit.Name, stopping: true);
        }
        return _pending == Pending.Update || _retiring.Contains(unit);
    }

    private void ParkedLocked(Unit unit)
    {
        if (_retiring.Contains(unit))
        {
            ReleaseLocked(unit, ParkDecision.Retire);
            return;
        }
        CheckArrivalLocked();
    }

    private void CheckArrivalLocked()
    {
        if (_arrival is null)
        {
            return;
        }
        if (_awaitIncoming && _restartFault is not null)
        {
            _arrival.TrySetResult();
            return;
        }
        var awaited = _awaitIncoming ? _incoming : _current;
        if (awaited is not null)
        {
            foreach (var unit in awaited.Values)
            {
                if (unit.Status == UnitStatus.Running)
                {
                    return;
                }
            }
        }
        _arrival.TrySetResult();
    }

    private void ReleaseLocked(Unit unit, ParkDecision decision)
    {
        var wasParked = unit.Status == UnitStatus.Parked;
        unit.Decision = decision;
        if (decision == ParkDecision.Continue)
        {
            unit.Status = UnitStatus.Running;
        }
        else if (!wasParked)
        {
            // Still running: it retires at its next update point (or ends by itself).
            if (!_retiring.Contains(unit))
            {
                _retiring.Add(unit);
            }
            return;
        }
        else
        {
            unit.Status = UnitStatus.Ended;
            ForgetRetiredLocked(unit);
        }
        if (unit.ParkedThread is { } thread)
        {
            unit.ParkedThread = null;
            thread.Set();
        }
        if (unit.ParkedTask is { } task)
        {
            unit.ParkedTask = null;
            switch (decision)
            {
                case ParkDecision.Continue:
                    task.TrySetResult();
                    break;
                case ParkDecision.Stop:
                    task.TrySetException(new UnitRetiredException(unit.Name, stopping: true));
                    break;
                case ParkDecision.Retire:
                    // Abandon the old version's async unit: nothing completes its task, so its state machine
                    // (and the old code it holds) becomes garbage, and no finally block of the old version runs.
                    break;
            }
        }
    }

    private void ForgetRetiredLocked(Unit unit)
    {
        if (_retiring.Remove(unit) && _retiring.Count == 0)
        {
            UpdateCountLocked();
        }
    }

    /// <summary>Keeps the global pending count in step with whether this session needs the slow path.</summary>
    private void UpdateCountLocked()
    {
        // Stopping needs the slow path only while some unit may still reach an update point.
        var needed = _pending == Pending.Update
            || _retiring.Count > 0
            || (_pending == Pending.Stop && (_current.Count > 0 || _incoming is not null));
        if (needed && !_countedPending)
        {
            Interlocked.Increment(ref PendingSessions);
            _countedPending = true;
        }
        else if (!needed && _countedPending)
        {
            Interlocked.Decrement(ref PendingSessions);
            _countedPending = false;
        }
    }

    // ---- The host's side of an update ----------------------------------------------------------

    /// <summary>Asks every unit to park at its next update point and wakes the blocked ones.</summary>
    /// <returns>A task that completes when every unit of the running version has parked or ended.</returns>
    public Task RequestQuiescence()
    {
        CancellationTokenSource wake;
        Task arrived;
        lock (_lock)
        {
            if (_pending != Pending.None)
            {
                throw new InvalidOperationException(_pending == Pending.Stop ? "The program is stopping." : "An update is already in progress.");
            }
            _pending = Pending.Update;
            UpdateCountLocked();
            _arrival = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _awaitIncoming = false;
            arrived = _arrival.Task;
            wake = _wake;
            CheckArrivalLocked();
        }
        CancelQuietly(wake);
        return arrived;
    }

    /// <summary>The units of the running version with their state and where each is (parked or last seen).</summary>
    public IReadOnlyList<UnitInfo> DescribeUnits()
    {
        lock (_lock)
        {
            return [.. _current.Values.Select(Describe).OrderBy(u => u.Name, StringComparer.Ordinal)];
        }
    }

    /// <summary>The running version's units with their state, their entries and the update point each was last at, for a compatibility check.</summary>
    public IReadOnlyList<(string Name, object State, UnitEntry Entry, string? LastSeenAt)> UnitEntries()
    {
        lock (_lock)
        {
            return [.. _current.Values.Where(u => u.Status != UnitStatus.Ended)
                .Select(u => (u.Name, u.State, u.Entry, u.LastSeenAt)).OrderBy(u => u.Name, StringComparer.Ordinal)];
        }
    }

    /// <summary>The parked units of the running version, with their state objects, for the transfer.</summary>
    public IReadOnlyList<(string Name, object State, string ParkedAt, UnitEntry Entry)> ParkedUnits()
    {
        lock (_lock)
        {
            return [.. _current.Values
                .Where(u => u.Status == UnitStatus.Parked)
                .Select(u => (u.Name, u.State, u.LastSeenAt ?? "", u.Entry))];
        }
    }

    /// <summary>The scope the program's entry point runs in: the first start, or the start-up of the restart under way.</summary>
    public LiveScope StartUpScope(bool isUpdating)
    {
        lock (_lock)
        {
            if (isUpdating && _incoming is null)
            {
                throw new InvalidOperationException("An update's start-up runs only during a restart.");
            }
            return new LiveScope(this, unit: null, isStartingUpdate: isUpdating, isUpdating ? _incomingEpoch : _currentEpoch);
        }
    }

    /// <summary>Starts the restart: units that the new version's code starts from now on belong to the incoming version.</summary>
    public void BeginRestart(IEnumerable<MigratingUnit> migrating)
    {
        lock (_lock)
        {
            _incomingEpoch = ++_lastEpoch;
            _incoming = new Dictionary<string, Unit>(StringComparer.Ordinal);
            _migrating = migrating.ToDictionary(m => m.Name, StringComparer.Ordinal);
            _restartFault = null;
        }
    }

    /// <summary>A task that completes when every unit of the incoming version has parked at its first update point, ended, or faulted.</summary>
    public Task AwaitRestartArrival()
    {
        lock (_lock)
        {
            _arrival = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _awaitIncoming = true;
            var arrived = _arrival.Task;
            CheckArrivalLocked();
            return arrived;
        }
    }

    /// <summary>The first exception thrown by a unit of the incoming version, if any.</summary>
    public (string Unit, Exception Error)? RestartFault
    {
        get
        {
            lock (_lock)
            {
                return _restartFault is { } f ? (f.Unit.Name, f.Error) : null;
            }
        }
    }

    /// <summary>The incoming version's units that have not reached an update point yet.</summary>
    public IReadOnlyList<UnitInfo> UnitsNotArrived(bool incoming)
    {
        lock (_lock)
        {
            var units = incoming ? _incoming : _current;
            return units is null ? [] : [.. units.Values.Where(u => u.Status == UnitStatus.Running).Select(Describe)];
        }
    }

    public IReadOnlyList<UnitInfo> DescribeIncomingUnits()
    {
        lock (_lock)
        {
            return _incoming is null ? [] : [.. _incoming.Values.Select(Describe).OrderBy(u => u.Name, StringComparer.Ordinal)];
        }
    }

    /// <summary>Retires the old version's units and lets the new version's units go on.</summary>
    /// <returns>The retired thread units' threads, to check later that they ended.</returns>
    public List<(string Name, WeakReference<Thread> Thread)> Commit()
    {
        lock (_lock)
        {
            if (_incoming is null)
            {
                throw new InvalidOperationException("There is no restart to commit.");
            }
            var retiredThreads = RetireLocked(_current.Values);
            _current = _incoming;
            _incoming = null;
            _migrating = null;
            _generation++;
            _currentEpoch = _incomingEpoch;
            FinishUpdateLocked();
            return retiredThreads;
        }
    }

    /// <summary>Retires the incoming version's units (if any) and lets the old version's units go on, untouched.</summary>
    public void Rollback()
    {
        lock (_lock)
        {
            if (_incoming is not null)
            {
                RetireLocked(_incoming.Values);
                _incoming = null;
            }
            _migrating = null;
            FinishUpdateLocked();
        }
    }

    private List<(string, WeakReference<Thread>)> RetireLocked(IEnumerable<Unit> units)
    {
        var threads = new List<(string, WeakReference<Thread>)>();
        foreach (var unit in units.ToList())
        {
            if (unit.Thread is { } thread)
            {
                threads.Add((unit.Name, thread));
            }
            ReleaseLocked(unit, ParkDecision.Retire);
            unit.Forget();
        }
        return threads;
    }

    private void FinishUpdateLocked()
    {
        _pending = Pending.None;
        _arrival = null;
        _awaitIncoming = false;
        _restartFault = null;
        // A fresh token before any unit goes on: the old one stays cancelled.
        _wake = new CancellationTokenSource();
        UpdateCountLocked();
        foreach (var unit in _current.Values.ToList())
        {
            if (unit.Status == UnitStatus.Parked)
            {
                ReleaseLocked(unit, ParkDecision.Continue);
            }
        }
    }

    // ---- Stopping ------------------------------------------------------------------------------

    /// <summary>Ends every unit: each leaves its next update point by exception, so its finally blocks run.</summary>
    /// <returns>True when every unit ended before the deadline.</returns>
    public async Task<bool> StopAsync(TimeSpan deadline, TimeProvider time)
    {
        CancellationTokenSource wake;
        Task ended;
        lock (_lock)
        {
            _pending = Pending.Stop;
            UpdateCountLocked();
            _allEnded ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_current.Count == 0 && _incoming is null)
            {
                _allEnded.TrySetResult();
            }
            ended = _allEnded.Task;
            wake = _wake;
            foreach (var unit in _current.Values.ToList())
            {
                if (unit.Status == UnitStatus.Parked)
                {
                    ReleaseLocked(unit, ParkDecision.Stop);
                    unit.Status = UnitStatus.Ended;
                }
            }
        }
        CancelQuietly(wake);
        using var timeout = new CancellationTokenSource(deadline, time);
        try
        {
            await ended.WaitAsync(timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (IsHosted)
        {
            return;
        }
        Task ended;
        lock (_lock)
        {
            if (_allEnded is null || _allEnded.Task.IsCompleted && _current.Count > 0)
            {
                // A new wait when units were started again after the last one ended.
                _allEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            if (_current.Count == 0)
            {
                _allEnded.TrySetResult();
            }
            ended = _allEnded.Task;
        }
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);
        try
        {
            await ended.WaitAsync(stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await StopAsync(TimeSpan.FromSeconds(10), TimeProvider.System).ConfigureAwait(false);
        }

        void Cancel(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }
    }

    private static void CancelQuietly(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (AggregateException e)
        {
            // A callback registered by the program threw; the units still wake.
            Debug.WriteLine(e);
        }
    }

    private static UnitInfo Describe(Unit u) =>
        new(u.Name, u.Entry.OnThread ? "thread" : "task", u.Status.ToString(), u.LastSeenAt, u.LastSeenTime, u.ResumedFrom);
}

/// <summary>An old version's unit on its way to the new version: its transferred state and where it was parked.</summary>
internal sealed record MigratingUnit(string Name, object State, string ParkedAt, string EntryTypeName, string EntryMethodName, bool OnThread);

/// <summary>A unit as Molt sees it.</summary>
/// <param name="Name">The unit's name.</param>
/// <param name="Kind">"task" or "thread".</param>
/// <param name="Status">Running, Parked or Ended.</param>
/// <param name="LastSeenAt">The last update point where the unit was seen, or null.</param>
/// <param name="LastSeenTime">When.</param>
/// <param name="ResumedFrom">Where the old version's unit was parked, for a unit resumed by an update.</param>
internal sealed record UnitInfo(string Name, string Kind, string Status, string? LastSeenAt, DateTimeOffset LastSeenTime, string? ResumedFrom);
