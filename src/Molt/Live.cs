using System.Reflection;

namespace Molt;

/// <summary>
/// What an updatable program calls: named update points, named units, the token that wakes blocked
/// waits when an update is requested, and whether the program is starting as an update.
/// </summary>
/// <remarks>
/// Run under the Molt host, the calls take part in live updates. Run on its own (<c>dotnet run</c>),
/// the same program works as an ordinary one: update points cost nothing, <see cref="IsUpdating"/> is
/// <see langword="false"/>, and <see cref="RunAsync"/> waits until every unit has ended.
/// </remarks>
public static class Live
{
    /// <summary>The program and unit that the current flow of execution belongs to; null for plain standalone code.</summary>
    internal static readonly AsyncLocal<LiveScope?> CurrentScope = new();

    /// <summary>
    /// <see langword="true"/> while the new version's entry point runs as part of an update: the program
    /// should skip its initialization (its state has been migrated) and only start its units.
    /// </summary>
    public static bool IsUpdating => CurrentScope.Value?.IsStartingUpdate ?? false;

    /// <summary>
    /// Fires when an update is requested (or the program is stopping). Pass it to every blocking wait in a
    /// unit (accept, receive, channel reads, delays) so that a unit blocked in I/O wakes and reaches its
    /// update point; catch the <see cref="OperationCanceledException"/> and go to the update point.
    /// </summary>
    /// <remarks>Read it again after each update point: every update request uses a new token.</remarks>
    public static CancellationToken UpdateRequested => Session.WakeToken;

    /// <summary>
    /// In a unit resumed by an update, the name of the update point where the unit of the old version was
    /// parked; <see langword="null"/> in a unit that started fresh, or outside a unit.
    /// </summary>
    public static string? ResumedFrom => CurrentScope.Value?.Unit?.ResumedFrom;

    /// <summary>The name of the unit that the current code runs in, or <see langword="null"/> outside a unit.</summary>
    public static string? CurrentUnit => CurrentScope.Value?.Unit?.Name;

    /// <summary>
    /// A named update point: a place in a unit's loop where its work is fully handled and the program can
    /// be updated. When no update is pending this costs one read of a static field.
    /// </summary>
    /// <param name="name">The update point's name; the unit resumes in the new version knowing it (<see cref="ResumedFrom"/>).</param>
    /// <exception cref="UnitRetiredException">The program was updated or is stopping, and this unit (a thread) must end.</exception>
    public static void UpdatePoint(string name)
    {
        if (Volatile.Read(ref ProgramSession.PendingSessions) == 0)
        {
            return;
        }
        ProgramSession.ParkHere(name);
    }

    /// <summary>
    /// A named update point in an asynchronous unit. When no update is pending this costs one read of a
    /// static field and completes synchronously.
    /// </summary>
    /// <param name="name">The update point's name.</param>
    /// <returns>
    /// A task that completes when the unit may go on. When the update commits, the task of the old
    /// version's unit never completes: the unit is abandoned, and its new version runs instead.
    /// </returns>
    public static ValueTask UpdatePointAsync(string name)
    {
        if (Volatile.Read(ref ProgramSession.PendingSessions) == 0)
        {
            return default;
        }
        return ProgramSession.ParkHereAsync(name);
    }

    /// <summary>
    /// Starts a named asynchronous unit: a long-running loop that Molt parks at its update points and
    /// re-creates in a new version, handing it the transformed <paramref name="state"/>.
    /// </summary>
    /// <typeparam name="TState">The unit's state: everything the loop needs to go on after an update.</typeparam>
    /// <param name="name">A name unique among the program's live units.</param>
    /// <param name="state">The unit's state. During an update's start-up, when the old version had a unit of this
    /// name, its migrated state is used instead.</param>
    /// <param name="entry">A static, named method (not a lambda): the new version resumes the unit with the method of
    /// the same type and name.</param>
    public static void StartUnit<TState>(string name, TState state, Func<TState, Task> entry)
        where TState : class
    {
        ArgumentNullException.ThrowIfNull(entry);
        Session.StartUnit(name, state, UnitEntry.ForTask(entry.Method), CurrentScope.Value);
    }

    /// <summary>
    /// Starts a named unit on a dedicated thread. At an update the old thread leaves its update point with a
    /// <see cref="UnitRetiredException"/> and a new thread runs the new version's entry.
    /// </summary>
    /// <typeparam name="TState">The unit's state.</typeparam>
    /// <param name="name">A name unique among the program's live units.</param>
    /// <param name="state">The unit's state (replaced by the migrated state during an update's start-up).</param>
    /// <param name="entry">A static, named method (not a lambda).</param>
    public static void StartThreadUnit<TState>(string name, TState state, Action<TState> entry)
        where TState : class
    {
        ArgumentNullException.ThrowIfNull(entry);
        Session.StartUnit(name, state, UnitEntry.ForThread(entry.Method), CurrentScope.Value);
    }

    /// <summary>
    /// Hands the program's lifetime to Molt once its units are started. Standalone, waits until every unit
    /// has ended, or until Ctrl-C or SIGTERM stop the units. Under the Molt host, returns at once: the host
    /// owns the program's lifetime.
    /// </summary>
    /// <param name="cancellationToken">Stops the units when cancelled (standalone).</param>
    public static Task RunAsync(CancellationToken cancellationToken = default) => Session.RunAsync(cancellationToken);

    private static ProgramSession Session => CurrentScope.Value?.Session ?? ProgramSession.Standalone;

    internal static MethodInfo ValidateEntry(MethodInfo method)
    {
        if (!method.IsStatic || method.Name.Contains('<') || method.DeclaringType is null)
        {
            throw new ArgumentException(
                $"A unit's entry must be a static, named method, not a lambda or an instance method ('{method.Name}'): " +
                "a new version resumes the unit with the method of the same type and name.", "entry");
        }
        return method;
    }
}
