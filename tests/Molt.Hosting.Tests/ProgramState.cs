namespace Molt.Hosting.Tests;

/// <summary>Reads a hosted program's state from the test, by calling its static methods in the running version.</summary>
internal static class ProgramState
{
    public static object? Call(MoltHost host, string typeName, string method, params object?[] args) =>
        Molt.Testing.ProgramState.Call(host, typeName, method, args);
}
