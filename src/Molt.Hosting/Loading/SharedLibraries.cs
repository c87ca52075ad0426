using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Runtime.Loader;

namespace Molt.Hosting.Loading;

/// <summary>
/// The program's own libraries (its project references, not its NuGet packages), each loaded once, in a context of its
/// own, and used by every version that ships the same build of it. Two versions that use one library see the same
/// types, so an update passes the library's objects — a whole keyspace, say — by reference instead of rebuilding them.
/// A library is the same build when its module version id is (deterministic builds give the same id to the same source
/// and references) and so is every library of the program's that it references; it is released, and its context unloads,
/// when the last version that uses it retires. One registry per host: two hosts in one process never share a library's statics.
/// </summary>
internal sealed class SharedLibraries
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, SharedLibrary> _byIdentity = new(StringComparer.Ordinal);

    /// <summary>
    /// The library at <paramref name="path"/>, loaded in its own context (or the one already loaded for the same build),
    /// with one more user; null when it cannot be shared (it references a package, or cannot be read): it then loads into
    /// the version's own context, as every library did before.
    /// </summary>
    /// <param name="path">The library's file, as the version's resolver found it.</param>
    /// <param name="program">How the version resolves the names the library references: the path of a library of the
    /// program's own, null for the framework, Molt and what the host shares; throws <see cref="NotShareableException"/> for a package.</param>
    /// <param name="collectible">Whether the version's context is: a library that cannot unload cannot be used by one that can, and the reverse is refused by the runtime.</param>
    public SharedLibrary? Acquire(string path, Func<AssemblyName, string?> program, bool collectible)
    {
        try
        {
            return AcquireBuild(Path.GetFullPath(path), program, collectible, []);
        }
        catch (Exception e) when (e is NotShareableException or IOException or BadImageFormatException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private SharedLibrary AcquireBuild(string path, Func<AssemblyName, string?> program, bool collectible, HashSet<string> visiting)
    {
        if (!visiting.Add(path))
        {
            throw new NotShareableException(); // A cycle of references among libraries: left to the version's context.
        }
        var (name, mvid, references) = ReadIdentity(path);
        // Its own libraries first: a library is the same build only if those it references are too.
        var dependencies = new List<SharedLibrary>();
        try
        {
            foreach (var reference in references)
            {
                if (program(reference) is { } referencePath)
                {
                    dependencies.Add(AcquireBuild(Path.GetFullPath(referencePath), program, collectible, visiting));
                }
            }
            var identity = $"{name}/{mvid:N}/{(collectible ? "c" : "n")}[{string.Join(",", dependencies.Select(d => d.Identity))}]";
            lock (_gate)
            {
                if (_byIdentity.TryGetValue(identity, out var loaded))
                {
                    loaded.Users++;
                    // The dependencies were acquired for a new load: the one already loaded holds its own.
                    ReleaseAll(dependencies);
                    return loaded;
                }
                var context = new LibraryLoadContext(name, mvid, collectible, dependencies);
                var assembly = context.LoadFromAssemblyPath(path);
                var library = new SharedLibrary(identity, assembly, context, dependencies) { Users = 1 };
                _byIdentity[identity] = library;
                return library;
            }
        }
        catch
        {
            ReleaseAll(dependencies);
            throw;
        }
        finally
        {
            visiting.Remove(path);
        }
    }

    /// <summary>One user fewer for each library; those no version uses any more are released.</summary>
    /// <returns>The libraries released, weakly held: a collectible one's context is unloading.</returns>
    public List<ReleasedLibrary> ReleaseAll(IEnumerable<SharedLibrary> libraries)
    {
        var released = new List<ReleasedLibrary>();
        foreach (var library in libraries)
        {
            Release(library, released);
        }
        return released;
    }

    private void Release(SharedLibrary library, List<ReleasedLibrary> released)
    {
        lock (_gate)
        {
            if (--library.Users > 0)
            {
                return;
            }
            _byIdentity.Remove(library.Identity);
        }
        released.Add(library.Unload());
        foreach (var dependency in library.Dependencies)
        {
            Release(dependency, released);
        }
    }

    /// <summary>The libraries loaded now, for diagnostics and tests.</summary>
    public IReadOnlyList<SharedLibrary> Loaded
    {
        get
        {
            lock (_gate)
            {
                return [.. _byIdentity.Values];
            }
        }
    }

    /// <summary>A library's name, module version id and referenced assembly names, read from its metadata without loading it.</summary>
    private static (string Name, Guid Mvid, List<AssemblyName> References) ReadIdentity(string path)
    {
        using var pe = new PEReader(File.OpenRead(path));
        if (!pe.HasMetadata)
        {
            throw new BadImageFormatException($"{path} has no metadata.");
        }
        var metadata = pe.GetMetadataReader();
        var name = metadata.GetString(metadata.GetAssemblyDefinition().Name);
        var mvid = metadata.GetGuid(metadata.GetModuleDefinition().Mvid);
        var references = metadata.AssemblyReferences.Select(h => metadata.GetAssemblyReference(h).GetAssemblyName()).ToList();
        return (name, mvid, references);
    }

    /// <summary>A library that must load into the version's own context: it references a package, or its references form a cycle.</summary>
    internal sealed class NotShareableException : Exception;
}

/// <summary>One library loaded once and used by every version that ships the same build of it.</summary>
internal sealed class SharedLibrary(string identity, Assembly assembly, LibraryLoadContext context, List<SharedLibrary> dependencies)
{
    /// <summary>Its name, module version id, kind of context, and its dependencies' identities.</summary>
    public string Identity { get; } = identity;

    /// <summary>Its assembly (null once released).</summary>
    public Assembly? Assembly { get; private set; } = assembly;

    public LibraryLoadContext? Context { get; private set; } = context;

    /// <summary>The program's libraries it references, each held for it.</summary>
    public IReadOnlyList<SharedLibrary> Dependencies { get; } = dependencies;

    /// <summary>How many versions (and libraries) use it; guarded by the registry.</summary>
    public int Users { get; set; }

    /// <summary>The library as results and <c>molt check</c> name it: <c>Kv.State 5.0.0</c>.</summary>
    public string Description { get; } = Describe(assembly);

    internal static string Describe(Assembly assembly) =>
        $"{assembly.GetName().Name} {assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? assembly.GetName().Version?.ToString()}";

    /// <summary>Forgets it: a collectible context starts unloading; a context that stays has its statics cleared.</summary>
    internal ReleasedLibrary Unload()
    {
        var context = Context!;
        var assembly = Assembly!;
        Context = null;
        Assembly = null;
        if (context.IsCollectible)
        {
            context.Unload();
            return new ReleasedLibrary(Description, new WeakReference(context), CodeUnloads: true, []);
        }
        var held = StaticState.Release(
            assembly.GetTypes().Where(t => !t.ContainsGenericParameters), t => AssemblyLoadContext.GetLoadContext(t.Assembly) == context);
        return new ReleasedLibrary(Description, new WeakReference(context), CodeUnloads: false, held);
    }
}

/// <summary>A library no version uses any more, weakly held: what tells when it is gone (see <see cref="RetiredVersion"/>).</summary>
/// <param name="Description">Its name and version.</param>
/// <param name="Context">Its context; alive for ever when <paramref name="CodeUnloads"/> is false.</param>
/// <param name="CodeUnloads">Whether its context is collectible.</param>
/// <param name="State">The objects its static fields held before they were cleared (code kept loaded only).</param>
internal sealed record ReleasedLibrary(string Description, WeakReference Context, bool CodeUnloads, IReadOnlyList<(string Field, WeakReference Object)> State)
{
    /// <summary>Whether it is gone: its context collected, or (code kept) every object its statics held.</summary>
    public bool IsReleased => CodeUnloads ? !Context.IsAlive : State.All(s => !s.Object.IsAlive);
}

/// <summary>The context of one shared library: the framework and Molt come from the default context, its own references from their shared libraries.</summary>
internal sealed class LibraryLoadContext(string name, Guid mvid, bool collectible, IReadOnlyList<SharedLibrary> dependencies)
    : ProgramLoadContext($"molt-library:{name}:{mvid.ToString("N")[..8]}", collectible)
{
    private bool _isHostedApplication;

    /// <summary>Whether the versions that use it are hosted applications (every version of one program is alike).</summary>
    public override bool IsHostedApplication => _isHostedApplication;

    internal void UsedByHostedApplication(bool hosted) => _isHostedApplication |= hosted;

    protected override Assembly? Load(AssemblyName assemblyName) =>
        dependencies.FirstOrDefault(d => string.Equals(d.Assembly?.GetName().Name, assemblyName.Name, StringComparison.OrdinalIgnoreCase))?.Assembly;
}
