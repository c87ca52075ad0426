namespace Molt;

/// <summary>What a unit is doing, as far as Molt knows.</summary>
internal enum UnitStatus
{
    /// <summary>Started, between update points.</summary>
    Running,
    /// <summary>Waiting at an update point for the update's decision.</summary>
    Parked,
    /// <summary>Its entry returned or threw, or it was retired.</summary>
    Ended,
}

/// <summary>What a parked unit does when it is released.</summary>
internal enum ParkDecision
{
    /// <summary>Go on in the same version: the update was cancelled, rolled back, or committed and this is the new unit.</summary>
    Continue,
    /// <summary>Stop here for ever: the update committed and the unit runs in the new version now.</summary>
    Retire,
    /// <summary>End by exception: the program is stopping, so the unit's finally blocks run.</summary>
    Stop,
}

/// <summary>One named, long-running unit of work of one version of a program.</summary>
internal sealed class Unit(ProgramSession session, string name, object state, UnitEntry entry, int generation, string? resumedFrom)
{
    public ProgramSession Session { get; } = session;

    public string Name { get; } = name;

    /// <summary>The state object handed to the entry; transferred to the new version at an update.</summary>
    public object State { get; private set; } = state;

    public UnitEntry Entry { get; } = entry;

    /// <summary>The version generation the unit belongs to (0 for the first version).</summary>
    public int Generation { get; } = generation;

    /// <summary>The start of the program's code this unit belongs to (see <see cref="LiveScope.Epoch"/>).</summary>
    public int Epoch { get; init; }

    /// <summary>The update point the old version's unit was parked at, when this unit was resumed by an update.</summary>
    public string? ResumedFrom { get; } = resumedFrom;

    /// <summary>Guarded by the session's lock.</summary>
    public UnitStatus Status { get; set; }

    /// <summary>The last update point where Molt saw the unit (or where it was resumed); guarded by the session's lock.</summary>
    public string? LastSeenAt { get; set; } = resumedFrom;

    /// <summary>When the unit last parked or started; guarded by the session's lock.</summary>
    public DateTimeOffset LastSeenTime { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>The exception its entry ended with, when it faulted.</summary>
    public Exception? Fault { get; set; }

    /// <summary>Set while a thread unit is parked; signalled to release it.</summary>
    public ManualResetEventSlim? ParkedThread { get; set; }

    /// <summary>Set while an asynchronous unit is parked; completed to release it, dropped to abandon it.</summary>
    public TaskCompletionSource? ParkedTask { get; set; }

    /// <summary>The decision read by a thread unit when it is released.</summary>
    public ParkDecision Decision { get; set; }

    /// <summary>The unit's thread, for a thread unit (weakly held once retired).</summary>
    public WeakReference<Thread>? Thread { get; set; }

    /// <summary>Drops the unit's references into its version so that a retired version can be collected.</summary>
    public void Forget() => State = null!;

    public override string ToString() => $"unit '{Name}'";
}
