using System.Diagnostics;

namespace Molt;

/// <summary>
/// One running program across its versions: its live units, the token that wakes them, and the
/// protocol by which an update parks them (quiescence), hands their state to the new version's
/// units, and then retires one generation of units and releases the other.
/// </summary>
/// <remarks>
/// The host drives an update through it in the order stated once on <c>UpdateLifecycle</c> (Molt.Hosting): here
/// <see cref="RequestQuiescence"/> → every current unit parks → <see cref="BeginRestart"/> → the new version's units start
/// and park at their first update point (<see cref="AwaitRestartArrival"/>) → <see cref="Commit"/> or <see cref="Rollback"/>.
/// Everything here runs on the slow path: a unit only reaches it while some session has an update pending.
/// The class is split by concern: the registry of units (ProgramSession.Units.cs), update points and parking
/// (.Parking.cs), the host's side of an update (.Updating.cs), stopping (.Stopping.cs), a standalone program's lifetime
/// and signals (.Signals.cs).
/// </remarks>
internal sealed partial class ProgramSession
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

    /// <summary>Called (outside the lock) when a unit's entry has returned or thrown, or a stop ended it.</summary>
    public Action<string>? UnitEnded { get; set; }

    /// <summary>For a unit by turns, the token that ends it (its connection's client went away), by unit name.</summary>
    public Func<string, CancellationToken>? TurnsEnd { get; set; }

    /// <summary>
    /// Called (outside the lock) when an update commits or rolls back, with the epoch that runs now: a hosting framework
    /// ends the versions that stopped running (their hosts stop, their containers are disposed). The host waits for what
    /// it returns (<see cref="EndingAsync"/>) before it proves the version it released collected.
    /// </summary>
    public Func<int, Task>? UpdateEnded { get; set; }

    private Task? _ending;

    /// <summary>What <see cref="UpdateEnded"/> started for the last update, once.</summary>
    public Task EndingAsync() => Interlocked.Exchange(ref _ending, null) ?? Task.CompletedTask;

    private void VersionsEnded(int epoch)
    {
        if (UpdateEnded is { } ended)
        {
            try
            {
                _ending = ended(epoch);
            }
            catch (Exception e)
            {
                _ending = Task.FromException(e);
            }
        }
    }

    /// <summary>
    /// Units that stay with this process in a process update (a connection the server here accepted: the new process
    /// cannot take it over): not written to the state stream; they end with this process.
    /// </summary>
    public Func<string, bool>? StaysInProcess { get; set; }

    /// <summary>Set while a process update pauses the program: a hosting framework stops accepting connections, which wait for the new process.</summary>
    public bool LeavingProcess { get; set; }

    /// <summary>What a hosting framework (Molt.Extensions.Hosting) keeps for this program across its versions.</summary>
    public object? HostingState { get; set; }

    /// <summary>Whether an update has been requested and has not committed or rolled back yet.</summary>
    public bool IsUpdatePending
    {
        get { lock (_lock) { return _pending == Pending.Update; } }
    }

    public CancellationToken WakeToken => Volatile.Read(ref _wake).Token;

    /// <summary>The generation of the running version's units.</summary>
    public int Generation
    {
        get { lock (_lock) { return _generation; } }
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
