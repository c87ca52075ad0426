using System.Reflection;
using Molt.Hosting;

namespace Molt.Testing;

/// <summary>Reads a hosted program's state from outside, by calling static methods of its running version.</summary>
public static class ProgramState
{
    /// <summary>Calls a static method of the running version of the host's program.</summary>
    /// <param name="host">The host running the program.</param>
    /// <param name="typeName">The full name of the program's type that declares the method.</param>
    /// <param name="method">The static method's name (public or not).</param>
    /// <param name="args">Its arguments.</param>
    /// <returns>What the method returned.</returns>
    /// <exception cref="InvalidOperationException">The running version has no such type.</exception>
    public static object? Call(MoltHost host, string typeName, string method, params object?[] args)
    {
        ArgumentNullException.ThrowIfNull(host);
        var assembly = host.RunningAssembly;
        var type = assembly.GetType(typeName) ?? throw new InvalidOperationException($"No type {typeName} in {host.Version}.");
        var found = type.GetMethod(method, BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)
            ?? throw new InvalidOperationException($"No static method {typeName}.{method} in {host.Version}.");
        return found.Invoke(null, args);
    }
}
