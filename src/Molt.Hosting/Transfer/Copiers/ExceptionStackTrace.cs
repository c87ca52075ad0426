using System.Reflection;

namespace Molt.Hosting.Transfer.Copiers;

/// <summary>
/// Gives a copied exception its stack trace as text only. The runtime's stack trace data (and the cached
/// method that threw) reference the code that threw, and keep a collectible version loaded for ever.
/// </summary>
internal static class ExceptionStackTrace
{
    private const BindingFlags Private = BindingFlags.Instance | BindingFlags.NonPublic;

    private static readonly FieldInfo? Data = typeof(Exception).GetField("_stackTrace", Private);
    private static readonly FieldInfo? Method = typeof(Exception).GetField("_exceptionMethod", Private);
    private static readonly FieldInfo? Text = typeof(Exception).GetField("_stackTraceString", Private);

    public static void Detach(Exception old, Exception copy)
    {
        var text = old.StackTrace;
        Data?.SetValue(copy, null);
        Method?.SetValue(copy, null);
        Text?.SetValue(copy, text);
    }
}
