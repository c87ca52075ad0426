namespace Molt;

/// <summary>The program, unit and start-up mode that a flow of execution runs in (carried by an AsyncLocal).</summary>
internal sealed class LiveScope(ProgramSession session, Unit? unit, bool isStartingUpdate, int epoch)
{
    public ProgramSession Session { get; } = session;
    public Unit? Unit { get; } = unit;
    public bool IsStartingUpdate { get; } = isStartingUpdate;

    /// <summary>Which start of the program's code (first start or one update's restart) this flow belongs to.</summary>
    public int Epoch { get; } = epoch;

    /// <summary>
    /// For a start-up: completed when the program says its start-up is done though its entry point goes on running (a
    /// hosted application's <c>Main</c> runs its host until it stops).
    /// </summary>
    public TaskCompletionSource StartedUp { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
