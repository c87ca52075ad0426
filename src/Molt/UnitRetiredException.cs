namespace Molt;

/// <summary>
/// Thrown at an update point of a thread unit whose program was updated (the new version runs the unit
/// now) or is stopping. Let it propagate: the thread ends, and with it the old version's hold on its code.
/// </summary>
public sealed class UnitRetiredException : OperationCanceledException
{
    /// <summary>Creates the exception for the unit of the given name.</summary>
    /// <param name="unitName">The unit that is retired.</param>
    /// <param name="reason">Why, in words: updated, or stopping.</param>
    public UnitRetiredException(string unitName, string reason)
        : base($"Unit '{unitName}' is retired: {reason}.")
    {
        UnitName = unitName;
    }

    /// <summary>The retired unit's name.</summary>
    public string UnitName { get; }
}
