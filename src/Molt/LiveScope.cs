namespace Molt;

/// <summary>The program, unit and start-up mode that a flow of execution runs in (carried by an AsyncLocal).</summary>
internal sealed class LiveScope(ProgramSession session, Unit? unit, bool isStartingUpdate, int epoch)
{
    public ProgramSession Session { get; } = session;
    public Unit? Unit { get; } = unit;
    public bool IsStartingUpdate { get; } = isStartingUpdate;

    /// <summary>Which start of the program's code (first start or one update's restart) this flow belongs to.</summary>
    public int Epoch { get; } = epoch;
}
