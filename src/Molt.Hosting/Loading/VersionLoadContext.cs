using System.Reflection;
using System.Runtime.Loader;

namespace Molt.Hosting.Loading;

/// <summary>
/// The context that holds one version of a program: its own assemblies and the libraries shipped beside it.
/// The Molt runtime and the framework are shared from the default context, which is what lets framework
/// objects pass between versions by reference. Collectible unless the host keeps old code loaded
/// (<see cref="MoltHostOptions.UnloadOldCode"/>): the runtime does not tier code in a collectible context.
/// </summary>
internal sealed class VersionLoadContext(string mainAssemblyPath, int generation, bool collectible)
    : AssemblyLoadContext($"molt-v{generation}:{Path.GetFileNameWithoutExtension(mainAssemblyPath)}", collectible)
{
    /// <summary>Assemblies that every version shares with the host, whatever copy the program ships.</summary>
    private static readonly HashSet<string> Shared = new(StringComparer.OrdinalIgnoreCase) { "Molt" };

    private readonly AssemblyDependencyResolver _resolver = new(mainAssemblyPath);
    private readonly string _mainName = Path.GetFileNameWithoutExtension(mainAssemblyPath);

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (assemblyName.Name is null || Shared.Contains(assemblyName.Name) || IsLoadedByHost(assemblyName))
        {
            return null;
        }
        var path = _resolver.ResolveAssemblyToPath(assemblyName);
        return path is null ? null : LoadFromAssemblyPath(path);
    }

    /// <summary>
    /// A library the host already runs (a logging abstraction, say) at the same or a newer version is shared
    /// too, so that objects of its types pass between versions by reference instead of being rebuilt.
    /// </summary>
    private bool IsLoadedByHost(AssemblyName requested) =>
        !string.Equals(requested.Name, _mainName, StringComparison.OrdinalIgnoreCase)
        && Default.Assemblies.Any(a => a.GetName() is { } loaded
            && string.Equals(loaded.Name, requested.Name, StringComparison.OrdinalIgnoreCase)
            && (requested.Version is null || loaded.Version >= requested.Version));

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        var path = _resolver.ResolveUnmanagedDllToPath(unmanagedDllName);
        return path is null ? IntPtr.Zero : LoadUnmanagedDllFromPath(path);
    }
}
