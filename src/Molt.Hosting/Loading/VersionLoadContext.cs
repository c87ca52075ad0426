using System.Reflection;
using System.Runtime.Loader;

namespace Molt.Hosting.Loading;

/// <summary>
/// The context that holds one version of a program: its own assemblies and the libraries shipped beside it.
/// The Molt runtime and the framework are shared from the default context, which is what lets framework
/// objects pass between versions by reference. Collectible unless the host keeps old code loaded
/// (<see cref="MoltHostOptions.UnloadOldCode"/>): the runtime does not tier code in a collectible context.
/// </summary>
/// <remarks>
/// With <paramref name="typesOnly"/>, the program's assemblies are loaded from images whose static constructors do nothing
/// (<see cref="TypesOnlyImage"/>): the old version loaded again to read a state stream into, whose code never runs.
/// </remarks>
internal sealed class VersionLoadContext(string mainAssemblyPath, int generation, bool collectible, bool typesOnly = false)
    : AssemblyLoadContext($"molt-v{generation}{(typesOnly ? "-types" : "")}:{Path.GetFileNameWithoutExtension(mainAssemblyPath)}", collectible)
{
    /// <summary>Loads one of the program's assemblies: from a types-only image when the context is for types only.</summary>
    public Assembly LoadProgramAssembly(string path)
    {
        if (!typesOnly)
        {
            return LoadFromAssemblyPath(path);
        }
        using var image = new MemoryStream(TypesOnlyImage.Read(path), writable: false);
        var assembly = LoadFromStream(image);
        TypesOnlyImage.Remember(assembly, path);
        return assembly;
    }

    /// <summary>Assemblies that every version shares with the host, whatever copy the program ships.</summary>
    private static readonly HashSet<string> Shared = new(StringComparer.OrdinalIgnoreCase) { "Molt", "Molt.Extensions.Hosting" };

    private readonly AssemblyDependencyResolver _resolver = new(mainAssemblyPath);
    private readonly string _mainName = Path.GetFileNameWithoutExtension(mainAssemblyPath);

    private bool? _isHostedApplication;

    /// <summary>
    /// Whether the program is a hosted application (ASP.NET Core, the Generic Host) made updatable by
    /// Molt.Extensions.Hosting: its main assembly references that package. Its fields that hold the framework's
    /// services are not state (<see cref="Transfer.HostedFields"/>).
    /// </summary>
    public bool IsHostedApplication => _isHostedApplication ??= Assemblies
        .FirstOrDefault(a => string.Equals(a.GetName().Name, _mainName, StringComparison.OrdinalIgnoreCase))?
        .GetReferencedAssemblies().Any(r => r.Name == "Molt.Extensions.Hosting") == true;

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (assemblyName.Name is null || Shared.Contains(assemblyName.Name) || IsLoadedByHost(assemblyName))
        {
            return null;
        }
        var path = _resolver.ResolveAssemblyToPath(assemblyName);
        return path is null ? null : LoadProgramAssembly(path);
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
