namespace Molt.Hosting;

/// <summary>Why an update failed: the phase, the cause in words, and where relevant the path to the offending state.</summary>
public sealed class UpdateFailedException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="phase">The phase that failed.</param>
    /// <param name="message">What failed, in words an operator understands.</param>
    /// <param name="inner">The exception that caused it, if any.</param>
    /// <param name="statePath">The path from a static root or unit to the offending state, if any.</param>
    public UpdateFailedException(UpdatePhase phase, string message, Exception? inner = null, string? statePath = null)
        : base(message, inner)
    {
        Phase = phase;
        StatePath = statePath;
    }

    /// <summary>The phase that failed.</summary>
    public UpdatePhase Phase { get; }

    /// <summary>The path to the offending state (e.g. <c>static Shop.Program.cart → Cart.items[3] → Item.onChange</c>), if any.</summary>
    public string? StatePath { get; }
}
