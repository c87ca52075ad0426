namespace Molt.Hosting;

/// <summary>
/// An exception thrown by the program's code during an update, as text: its type, message and stack trace.
/// The original is not kept, because its stack trace would keep that version's code from being unloaded.
/// </summary>
public sealed class ProgramException : Exception
{
    internal ProgramException(Exception original)
        : base($"{original.GetType().FullName}: {original.Message}")
    {
        OriginalType = original.GetType().FullName ?? original.GetType().Name;
        OriginalStackTrace = original.StackTrace;
    }

    /// <summary>The full name of the original exception's type.</summary>
    public string OriginalType { get; }

    /// <summary>The original exception's stack trace.</summary>
    public string? OriginalStackTrace { get; }

    /// <inheritdoc/>
    public override string? StackTrace => OriginalStackTrace;
}
