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
/// <remarks>
/// With <paramref name="libraries"/>, each library of the program's own loads once in a context of its own, shared with the
/// other versions that ship the same build of it (<see cref="SharedLibraries"/>); without, it loads into this context.
/// </remarks>
internal sealed class VersionLoadContext(string mainAssemblyPath, int generation, bool collectible, bool typesOnly = false, SharedLibraries? libraries = null)
    : ProgramLoadContext($"molt-v{generation}{(typesOnly ? "-types" : "")}:{Path.GetFileNameWithoutExtension(mainAssemblyPath)}", collectible)
{
    private readonly Lock _librariesGate = new();
    private readonly List<SharedLibrary> _libraries = [];
    private HashSet<string>? _packages;

    /// <summary>
    /// The shared libraries this version uses, those its assemblies reference and those they reference in turn, in the
    /// order they were loaded; each is held (one user) by this version until <see cref="ReleaseLibraries"/>.
    /// </summary>
    public IReadOnlyList<SharedLibrary> Libraries => _closure;

    // Read on every ownership test: rebuilt when a library is added, never changed in place.
    private volatile SharedLibrary[] _closure = [];

    /// <summary>Whether one of the libraries this version uses has this context.</summary>
    public bool Uses(LibraryLoadContext context) => Array.Exists(_closure, l => l.Context == context);

    private static IEnumerable<SharedLibrary> Closure(SharedLibrary library) => [library, .. library.Dependencies.SelectMany(Closure)];

    /// <summary>Gives back the libraries this version held; those no version uses any more are released.</summary>
    public List<ReleasedLibrary> ReleaseLibraries()
    {
        List<SharedLibrary> held;
        lock (_librariesGate)
        {
            held = [.. _libraries];
            _libraries.Clear();
            _closure = [];
        }
        return libraries?.ReleaseAll(held) ?? [];
    }

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
    public override bool IsHostedApplication => _isHostedApplication ??= Assemblies
        .FirstOrDefault(a => string.Equals(a.GetName().Name, _mainName, StringComparison.OrdinalIgnoreCase))?
        .GetReferencedAssemblies().Any(r => r.Name == "Molt.Extensions.Hosting") == true;

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (assemblyName.Name is null || Shared.Contains(assemblyName.Name) || IsLoadedByHost(assemblyName))
        {
            return null;
        }
        var path = _resolver.ResolveAssemblyToPath(assemblyName);
        if (path is null)
        {
            return null;
        }
        if (libraries is not null && !typesOnly && IsLibrary(assemblyName)
            && libraries.Acquire(path, ProgramLibraryPath, IsCollectible) is { Assembly: { } shared } library)
        {
            library.Context!.UsedByHostedApplication(IsHostedApplication);
            lock (_librariesGate)
            {
                _libraries.Add(library);
                _closure = [.. _libraries.SelectMany(Closure).Distinct()];
            }
            return shared;
        }
        return LoadProgramAssembly(path);
    }

    /// <summary>A library of the program's own: neither its main assembly nor a package's.</summary>
    private bool IsLibrary(AssemblyName name) =>
        !string.Equals(name.Name, _mainName, StringComparison.OrdinalIgnoreCase)
        && !(_packages ??= ProgramVersion.PackageAssemblyNames(mainAssemblyPath)).Contains(name.Name ?? "");

    /// <summary>
    /// How a library's references resolve for this version: the path of one of the program's libraries; null for the
    /// framework, Molt and what the host shares; a package makes the library unshareable (its statics are per version).
    /// </summary>
    private string? ProgramLibraryPath(AssemblyName reference)
    {
        if (reference.Name is null || Shared.Contains(reference.Name) || IsLoadedByHost(reference)
            || _resolver.ResolveAssemblyToPath(reference) is not { } path)
        {
            return null;
        }
        return IsLibrary(reference) ? path : throw new SharedLibraries.NotShareableException();
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

/// <summary>A context that holds the program's code: a version's, or a shared library's.</summary>
internal abstract class ProgramLoadContext(string name, bool collectible) : AssemblyLoadContext(name, collectible)
{
    /// <summary>Whether the program is a hosted application (see <see cref="VersionLoadContext.IsHostedApplication"/>).</summary>
    public abstract bool IsHostedApplication { get; }
}
