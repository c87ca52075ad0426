using System.Reflection;

namespace Molt;

// The registry of units: starting them (in the running or the incoming version), resuming migrated ones, and their end.
internal sealed partial class ProgramSession
{
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

    /// <summary>
    /// Takes the migrated state of an old unit of that name, during a restart, before the new version's code starts its
    /// own unit (a framework that needs the state before it can build what the unit runs), or null.
    /// </summary>
    public MigratingUnit? TakeMigratingUnit(string name)
    {
        lock (_lock)
        {
            return _migrating is not null && _migrating.Remove(name, out var migrating) ? migrating : null;
        }
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
            if (unit.Entry.ByTurns)
            {
                await RunTurnsAsync(unit).ConfigureAwait(false);
                Ended(unit, null);
                return;
            }
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

    /// <summary>A unit by turns: its update point is between two turns; a turn cut short by an update's wake-up is not a fault.</summary>
    private async Task RunTurnsAsync(Unit unit)
    {
        const string Between = "turn";
        while (true)
        {
            await Live.UpdatePointAsync(Between).ConfigureAwait(false);
            var wake = WakeToken;
            var end = TurnsEnd?.Invoke(unit.Name) ?? CancellationToken.None;
            if (end.IsCancellationRequested)
            {
                return;
            }
            var state = unit.State;
            bool more;
            using var either = CancellationTokenSource.CreateLinkedTokenSource(wake, end);
            try
            {
                more = await ((Task<bool>)unit.Entry.Method.Invoke(null, [state, either.Token])!).ConfigureAwait(false);
            }
            catch (Exception e) when (Unwrap(e) is OperationCanceledException && end.IsCancellationRequested)
            {
                return; // Its connection's client went away.
            }
            catch (Exception e) when (Unwrap(e) is OperationCanceledException && wake.IsCancellationRequested)
            {
                continue; // Woken for an update or a stop: the update point decides.
            }
            catch (TargetInvocationException e) when (e.InnerException is { } inner)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(inner);
                throw;
            }
            if (!more)
            {
                return;
            }
        }
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
        UnitEnded?.Invoke(unit.Name);
    }
}
