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
        ByTurns = IsTurn(method);
        if (parameters.Length != 1 && !ByTurns)
        {
            throw new ArgumentException($"A unit's entry takes exactly one parameter, its state ('{Describe(method)}').", "entry");
        }
        StateType = parameters[0].ParameterType;
    }

    /// <summary>
    /// Whether the entry is one turn of a unit that runs by turns: <c>Task&lt;bool&gt; M(TState, CancellationToken)</c>. Molt runs
    /// the turns in a loop with the update point between two turns, so the unit's code has none of its own.
    /// </summary>
    public bool ByTurns { get; }

    private static bool IsTurn(MethodInfo method) =>
        method.ReturnType == typeof(Task<bool>) && method.GetParameters() is [_, { ParameterType: var token }] && token == typeof(CancellationToken);

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

    /// <summary>A unit that runs by turns (<see cref="ByTurns"/>), as a task.</summary>
    public static UnitEntry ForTurns(MethodInfo method)
    {
        if (!IsTurn(method))
        {
            throw new ArgumentException($"A turn takes the unit's state and a CancellationToken and returns Task<bool> ('{Describe(method)}').", "turn");
        }
        return new UnitEntry(method, onThread: false);
    }

    /// <summary>
    /// The entry of the same declaring type and name in the new version, or null when the new version has none.
    /// </summary>
    public static UnitEntry? Resolve(string declaringTypeName, string methodName, bool onThread, Func<string, Type?> findType)
    {
        // An entry of a library every version shares (Molt.Extensions.Hosting's units) is the same method in the new version.
        var type = findType(declaringTypeName)
            ?? System.Runtime.Loader.AssemblyLoadContext.Default.Assemblies.Select(a => a.GetType(declaringTypeName)).FirstOrDefault(t => t is not null);
        var method = type?
            .GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
            .FirstOrDefault(m => m.Name == methodName && (m.GetParameters().Length == 1 || IsTurn(m)) && !m.IsGenericMethodDefinition);
        if (method is null)
        {
            return null;
        }
        return onThread ? ForThread(method) : IsTurn(method) ? ForTurns(method) : ForTask(method);
    }

    public string DeclaringTypeName => Method.DeclaringType!.FullName!;

    public override string ToString() => Describe(Method);

    private static string Describe(MethodInfo method) => $"{method.DeclaringType?.FullName}.{method.Name}";
}
