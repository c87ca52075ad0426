using System.Reflection;

namespace Molt;

/// <summary>
/// How a unit starts: its entry method and whether it runs as a task or on a thread of its own. Kept as a
/// method, not a delegate, so that a new version can find the method of the same type and name.
/// </summary>
internal sealed class UnitEntry
{
    private UnitEntry(MethodInfo method, bool onThread)
    {
        Method = Live.ValidateEntry(method);
        OnThread = onThread;
        var parameters = method.GetParameters();
        if (parameters.Length != 1)
        {
            throw new ArgumentException($"A unit's entry takes exactly one parameter, its state ('{Describe(method)}').", "entry");
        }
        StateType = parameters[0].ParameterType;
    }

    public MethodInfo Method { get; }

    public bool OnThread { get; }

    public Type StateType { get; }

    public static UnitEntry ForTask(MethodInfo method)
    {
        if (!typeof(Task).IsAssignableFrom(method.ReturnType))
        {
            throw new ArgumentException($"An asynchronous unit's entry returns a Task ('{Describe(method)}').", "entry");
        }
        return new UnitEntry(method, onThread: false);
    }

    public static UnitEntry ForThread(MethodInfo method) => new(method, onThread: true);

    /// <summary>
    /// The entry of the same declaring type and name in the new version, or null when the new version has none.
    /// </summary>
    public static UnitEntry? Resolve(string declaringTypeName, string methodName, bool onThread, Func<string, Type?> findType)
    {
        var type = findType(declaringTypeName);
        var method = type?
            .GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
            .FirstOrDefault(m => m.Name == methodName && m.GetParameters().Length == 1 && !m.IsGenericMethodDefinition);
        if (method is null)
        {
            return null;
        }
        return onThread ? ForThread(method) : ForTask(method);
    }

    public string DeclaringTypeName => Method.DeclaringType!.FullName!;

    public override string ToString() => Describe(Method);

    private static string Describe(MethodInfo method) => $"{method.DeclaringType?.FullName}.{method.Name}";
}
