using System.Reflection;
using System.Runtime.Loader;

namespace Molt.Hosting.Tests;

/// <summary>Reads a hosted program's state from the test, by calling its static methods in the running version.</summary>
internal static class ProgramState
{
    public static object? Call(MoltHost host, string typeName, string method, params object?[] args)
    {
        var assembly = AssemblyLoadContext.All
            .Where(c => c.IsCollectible && c.Name is { } n && n.StartsWith($"molt-v{host.Version.Generation}:", StringComparison.Ordinal))
            .SelectMany(c => c.Assemblies)
            .First(a => a.Location == host.Version.AssemblyPath);
        var type = assembly.GetType(typeName) ?? throw new InvalidOperationException($"No type {typeName} in {host.Version}.");
        return type.GetMethod(method, BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)!.Invoke(null, args);
    }
}
