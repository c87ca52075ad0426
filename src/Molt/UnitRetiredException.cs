namespace Molt;

/// <summary>
/// Thrown at an update point of a thread unit that must end: the program is stopping, or the unit's state
/// was handed to another version of the program (an update committed, or a new version was rolled back).
/// Let it propagate: the thread ends, and with it this version's hold on its code.
/// </summary>
/// <remarks>
/// The thread unwinds, so its <c>finally</c> blocks run. When <see cref="Stopping"/> is false, the resources in
/// the unit's state (its sockets, say) now belong to the other version: a <c>finally</c> block must not dispose
/// them then. (An asynchronous unit is not unwound at an update: it is abandoned, and no <c>finally</c> runs.)
/// </remarks>
public sealed class UnitRetiredException : OperationCanceledException
{
    /// <summary>Creates the exception for the unit of the given name.</summary>
    /// <param name="unitName">The unit that is retired.</param>
    /// <param name="stopping">True when the program is stopping; false when the unit's state went to another version.</param>
    public UnitRetiredException(string unitName, bool stopping)
        : base(stopping
            ? $"Unit '{unitName}' is retired: the program is stopping."
            : $"Unit '{unitName}' is retired: its state was handed to another version of the program, which owns its resources now.")
    {
        UnitName = unitName;
        Stopping = stopping;
    }

    /// <summary>The retired unit's name.</summary>
    public string UnitName { get; }

    /// <summary>True when the program is stopping (dispose what the unit holds); false when another version took over its state (leave it alone).</summary>
    public bool Stopping { get; }
}
