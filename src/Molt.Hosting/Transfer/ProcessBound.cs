using System.Reflection;
using System.Runtime.InteropServices;

namespace Molt.Hosting.Transfer;

/// <summary>
/// What belongs to the process it was made in and cannot mean the same in another: a process update refuses it, where an
/// in-process update may pass it by reference. One list for the state stream's writer (by the runtime type it meets) and for
/// the check before a process update (by a field's declared type).
/// </summary>
internal static class ProcessBound
{
    /// <summary>Why an object of <paramref name="type"/> cannot cross to another process, or null.</summary>
    public static string? Why(Type type) => type switch
    {
        _ when typeof(Delegate).IsAssignableFrom(type) => "a delegate (a lambda, a method, an event's handlers) is code of this process",
        _ when typeof(Task).IsAssignableFrom(type) => "a Task is work running in this process",
        _ when type == typeof(Thread) => "a Thread runs in this process only",
        _ when type == typeof(Timer) || type == typeof(System.Timers.Timer) || type == typeof(PeriodicTimer) => "a timer calls back into this process",
        _ when typeof(SafeHandle).IsAssignableFrom(type) => "a handle of this process (a file, a native resource) does not exist in another",
        _ when typeof(WaitHandle).IsAssignableFrom(type) => "a wait handle belongs to this process",
        _ when typeof(MemberInfo).IsAssignableFrom(type) || typeof(Assembly).IsAssignableFrom(type) || typeof(Module).IsAssignableFrom(type)
            => "a reflection object (method, field, assembly) names this process's loaded code",
        _ when type == typeof(Pointer) => "a pointer is an address in this process",
        _ when type.Namespace == "System.Runtime.Loader" => "a load context belongs to this process",
        _ => null,
    };

    /// <summary>
    /// Why a field declared as <paramref name="declared"/> is certain to hold what cannot cross to another process, when it
    /// holds anything: the types above, and the framework's wrappers of a handle of this process (a <c>FileStream</c>, a
    /// <c>Process</c>). A <c>NetworkStream</c> crosses (its socket does); a <c>MemoryStream</c> is bytes.
    /// </summary>
    public static string? WhyDeclared(Type declared)
    {
        if (declared.HasElementType)
        {
            return WhyDeclared(declared.GetElementType()!);
        }
        if (Why(declared) is { } why)
        {
            return why;
        }
        if (typeof(FileStream).IsAssignableFrom(declared) || typeof(System.IO.Pipes.PipeStream).IsAssignableFrom(declared))
        {
            return "a stream over a file or pipe of this process, whose handle does not exist in another (keep its path and position, and reopen it)";
        }
        if (declared == typeof(System.Diagnostics.Process))
        {
            return "a Process object names a child of this process";
        }
        return null;
    }
}
