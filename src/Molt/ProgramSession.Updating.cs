namespace Molt;

// The host's side of an update: quiescence requested, the parked state handed out, the restart, then commit or rollback (the order of an update's phases is stated once, on UpdateLifecycle in Molt.Hosting).
internal sealed partial class ProgramSession
{
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
            ThrowUnlessUpdatingLocked("begin a restart");
            if (_incoming is not null)
            {
                throw new InvalidOperationException("Cannot begin a restart: the update is already restarting the units.");
            }
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
            if (_incoming is null)
            {
                throw new InvalidOperationException("Cannot await the new version's units: no restart is under way.");
            }
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
        List<(string Name, WeakReference<Thread> Thread)> retired;
        int epoch;
        lock (_lock)
        {
            retired = CommitLocked();
            epoch = _currentEpoch;
        }
        VersionsEnded(epoch);
        return retired;
    }

    private List<(string Name, WeakReference<Thread> Thread)> CommitLocked()
    {
        ThrowUnlessUpdatingLocked("commit");
        if (_incoming is null)
        {
            throw new InvalidOperationException("Cannot commit: the new version's units have not been restarted.");
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

    /// <summary>Retires the incoming version's units (if any) and lets the old version's units go on, untouched.</summary>
    public void Rollback()
    {
        int epoch;
        lock (_lock)
        {
            ThrowUnlessUpdatingLocked("roll back");
            if (_incoming is not null)
            {
                RetireLocked(_incoming.Values);
                _incoming = null;
            }
            _migrating = null;
            FinishUpdateLocked();
            epoch = _currentEpoch;
        }
        VersionsEnded(epoch);
    }

    /// <summary>Restart, commit and rollback belong to an update whose quiescence was requested, and to no other moment.</summary>
    private void ThrowUnlessUpdatingLocked(string what)
    {
        switch (_pending)
        {
            case Pending.None:
                throw new InvalidOperationException($"Cannot {what}: no update is in progress.");
            case Pending.Stop:
                throw new InvalidOperationException($"Cannot {what}: the program is stopping.");
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
}
