namespace Molt;

// Update points and quiescence: a unit parks at its update point while an update or a stop is pending, and is released with a decision.
internal sealed partial class ProgramSession
{
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
}
