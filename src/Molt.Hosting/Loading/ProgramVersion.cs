using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Molt.Hosting.Transfer;

namespace Molt.Hosting.Loading;

/// <summary>One loaded version of a program: its context, its main assembly and how to start it.</summary>
internal sealed class ProgramVersion
{
    private VersionLoadContext? _context;

    private ProgramVersion(VersionLoadContext context, Assembly main, ProgramVersionInfo info, SharedLibraries? libraries)
    {
        _context = context;
        Libraries = libraries;
        MainAssembly = main;
        Info = info;
    }

    public Assembly MainAssembly { get; private set; }

    /// <summary>The host's shared libraries, which this version's successors load theirs from; null when the host shares none.</summary>
    public SharedLibraries? Libraries { get; }

    public ProgramVersionInfo Info { get; }

    private VersionLoadContext Context => _context ?? throw new InvalidOperationException($"Version {Info} is unloaded.");

    /// <summary>
    /// Loads a program's main assembly into a new context: collectible (its code unloads when it retires) unless
    /// <paramref name="collectible"/> is false (its code stays loaded, and is tiered by the runtime).
    /// </summary>
    /// <exception cref="UpdateFailedException">The file is missing or is not a .NET program that references Molt.</exception>
    /// <remarks>
    /// <paramref name="typesOnly"/>: the old version loaded again for a state stream's objects: collectible, and its static
    /// constructors do nothing (<see cref="TypesOnlyImage"/>). Its code must never be run.
    /// <paramref name="libraries"/>: the host's shared libraries, which the version's own libraries come from (none: they load into its context).
    /// </remarks>
    public static ProgramVersion Load(string assemblyPath, int generation, TimeProvider time, bool collectible = true, bool typesOnly = false,
        SharedLibraries? libraries = null)
    {
        var path = Path.GetFullPath(assemblyPath);
        if (!File.Exists(path))
        {
            throw new UpdateFailedException(UpdatePhase.Prepare, $"The program '{path}' does not exist.");
        }
        var context = VersionLoadContext.Create(path, generation, collectible || typesOnly, typesOnly, typesOnly ? null : libraries);
        try
        {
            var main = context.LoadProgramAssembly(path);
            context.MainLoaded();
            if (main.EntryPoint is null)
            {
                throw new UpdateFailedException(UpdatePhase.Prepare, $"'{path}' has no entry point (Main): it is not a program.");
            }
            var name = main.GetName();
            var version = main.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
                ?? name.Version?.ToString() ?? "0.0.0";
            var hash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
            var info = new ProgramVersionInfo(path, name.Name ?? Path.GetFileNameWithoutExtension(path), version, hash, generation, time.GetUtcNow());
            return new ProgramVersion(context, main, info, libraries);
        }
        catch (UpdateFailedException)
        {
            UnloadIfCollectible(context);
            throw;
        }
        catch (BadImageFormatException e)
        {
            UnloadIfCollectible(context);
            throw new UpdateFailedException(UpdatePhase.Prepare, $"'{path}' is not a .NET assembly: {e.Message}", e);
        }
    }

    /// <summary>Whether an assembly is this version's main one (not a library it ships).</summary>
    public bool IsMainAssembly(Assembly assembly) => assembly == MainAssembly;

    /// <summary>Whether an assembly is this version's: loaded in its context, or a shared library it uses.</summary>
    public bool Owns(Assembly assembly) =>
        _context is not null && System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(assembly) is { } context
        && (context == _context || context is LibraryLoadContext library && _context.Uses(library));

    /// <summary>The shared libraries this version uses (see <see cref="SharedLibraries"/>): loaded once, used by every version that ships the same build.</summary>
    /// <remarks>Every library the program references is loaded first (no code of it runs): a library is loaded when first needed.</remarks>
    public IReadOnlyList<Assembly> SharedLibraries
    {
        get
        {
            _ = ProgramAssemblies();
            return [.. Context.Libraries.Select(l => l.Assembly).OfType<Assembly>()];
        }
    }

    /// <summary>A type of this version by full name, looked up first in the assembly of the given name.</summary>
    public Type? FindType(string fullName, string? assemblyName = null)
    {
        if (assemblyName is not null && assemblyName != MainAssembly.GetName().Name)
        {
            try
            {
                var assembly = Context.LoadFromAssemblyName(new AssemblyName(assemblyName));
                if (Owns(assembly) && assembly.GetType(fullName) is { } type)
                {
                    return type;
                }
            }
            catch (FileNotFoundException)
            {
                // The new version does not ship that library any more: fall back to its other assemblies.
            }
        }
        return MainAssembly.GetType(fullName)
            ?? Context.Assemblies.Concat(SharedLibraries).Select(a => a.GetType(fullName)).FirstOrDefault(t => t is not null);
    }

    /// <summary>The program's own types (of all its assemblies: <see cref="ProgramAssemblies"/>), compiler-generated ones included.</summary>
    public Type[] ProgramTypes() => [.. ProgramAssemblies().SelectMany(LoadableTypes)];

    /// <summary>
    /// The program's own assemblies: the main one, and the libraries it ships that load into this version's context
    /// (found through the main assembly's references, transitively, and among those the context has loaded), but for
    /// NuGet packages. A library of the program's own (a project reference) holds its state as much as the main
    /// assembly does; a package is third-party code: its objects are rebuilt when the program's state reaches them,
    /// but its statics (its caches) start anew in each version, as the framework's would. The framework, Molt and
    /// libraries the host shares are not the program's.
    /// </summary>
    public Assembly[] ProgramAssemblies() => _programAssemblies ??= FindProgramAssemblies();

    private Assembly[]? _programAssemblies;

    private Assembly[] FindProgramAssemblies()
    {
        var packages = PackageAssemblyNames(Info.AssemblyPath);
        var found = new List<Assembly> { MainAssembly };
        var seen = new HashSet<string>(packages, StringComparer.OrdinalIgnoreCase) { MainAssembly.GetName().Name ?? "" };
        for (var i = 0; i < found.Count; i++)
        {
            foreach (var reference in found[i].GetReferencedAssemblies())
            {
                if (reference.Name is null || !seen.Add(reference.Name))
                {
                    continue;
                }
                try
                {
                    // Loads a library into this context (no code of it runs); a shared or framework one comes from the default context.
                    if (Context.LoadFromAssemblyName(reference) is { } loaded && Owns(loaded))
                    {
                        found.Add(loaded);
                    }
                }
                catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException)
                {
                    // A reference the program does not ship and never loads: nothing of it runs.
                }
            }
        }
        found.AddRange(Context.Assemblies.Where(a => !found.Contains(a) && !a.IsDynamic && !packages.Contains(a.GetName().Name ?? "")));
        return [.. found];
    }

    /// <summary>
    /// The names of the assemblies that NuGet packages bring, as the program's <c>.deps.json</c> lists them (libraries of
    /// type "package", their runtime assets); none when it has no such file.
    /// </summary>
    internal static HashSet<string> PackageAssemblyNames(string mainAssemblyPath)
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var depsPath = Path.ChangeExtension(mainAssemblyPath, ".deps.json");
        if (!File.Exists(depsPath))
        {
            return names;
        }
        try
        {
            using var deps = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(depsPath));
            var root = deps.RootElement;
            var packages = root.GetProperty("libraries").EnumerateObject()
                .Where(l => l.Value.TryGetProperty("type", out var type) && type.GetString() == "package")
                .Select(l => l.Name)
                .ToHashSet(StringComparer.Ordinal);
            foreach (var target in root.GetProperty("targets").EnumerateObject())
            {
                foreach (var library in target.Value.EnumerateObject().Where(l => packages.Contains(l.Name)))
                {
                    if (library.Value.TryGetProperty("runtime", out var runtime))
                    {
                        names.UnionWith(runtime.EnumerateObject().Select(asset => Path.GetFileNameWithoutExtension(asset.Name)));
                    }
                }
            }
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException or IOException)
        {
            // A deps file Molt cannot read: every library is taken for the program's own, which loses nothing.
        }
        return names;
    }

    /// <summary>
    /// The closed instantiations of the program's own generic types that its code uses (<c>Pool&lt;int&gt;</c>,
    /// <c>Cache&lt;Entry&gt;</c>): each has static fields of its own, which no list of the assembly's types includes.
    /// </summary>
    public Type[] GenericInstantiationsInUse() => _instantiationsInUse ??= GenericInstantiations.Find(ProgramAssemblies());

    private Type[]? _instantiationsInUse;

    /// <summary>
    /// The types whose static fields are the program's state: its own closed types (not compiler-generated ones) and
    /// the instantiations of its generic types that it uses.
    /// </summary>
    public IEnumerable<Type> StaticHolders() =>
        ProgramTypes().Where(t => !t.ContainsGenericParameters && !TypeFacts.IsCompilerGeneratedCode(t)).Concat(GenericInstantiationsInUse());

    /// <summary>
    /// JIT-compiles the main assembly's methods while the old version still serves, so that the first requests
    /// after the update do not pay for it (collectible contexts get no ReadyToRun code). Except the methods that read a
    /// <c>static readonly</c> field of a program type with no static constructor, and the methods that call them: the JIT
    /// takes such a type as initialized from the start and compiles the field's value — its default, before the transfer
    /// writes it — into the code as a constant, into its callers too when it inlines the reader. They compile on first
    /// call, after the transfer. (A type with a static constructor is not initialized by compiling: its fields are safe.)
    /// </summary>
    /// <param name="settled">Whether a static field's value is final already: one of a library the running version shares with this
    /// one, initialized and not written by the transfer, so the code that reads it compiles now too (kv's commands all read <c>Store.Gate</c>).</param>
    /// <returns>How many methods were compiled.</returns>
    public int PrepareCode(Func<FieldInfo, bool>? settled = null)
    {
        var types = LoadableTypes(MainAssembly).ToList(); // A library's code (maybe a large third-party one) compiles as it is called.
        var later = ReadersOfUninitializedReadonlyStatics(types, settled ?? (_ => false));
        return Prepare(types, later.Contains);
    }

    /// <summary>The methods that read a static readonly field of a type with no static constructor, and their callers, to a fixed point.</summary>
    private HashSet<MethodBase> ReadersOfUninitializedReadonlyStatics(List<Type> types, Func<FieldInfo, bool> settled)
    {
        var later = new HashSet<MethodBase>();
        var callers = new Dictionary<MethodBase, List<MethodBase>>();
        foreach (var method in types.Where(t => !t.ContainsGenericParameters).SelectMany(t => t.GetMethods(IlReader.AllDeclared).Cast<MethodBase>().Concat(t.GetConstructors(IlReader.AllDeclared))))
        {
            if (IlReader.Body(method) is not { } il)
            {
                continue;
            }
            var typeArguments = method.DeclaringType is { IsGenericType: true } declaring ? declaring.GetGenericArguments() : null;
            var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
            foreach (var (op, operand) in IlReader.Instructions(il))
            {
                var token = op.OperandType is OperandType.InlineField or OperandType.InlineMethod ? IlReader.ReadInt32(il, operand) : 0;
                if (op == OpCodes.Ldsfld || op == OpCodes.Ldsflda)
                {
                    if (IlReader.Resolve(() => method.Module.ResolveField(token, typeArguments, methodArguments)) is { IsInitOnly: true, DeclaringType: { } owner } field
                        && Owns(owner.Assembly) && owner.TypeInitializer is null && !settled(field))
                    {
                        later.Add(method);
                    }
                }
                else if (op == OpCodes.Call || op == OpCodes.Callvirt || op == OpCodes.Newobj)
                {
                    if (IlReader.Resolve(() => method.Module.ResolveMethod(token, typeArguments, methodArguments)) is { } called && called.Module == method.Module)
                    {
                        (callers.TryGetValue(called, out var list) ? list : callers[called] = []).Add(method);
                    }
                }
            }
        }
        var work = new Queue<MethodBase>(later);
        while (work.TryDequeue(out var method))
        {
            foreach (var caller in callers.GetValueOrDefault(method) ?? [])
            {
                if (later.Add(caller))
                {
                    work.Enqueue(caller);
                }
            }
        }
        return later;
    }

    /// <summary>
    /// JIT-compiles Molt's own code (the runtime and the host) once per process, so that the first update's
    /// pause does not pay for compiling the transfer engine. Runs in the prepare phase, outside the pause.
    /// </summary>
    public static void PrepareMoltCode() => MoltCodePrepared.Value.ToString();

    private static readonly Lazy<int> MoltCodePrepared = new(() =>
        Prepare(typeof(ProgramVersion).Assembly.GetTypes().Concat(typeof(Live).Assembly.GetTypes())));

    private static int Prepare(IEnumerable<Type> types, Func<MethodBase, bool>? later = null)
    {
        var count = 0;
        foreach (var type in types)
        {
            if (type.ContainsGenericParameters)
            {
                continue;
            }
            const BindingFlags all = BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
            foreach (var method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
            {
                if (method.IsAbstract || method.ContainsGenericParameters || method.IsStatic && method.IsConstructor || later?.Invoke(method) == true)
                {
                    continue;
                }
                try
                {
                    RuntimeHelpers.PrepareMethod(method.MethodHandle);
                    count++;
                }
                catch (Exception e) when (e is ArgumentException or BadImageFormatException or MissingMethodException or TypeLoadException)
                {
                    // Some methods (P/Invoke stubs, runtime-implemented) cannot be prepared; they compile on first call.
                }
            }
        }
        return count;
    }

    /// <summary>Runs the program's entry point (Main) in the given session, as a fresh start or as an update's start-up.</summary>
    public async Task RunEntryPointAsync(ProgramSession session, string[] args, bool isUpdating)
    {
        var entry = FindEntryPoint();
        var scope = session.StartUpScope(isUpdating);
        var main = Task.Run(async () =>
        {
            Live.CurrentScope.Value = scope;
            object? returned;
            try
            {
                returned = entry.Invoke(null, entry.GetParameters().Length == 1 ? [args] : []);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
                throw;
            }
            if (returned is Task task)
            {
                await task.ConfigureAwait(false);
            }
        });
        // A hosted application's Main runs its host until the program stops: its start-up ends when it says so.
        if (await Task.WhenAny(main, scope.StartedUp.Task).ConfigureAwait(false) == main)
        {
            await main.ConfigureAwait(false);
        }
    }

    private MethodInfo FindEntryPoint()
    {
        var entry = MainAssembly.EntryPoint!;
        if (entry.Name.StartsWith('<'))
        {
            // An async Main: the compiler's synchronous wrapper would block; call the real one.
            var real = entry.DeclaringType?
                .GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)
                .FirstOrDefault(m => m.Name == "Main" && typeof(Task).IsAssignableFrom(m.ReturnType));
            if (real is not null)
            {
                return real;
            }
        }
        return entry;
    }

    /// <summary>
    /// Retires this version and forgets it. A collectible context starts unloading. A context that stays loaded
    /// cannot: its static fields are cleared instead, so that the state they held can be collected while the
    /// code stays. What is returned tells when the version is gone (<see cref="RetiredVersion.IsReleased"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public RetiredVersion Retire()
    {
        var context = Context;
        _context = null;
        MainAssembly = null!;
        _instantiationsInUse = null; // Its types would hold the context.
        _programAssemblies = null;
        var released = context.ReleaseLibraries();
        if (context.IsCollectible)
        {
            context.Unload();
            return new RetiredVersion(new WeakReference(context), CodeUnloads: true, [], released);
        }
        var assemblies = context.Assemblies.Where(a => !a.IsDynamic).ToArray();
        var types = assemblies.SelectMany(LoadableTypes).Where(t => !t.ContainsGenericParameters)
            .Concat(GenericInstantiations.Find(assemblies));
        var held = StaticState.Release(types, t => System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(t.Assembly) == context);
        return new RetiredVersion(new WeakReference(context), CodeUnloads: false, held, released);
    }

    private static void UnloadIfCollectible(VersionLoadContext context)
    {
        context.ReleaseLibraries();
        if (context.IsCollectible)
        {
            context.Unload();
        }
    }

    private static Type[] LoadableTypes(Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            return [.. e.Types.Where(t => t is not null)!];
        }
    }
}
