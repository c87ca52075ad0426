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
/// Types only: the program's assemblies are loaded from images whose static constructors do nothing
/// (<see cref="TypesOnlyImage"/>): the old version loaded again to read a state stream into, whose code never runs.
/// </remarks>
/// <remarks>
/// With the host's shared libraries, each library of the program's own loads once in a context of its own, shared with the
/// other versions that ship the same build of it (<see cref="SharedLibraries"/>); without, it loads into this context.
/// </remarks>
internal sealed class VersionLoadContext : ProgramLoadContext
{
    private readonly string _mainAssemblyPath;
    private readonly bool _typesOnly;
    private readonly SharedLibraries? _registry;

    private VersionLoadContext(string mainAssemblyPath, int generation, bool collectible, bool typesOnly, SharedLibraries? libraries, ProgramReferences references,
        List<SharedLibrary> acquired)
        : base($"molt-v{generation}{(typesOnly ? "-types" : "")}:{Path.GetFileNameWithoutExtension(mainAssemblyPath)}", collectible)
    {
        _mainAssemblyPath = mainAssemblyPath;
        _typesOnly = typesOnly;
        _registry = libraries;
        _references = references;
        _libraries = acquired;
        _closure = [.. acquired.SelectMany(Closure).Distinct()];
    }

    /// <summary>
    /// A new version's context. The shared libraries its main assembly references (and those they reference) are acquired
    /// first, so that each library's context is older than every version's that uses it: the runtime keeps a generic
    /// instantiation over types of two collectible contexts (a <c>List&lt;(Entry, Connection)&gt;</c>) in the younger one, which
    /// then holds the older. A library younger than the version would hold the version for as long as the library lives.
    /// </summary>
    public static VersionLoadContext Create(string mainAssemblyPath, int generation, bool collectible, bool typesOnly = false, SharedLibraries? libraries = null)
    {
        var references = new ProgramReferences(mainAssemblyPath);
        var acquired = new List<SharedLibrary>();
        if (libraries is not null && !typesOnly)
        {
            foreach (var path in references.LibrariesReferencedBy(mainAssemblyPath))
            {
                if (libraries.Acquire(path, references.LibraryPath, collectible) is { } library)
                {
                    acquired.Add(library);
                }
            }
        }
        return new VersionLoadContext(mainAssemblyPath, generation, collectible, typesOnly, libraries, references, acquired);
    }

    private readonly ProgramReferences _references;

    private readonly Lock _librariesGate = new();
    private readonly List<SharedLibrary> _libraries;

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
        return _registry?.ReleaseAll(held) ?? [];
    }

    /// <summary>Loads one of the program's assemblies: from a types-only image when the context is for types only.</summary>
    public Assembly LoadProgramAssembly(string path)
    {
        if (!_typesOnly)
        {
            return LoadFromAssemblyPath(path);
        }
        using var image = new MemoryStream(TypesOnlyImage.Read(path), writable: false);
        var assembly = LoadFromStream(image);
        TypesOnlyImage.Remember(assembly, path);
        return assembly;
    }

    private bool? _isHostedApplication;

    /// <summary>
    /// Whether the program is a hosted application (ASP.NET Core, the Generic Host) made updatable by
    /// Molt.Extensions.Hosting: its main assembly references that package. Its fields that hold the framework's
    /// services are not state (<see cref="Transfer.HostedFields"/>).
    /// </summary>
    public override bool IsHostedApplication => _isHostedApplication ??= Assemblies
        .FirstOrDefault(a => string.Equals(a.GetName().Name, _references.MainName, StringComparison.OrdinalIgnoreCase))?
        .GetReferencedAssemblies().Any(r => r.Name == "Molt.Extensions.Hosting") == true;

    /// <summary>Tells the libraries acquired before the main assembly was loaded whether the program is a hosted application.</summary>
    public void MainLoaded()
    {
        foreach (var library in _closure)
        {
            library.Context?.UsedByHostedApplication(IsHostedApplication);
        }
    }

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (assemblyName.Name is null || ProgramReferences.IsHosts(assemblyName, _references.MainName))
        {
            return null;
        }
        var path = _references.Resolver.ResolveAssemblyToPath(assemblyName);
        if (path is null)
        {
            return null;
        }
        if (_registry is not null && !_typesOnly && _references.IsLibrary(assemblyName))
        {
            // Acquired with the context, or else now (a library only another one's code or reflection names).
            var known = Array.Find(_closure, l => string.Equals(l.Assembly?.GetName().Name, assemblyName.Name, StringComparison.OrdinalIgnoreCase));
            if (known?.Assembly is { } early)
            {
                return early;
            }
            if (_registry.Acquire(path, _references.LibraryPath, IsCollectible) is { Assembly: { } shared } library)
            {
                library.Context!.UsedByHostedApplication(IsHostedApplication);
                lock (_librariesGate)
                {
                    _libraries.Add(library);
                    _closure = [.. _libraries.SelectMany(Closure).Distinct()];
                }
                return shared;
            }
        }
        return LoadProgramAssembly(path);
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        var path = _references.Resolver.ResolveUnmanagedDllToPath(unmanagedDllName);
        return path is null ? IntPtr.Zero : LoadUnmanagedDllFromPath(path);
    }
}

/// <summary>A context that holds the program's code: a version's, or a shared library's.</summary>
internal abstract class ProgramLoadContext(string name, bool collectible) : AssemblyLoadContext(name, collectible)
{
    /// <summary>Whether the program is a hosted application (see <see cref="VersionLoadContext.IsHostedApplication"/>).</summary>
    public abstract bool IsHostedApplication { get; }
}

/// <summary>How a version's main assembly and its libraries resolve the names they reference.</summary>
internal sealed class ProgramReferences(string mainAssemblyPath)
{
    /// <summary>Assemblies that every version shares with the host, whatever copy the program ships.</summary>
    private static readonly HashSet<string> SharedWithHost = new(StringComparer.OrdinalIgnoreCase) { "Molt", "Molt.Extensions.Hosting" };

    private HashSet<string>? _packages;

    public AssemblyDependencyResolver Resolver { get; } = new(mainAssemblyPath);

    public string MainName { get; } = Path.GetFileNameWithoutExtension(mainAssemblyPath);

    /// <summary>
    /// Whether an assembly comes from the host's default context: Molt, and a library the host already runs (a logging
    /// abstraction, say) at the same or a newer version, so that objects of its types pass between versions by reference.
    /// </summary>
    public static bool IsHosts(AssemblyName requested, string mainName) =>
        requested.Name is { } name && (SharedWithHost.Contains(name)
            || !string.Equals(name, mainName, StringComparison.OrdinalIgnoreCase)
            && AssemblyLoadContext.Default.Assemblies.Any(a => a.GetName() is { } loaded
                && string.Equals(loaded.Name, name, StringComparison.OrdinalIgnoreCase)
                && (requested.Version is null || loaded.Version >= requested.Version)));

    /// <summary>A library of the program's own: neither its main assembly nor a package's.</summary>
    public bool IsLibrary(AssemblyName name) =>
        !string.Equals(name.Name, MainName, StringComparison.OrdinalIgnoreCase)
        && !(_packages ??= ProgramVersion.PackageAssemblyNames(mainAssemblyPath)).Contains(name.Name ?? "");

    /// <summary>
    /// How a library's references resolve for this version: the path of one of the program's libraries; null for the
    /// framework, Molt and what the host shares; a package makes the library unshareable (its statics are per version).
    /// </summary>
    public string? LibraryPath(AssemblyName reference)
    {
        if (reference.Name is null || IsHosts(reference, MainName) || Resolver.ResolveAssemblyToPath(reference) is not { } path)
        {
            return null;
        }
        return IsLibrary(reference) ? path : throw new SharedLibraries.NotShareableException();
    }

    /// <summary>The paths of the program's libraries that an assembly references, read from its metadata (none loaded).</summary>
    public IEnumerable<string> LibrariesReferencedBy(string assemblyPath)
    {
        List<AssemblyName> references;
        try
        {
            using var pe = new System.Reflection.PortableExecutable.PEReader(File.OpenRead(assemblyPath));
            var metadata = System.Reflection.Metadata.PEReaderExtensions.GetMetadataReader(pe);
            references = [.. metadata.AssemblyReferences.Select(h => metadata.GetAssemblyReference(h).GetAssemblyName())];
        }
        catch (Exception e) when (e is IOException or BadImageFormatException or InvalidOperationException or UnauthorizedAccessException)
        {
            yield break; // Loading it will say what is wrong with it.
        }
        foreach (var reference in references)
        {
            if (reference.Name is not null && !IsHosts(reference, MainName) && IsLibrary(reference) && Resolver.ResolveAssemblyToPath(reference) is { } path)
            {
                yield return path;
            }
        }
    }
}
