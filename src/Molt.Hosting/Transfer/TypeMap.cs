using System.Reflection;
using Molt.Hosting.Loading;

namespace Molt.Hosting.Transfer;

/// <summary>
/// Which type of the new version each type of the old version becomes. Framework types stay what they
/// are; the program's types map by full name (or by a rename or a type transformer); generic
/// instantiations and arrays map through their arguments. Independent of how objects are produced, so
/// the same map can drive an in-process copy or, later, a stream.
/// </summary>
/// <remarks>
/// A shared library that both versions use (<see cref="SharedLibraries"/>) is neither old nor new: its types are the same in
/// both, so they map to themselves and its objects pass by reference when nothing they can reach is of the old version
/// (<see cref="MayReachOld"/>).
/// </remarks>
internal sealed class TypeMap
{
    private readonly Dictionary<Type, bool> _involvesOld = [];
    private readonly Dictionary<Type, Type?> _mapped = [];
    private readonly Dictionary<Type, bool> _mayReachOld = [];
    private readonly HashSet<Type> _reaching = [];
    private readonly List<Type> _provisional = [];
    private bool _cycleMet;
    private readonly Dictionary<Type, bool> _oldTypeCanBe = [];

    public TypeMap(ProgramVersion oldVersion, ProgramVersion newVersion, TransformerSet transformers)
    {
        Old = oldVersion;
        New = newVersion;
        Transformers = transformers;
        SharedAssemblies = oldVersion.SharedLibraries.Intersect(newVersion.SharedLibraries).ToHashSet();
        transformers.LeaveOut(SharedAssemblies);
    }

    public ProgramVersion Old { get; }

    public ProgramVersion New { get; }

    public TransformerSet Transformers { get; }

    /// <summary>The shared libraries both versions use: the same assemblies, whose types map to themselves.</summary>
    public IReadOnlySet<Assembly> SharedAssemblies { get; }

    /// <summary>Whether an assembly is the old version's own, to be replaced: owned by it and not shared with the new version.</summary>
    public bool IsOld(Assembly assembly) => Old.Owns(assembly) && !SharedAssemblies.Contains(assembly);

    /// <summary>Whether a type is declared in a library both versions share.</summary>
    public bool IsShared(Type type) => SharedAssemblies.Count > 0 && SharedAssemblies.Contains(type.Assembly);

    /// <summary>Whether a type is, or is built from, a type of a library both versions share (a <c>Dictionary&lt;string, Entry&gt;</c>).</summary>
    public bool InvolvesShared(Type type) =>
        SharedAssemblies.Count > 0 && (type.HasElementType ? InvolvesShared(type.GetElementType()!)
            : IsShared(type) || type.IsGenericType && type.GetGenericArguments().Any(InvolvesShared));

    /// <summary>
    /// The types whose static fields the transfer moves: the old version's own, not those of a shared library (its statics are
    /// the same fields in both versions; <see cref="SharedStatics"/> tells which of them still need a look).
    /// </summary>
    public IEnumerable<Type> OldStaticHolders() =>
        Old.StaticHolders().Where(t => !IsShared(t.IsGenericType ? t.GetGenericTypeDefinition() : t));

    /// <summary>
    /// The static fields of the shared libraries that may hold something of the old version (an <c>object</c> field, a list of an
    /// interface the old version implements): the transfer gives them the new version's objects, and a rollback gives them back.
    /// </summary>
    public IEnumerable<FieldInfo> SharedStatics() =>
        SharedAssemblies.SelectMany(a => a.GetTypes()).Where(t => !t.ContainsGenericParameters && !TypeFacts.IsCompilerGeneratedCode(t))
            .SelectMany(TypeFacts.StaticFields)
            .Where(f => !f.IsDefined(typeof(ThreadStaticAttribute), false) && !TypeFacts.IsNotMigrated(f) && FieldMayHoldOld(f.FieldType));

    /// <summary>The field initializers read from the new version's constructors, by declaring type.</summary>
    public Dictionary<Type, FieldInitializers.TypeInitializers> Initializers { get; } = [];

    /// <summary>Whether a type is, or is built from, one of the old version's types.</summary>
    public bool InvolvesOld(Type type)
    {
        if (_involvesOld.TryGetValue(type, out var known))
        {
            return known;
        }
        bool involves;
        if (type.HasElementType)
        {
            involves = InvolvesOld(type.GetElementType()!);
        }
        else if (type.IsGenericType && !type.IsGenericTypeDefinition)
        {
            involves = IsOld(type.Assembly) || type.GetGenericArguments().Any(InvolvesOld);
        }
        else
        {
            involves = IsOld(type.Assembly);
        }
        _involvesOld[type] = involves;
        return involves;
    }

    /// <summary>The new version's type for an old type, or null when the new version has none.</summary>
    public Type? Map(Type oldType)
    {
        if (!InvolvesOld(oldType))
        {
            return oldType;
        }
        if (_mapped.TryGetValue(oldType, out var known))
        {
            return known;
        }
        var mapped = MapUncached(oldType);
        _mapped[oldType] = mapped;
        return mapped;
    }

    private Type? MapUncached(Type oldType)
    {
        if (oldType.IsArray)
        {
            var element = Map(oldType.GetElementType()!);
            return element is null ? null : oldType.IsSZArray ? element.MakeArrayType() : element.MakeArrayType(oldType.GetArrayRank());
        }
        if (oldType.IsGenericType && !oldType.IsGenericTypeDefinition)
        {
            var definition = oldType.GetGenericTypeDefinition();
            var newDefinition = IsOld(definition.Assembly) ? MapNamed(definition) : definition;
            var arguments = oldType.GetGenericArguments().Select(Map).ToArray();
            if (newDefinition is null || arguments.Any(a => a is null))
            {
                return null;
            }
            try
            {
                return newDefinition.MakeGenericType(arguments!);
            }
            catch (ArgumentException)
            {
                return null; // The new version's constraints no longer fit.
            }
        }
        return MapNamed(oldType);
    }

    private Type? MapNamed(Type oldType)
    {
        var name = oldType.FullName!;
        if (Transformers.Renames.TryGetValue(name, out var renamed))
        {
            return renamed;
        }
        var candidate = New.FindType(name, oldType.Assembly.GetName().Name);
        // A type that the new version renamed from another type of the old version is that type's successor, not this one's.
        // (When the old version has no type of that name, the attribute was left in place from an earlier rename.)
        if (candidate?.GetCustomAttributes(typeof(RenamedFromAttribute), false) is [RenamedFromAttribute r] && r.OldName != name
            && Old.FindType(r.OldName, oldType.Assembly.GetName().Name) is not null)
        {
            return null;
        }
        // Going back to an earlier version (a rollback): a type that was renamed maps back to its former name.
        if (candidate is null && oldType.GetCustomAttributes(typeof(RenamedFromAttribute), false) is [RenamedFromAttribute back])
        {
            candidate = New.FindType(back.OldName, oldType.Assembly.GetName().Name);
        }
        return candidate is not null && candidate.IsGenericTypeDefinition == oldType.IsGenericTypeDefinition ? candidate : null;
    }

    /// <summary>
    /// The first of the old version's types inside <paramref name="oldType"/> (itself, an array's element, a generic argument)
    /// whose new type is of a kind that its objects cannot become (an enum that became a class, a class that became an
    /// interface), with that new type; null when every kind converts (class and struct convert either way).
    /// </summary>
    public (Type Old, Type New)? KindChange(Type oldType)
    {
        if (!InvolvesOld(oldType))
        {
            return null;
        }
        if (oldType.HasElementType)
        {
            return KindChange(oldType.GetElementType()!);
        }
        if (oldType.IsGenericType && !oldType.IsGenericTypeDefinition)
        {
            foreach (var argument in oldType.GetGenericArguments())
            {
                if (KindChange(argument) is { } inside)
                {
                    return inside;
                }
            }
            return null;
        }
        return Map(oldType) is { } mapped && !TypeFacts.KindsConvert(oldType, mapped) ? (oldType, mapped) : null;
    }

    /// <summary>
    /// Whether an object of this runtime type (not itself of the old version) can reach, through its fields and theirs, an object
    /// of the old version's types or a delegate: then it cannot pass by reference. Decided from the types alone, once per type
    /// and update, so that an object proven clean passes without a look at what it holds — a million entries of a shared library
    /// cost nothing. A field whose declared type is open (object, an interface, a class that is not sealed) may hold the old
    /// version's objects unless the types show it cannot: no type of the old version derives from it, it is declared in a shared
    /// library and none of its shared subtypes may; a framework interface or class is taken as open, but for a collection's
    /// comparer (<c>IEqualityComparer&lt;T&gt;</c>, <c>IComparer&lt;T&gt;</c>), open only when a type of the old version implements it.
    /// </summary>
    public bool MayReachOld(Type type)
    {
        if (_mayReachOld.TryGetValue(type, out var known))
        {
            return known;
        }
        if (!_reaching.Add(type))
        {
            // Reached again through its own fields: what else it holds is being decided already. A "no" that rests on this
            // assumption holds only once the outermost type is decided "no" too (a "yes" never rests on it).
            _cycleMet = true;
            return false;
        }
        var metBefore = _cycleMet;
        _cycleMet = false;
        bool reaches;
        try
        {
            reaches = ReachesOld(type);
        }
        finally
        {
            _reaching.Remove(type);
        }
        var restsOnCycle = _cycleMet;
        _cycleMet = metBefore || restsOnCycle;
        if (reaches || !restsOnCycle)
        {
            _mayReachOld[type] = reaches;
        }
        else
        {
            _provisional.Add(type);
        }
        if (_reaching.Count == 0)
        {
            foreach (var decided in _provisional)
            {
                if (!reaches)
                {
                    _mayReachOld[decided] = false;
                }
            }
            _provisional.Clear();
            _cycleMet = false;
        }
        return reaches;
    }

    private bool ReachesOld(Type type)
    {
        if (type.IsPrimitive || type.IsEnum || type == typeof(string) || type.IsPointer || type.IsFunctionPointer || TypeFacts.IsPlainValue(type))
        {
            return false;
        }
        if (InvolvesOld(type) || typeof(Delegate).IsAssignableFrom(type) || TypeFacts.WhyCannotCross(type) is not null
            || typeof(MemberInfo).IsAssignableFrom(type) || type.ContainsGenericParameters)
        {
            return true;
        }
        if (type.IsArray)
        {
            return FieldMayHoldOld(type.GetElementType()!);
        }
        return TypeFacts.InstanceFields(type).Any(f => FieldMayHoldOld(f.FieldType));
    }

    /// <summary>Whether a field (or an array's element) of this declared type may hold something of the old version.</summary>
    public bool FieldMayHoldOld(Type declared) =>
        declared != typeof(System.Runtime.Serialization.SerializationInfo)
        && (declared.IsValueType || declared.IsSealed || declared.IsArray ? MayReachOld(declared) : OpenFieldMayHoldOld(declared));

    // A SerializationInfo field (LinkedList<T>, SortedSet<T>, HashSet<T>: a binary deserialization's scratch) is null but while
    // an object is deserialized, which no program of .NET 10 does (BinaryFormatter is gone): its object[] would open them all.

    private bool OpenFieldMayHoldOld(Type declared)
    {
        if (declared == typeof(object) || typeof(Delegate).IsAssignableFrom(declared) || InvolvesOld(declared) || AnOldTypeCanBe(declared))
        {
            return true;
        }
        if (IsShared(declared.IsGenericType ? declared.GetGenericTypeDefinition() : declared))
        {
            // Only the shared libraries' own types (and the old version's, above) can derive from a shared type.
            return SharedTypes().Where(t => !t.IsAbstract && !t.IsInterface && CanBe(t, declared))
                .Any(t => t.ContainsGenericParameters || MayReachOld(t));
        }
        if (declared.IsClass && !declared.IsAbstract)
        {
            // A framework class that is not sealed (List<T>, Dictionary<TKey, TValue>) holds one of its own: the framework's
            // subclasses of it are taken at their word, the old version's are found above.
            return MayReachOld(declared);
        }
        return !IsComparer(declared);
    }

    /// <summary>A collection's comparer: the framework's comparers hold nothing; the old version's are found by type.</summary>
    private static bool IsComparer(Type type) =>
        type.IsInterface && type.IsGenericType
        && type.GetGenericTypeDefinition() is var definition && (definition == typeof(IEqualityComparer<>) || definition == typeof(IComparer<>));

    /// <summary>Whether an object of <paramref name="candidate"/> (or of an instantiation of it, when it is generic) can be held by a field of <paramref name="declared"/>.</summary>
    private static bool CanBe(Type candidate, Type declared)
    {
        if (!candidate.ContainsGenericParameters)
        {
            return declared.IsAssignableFrom(candidate);
        }
        // A generic type of the old version: any instantiation of it may be assignable; compared by generic definition.
        var target = declared.IsGenericType ? declared.GetGenericTypeDefinition() : declared;
        for (var t = candidate; t is not null; t = t.BaseType)
        {
            if ((t.IsGenericType ? t.GetGenericTypeDefinition() : t) == target)
            {
                return true;
            }
        }
        return candidate.GetInterfaces().Any(i => (i.IsGenericType ? i.GetGenericTypeDefinition() : i) == target);
    }

    /// <summary>Whether an object of one of the old version's types can be held by a field of this declared type.</summary>
    private bool AnOldTypeCanBe(Type declared)
    {
        if (!_oldTypeCanBe.TryGetValue(declared, out var can))
        {
            _oldTypeCanBe[declared] = can = OldTypes().Any(t => CanBe(t, declared));
        }
        return can;
    }

    private Type[]? _oldTypes;
    private Type[]? _sharedTypes;

    private Type[] OldTypes() => _oldTypes ??= [.. Old.ProgramTypes().Where(t => IsOld(t.Assembly))];

    private Type[] SharedTypes() => _sharedTypes ??= [.. Old.ProgramTypes().Where(t => IsShared(t))];

    /// <summary>
    /// Why a value of this declared type cannot cross to the new version (a delegate, a task, a thread, a timer, a
    /// compiler-generated object of the old version, a reflection object, or a collection of them), or null.
    /// </summary>
    public string? WhyCannotCross(Type type)
    {
        if (type.HasElementType)
        {
            return WhyCannotCross(type.GetElementType()!);
        }
        if (typeof(Delegate).IsAssignableFrom(type))
        {
            return "a delegate (it calls the old version's code)";
        }
        if (TypeFacts.WhyCannotCross(type) is { } why)
        {
            return why;
        }
        if (InvolvesOld(type) && TypeFacts.IsCompilerGeneratedCode(type.IsGenericType ? type.GetGenericTypeDefinition() : type))
        {
            return "an object of a compiler-generated type (a lambda closure, an async state machine or an iterator)";
        }
        if (typeof(MemberInfo).IsAssignableFrom(type) && !typeof(Type).IsAssignableFrom(type))
        {
            return "a reflection object (one of the program's methods, fields or properties cannot cross: the new version must look it up again)";
        }
        if (type.IsGenericType)
        {
            return type.GetGenericArguments().Select(WhyCannotCross).FirstOrDefault(w => w is not null);
        }
        return null;
    }
}
