namespace Molt.Hosting.Transfer;

/// <summary>A piece of old state that the transfer cannot carry; the transaction adds the path to it.</summary>
internal sealed class StateTransferException(string reason, object? offender, Exception? inner = null)
    : Exception(reason, inner)
{
    /// <summary>The old object that could not be transferred, to find its path from a root.</summary>
    public object? Offender { get; } = offender;
}
