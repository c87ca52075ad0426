using System.Reflection;
using Molt.Hosting.Loading;
using Molt.Hosting.Transfer.Copiers;

namespace Molt.Hosting.Transfer;

/// <summary>
/// Everything known before the pause about moving state from one version to the next: the type map, a
/// compiled copier per type, the static fields to migrate, the fields dropped, and the changes that
/// nothing covers (which refuse the update while the old version still serves).
/// </summary>
internal sealed class TransferPlan
{
    private readonly Dictionary<Type, TypeCopier> _copiers = [];
    private readonly List<string> _problems = [];

    private TransferPlan(TypeMap map)
    {
        Map = map;
    }

    public TypeMap Map { get; }

    /// <summary>Old fields that the new version does not have: <c>Type.field</c> and <c>static Type.field</c>.</summary>
    public List<string> DroppedFields { get; } = [];

    /// <summary>The old version's static fields that the new version has no place for: their state stays behind unless a transformer reads it.</summary>
    public List<FieldInfo> DroppedStatics { get; } = [];

    /// <summary>Per old type with statics to migrate: its name, the compiled copy, and the fields it copies.</summary>
    public List<(string TypeName, Action<StateTransfer> Copy, IReadOnlyList<FieldCopy> Copies)> Statics { get; } = [];

    /// <summary>
    /// The static fields of the libraries both versions share that may hold something of the old version: the transfer gives
    /// them the new version's objects in place (they are the same fields in both versions), and a rollback gives the old back.
    /// </summary>
    public List<FieldInfo> SharedStatics { get; } = [];

    /// <summary>The changes that nothing covers, one a line: when there is any, the update cannot go ahead.</summary>
    public IReadOnlyList<string> Problems => [.. _problems.Distinct()];

    /// <summary>Plans the transfer and compiles its copiers.</summary>
    /// <exception cref="UpdateFailedException">A transformer has the wrong shape, or a change is covered by nothing.</exception>
    public static TransferPlan Create(ProgramVersion oldVersion, ProgramVersion newVersion)
    {
        var plan = Plan(oldVersion, newVersion);
        if (plan._problems.Count > 0)
        {
            throw new UpdateFailedException(UpdatePhase.Prepare, plan.RefusalMessage);
        }
        return plan;
    }

    /// <summary>Why the update cannot go ahead, when <see cref="Problems"/> has any.</summary>
    public string RefusalMessage =>
        "The new version changes state in ways that nothing covers:" + string.Concat(Problems.Select(p => "\n  - " + p));

    /// <summary>Plans the transfer and compiles its copiers, keeping the changes that nothing covers in <see cref="Problems"/>.</summary>
    /// <exception cref="UpdateFailedException">A transformer has the wrong shape.</exception>
    public static TransferPlan Plan(ProgramVersion oldVersion, ProgramVersion newVersion)
    {
        var plan = new TransferPlan(new TypeMap(oldVersion, newVersion, TransformerSet.Discover(newVersion)));
        // Compiled now, before the pause: the copiers of the main assembly's types. A library's types (it may be a large
        // one, most of whose types hold no state) and generic instantiations are compiled when the transfer first meets
        // their objects.
        foreach (var type in oldVersion.ProgramTypes().Where(t => oldVersion.IsMainAssembly(t.Assembly)
            && !t.ContainsGenericParameters && !TypeFacts.IsCompilerGeneratedCode(t) && !t.IsAbstract && !t.IsInterface))
        {
            plan.CopierFor(type);
        }
        foreach (var type in plan.Map.OldStaticHolders())
        {
            plan.PlanStatics(type);
        }
        // What these copiers find that nothing covers is found where it would have been without them: when an object meets one.
        var problems = plan._problems.Count;
        plan.CompileFieldTypes(oldVersion);
        plan._problems.RemoveRange(problems, plan._problems.Count - problems);
        plan.SharedStatics.AddRange(plan.Map.SharedStatics());
        return plan;
    }

    /// <summary>
    /// Compiled now, before the pause, rather than when the transfer first meets their objects: the copiers of the types the old
    /// version's fields are declared with (a <c>Dictionary&lt;string, Entry&gt;</c>, an <c>Entry[]</c>), and of the generic
    /// instantiations its code uses. An object of another runtime type (a subclass held in a base-typed field) still compiles its
    /// copier on first use.
    /// </summary>
    private void CompileFieldTypes(ProgramVersion oldVersion)
    {
        var seen = new HashSet<Type>();
        var work = new Stack<Type>(oldVersion.GenericInstantiationsInUse());
        foreach (var type in oldVersion.ProgramTypes().Where(t => Map.IsOld(t.Assembly) && !t.ContainsGenericParameters && !TypeFacts.IsCompilerGeneratedCode(t)))
        {
            foreach (var field in TypeFacts.InstanceFields(type).Concat(TypeFacts.StaticFields(type)))
            {
                work.Push(field.FieldType);
            }
        }
        while (work.TryPop(out var type))
        {
            if (!seen.Add(type) || type.ContainsGenericParameters || type.IsPointer || type.IsByRef || !Map.InvolvesOld(type))
            {
                continue;
            }
            if (type.HasElementType)
            {
                work.Push(type.GetElementType()!);
            }
            else if (type.IsGenericType)
            {
                foreach (var argument in type.GetGenericArguments())
                {
                    work.Push(argument);
                }
            }
            if (!type.IsAbstract && !type.IsInterface && !TypeFacts.IsCompilerGeneratedCode(type.IsGenericType ? type.GetGenericTypeDefinition() : type))
            {
                CopierFor(type);
            }
        }
    }

    /// <summary>The copier for every object of an old runtime type (built and compiled on first use).</summary>
    public TypeCopier CopierFor(Type type)
    {
        if (!_copiers.TryGetValue(type, out var copier))
        {
            copier = Build(type);
            _copiers[type] = copier;
        }
        return copier;
    }

    private TypeCopier Build(Type type)
    {
        if (Carriers.CopierFor(type, Map) is { } carrier)
        {
            return carrier;
        }
        if (!Map.InvolvesOld(type))
        {
            if (typeof(Delegate).IsAssignableFrom(type))
            {
                return DelegateCopier.Instance;
            }
            if (typeof(Type).IsAssignableFrom(type))
            {
                return TypeObjectCopier.Instance;
            }
            if (typeof(System.Reflection.MemberInfo).IsAssignableFrom(type))
            {
                return MemberObjectCopier.Instance;
            }
            if (typeof(Exception).IsAssignableFrom(type))
            {
                // An exception's stack trace keeps the code that threw it loaded: it is copied, with its stack trace as text.
                return Rebuild(type, type);
            }
            if (TypeFacts.WhyCannotCross(type) is { } why)
            {
                return new CannotCrossCopier(why);
            }
            if (Map.InvolvesShared(type))
            {
                // A shared library's object (or a framework collection of them) passes as it is when nothing it can reach is of the
                // old version, whatever it holds: decided once for its type. Otherwise it is rebuilt as the same type, what it holds transferred.
                return Map.MayReachOld(type) ? Rebuild(type, type) : ByReferenceCopier.Instance;
            }
            if (TypeFacts.IsServerObject(type))
            {
                // A connection's objects (a response stream, a WebSocket's transport) belong to the server, which outlives the
                // versions: they pass as they are, without a look at what the request that opened them left in them.
                return ByReferenceCopier.Instance;
            }
            // A framework container whose elements may be the program's objects is rebuilt as the same type.
            return TypeFacts.MayHoldProgramObjects(type) ? Rebuild(type, type) : Carriers.ByReference(type, () => Rebuild(type, type));
        }
        if (TypeFacts.IsCompilerGeneratedCode(type) || typeof(Delegate).IsAssignableFrom(type))
        {
            return new CannotCrossCopier($"a {(typeof(Delegate).IsAssignableFrom(type) ? "delegate" : "lambda closure, async state machine or iterator")} " +
                $"of the old version ({TypeFacts.Describe(type)}): the new version must create its own");
        }
        if (type.FullName is { } name && Map.Transformers.ByOldType.TryGetValue(name, out var transformer) && transformer.IsFactory)
        {
            return new FactoryCopier(transformer.Method, type);
        }
        if (Map.Map(type) is not { } newType)
        {
            return new CannotCrossCopier($"an object of type {TypeFacts.Describe(type)}, which the new version no longer has " +
                $"(add [RenamedFrom(\"{type.FullName}\")] to its successor, or a [TransformType(\"{type.FullName}\")] method)");
        }
        if (Map.KindChange(type) is var (from, to))
        {
            return new CannotCrossCopier($"an object of type {TypeFacts.Describe(from)}, {TypeFacts.Kind(from)} in the old version and " +
                $"{TypeFacts.Kind(to)} in the new one: nothing converts one to the other (add a [TransformType(\"{from.FullName}\")] factory)");
        }
        return Rebuild(type, newType);
    }

    private TypeCopier Rebuild(Type oldType, Type newType)
    {
        if (oldType.IsEnum)
        {
            return new EnumCopier(oldType, newType);
        }
        if (oldType.IsArray)
        {
            return new ArrayCopier(newType);
        }
        var isProgramType = Map.IsOld(oldType.Assembly);
        if (!isProgramType && HashCollectionCopier.TryCreate(oldType, newType) is { } collection)
        {
            return collection;
        }
        if (!isProgramType && HashCollectionCopier.KeyType(oldType) is { } key && Map.InvolvesOld(key)
            && oldType.Namespace != "System.Collections.ObjectModel")
        {
            // Immutable sets and dictionaries keep hash codes (or orderings) in their structure, and cannot be built empty and
            // filled: copying their fields would break their lookups in silence. Read-only wrappers hold a collection that is rebuilt.
            return new CannotCrossCopier($"a {TypeFacts.Describe(oldType)}, whose keys' hash codes change in the new version and which " +
                "cannot be rebuilt by inserting them again (hold a Dictionary or HashSet instead, or rebuild it in an [AfterTransfer] step)");
        }
        if (isProgramType && !oldType.IsAbstract && newType.IsAbstract)
        {
            // The types tell already that no object of this type can be built: refused before any pause, not at the first object.
            var why = $"{TypeFacts.Describe(newType)} became abstract, so its objects cannot be rebuilt " +
                $"(add a [TransformType(\"{oldType.FullName}\")] factory that builds a concrete type)";
            _problems.Add(why);
            return new CannotCrossCopier(why);
        }
        var fill = oldType.FullName is { } name && Map.Transformers.ByOldType.TryGetValue(name, out var t) && !t.IsFactory ? t : null;
        var plan = FieldPlan.Create(oldType, newType, Map, statics: false, filledByTransformer: fill is not null);
        if (isProgramType)
        {
            DroppedFields.AddRange(plan.Dropped.Select(f => $"{TypeFacts.Describe(oldType)}.{f}"));
        }
        if (plan.Problems.Count > 0)
        {
            _problems.AddRange(plan.Problems);
            return new CannotCrossCopier($"an object whose type changed in ways that nothing covers: {string.Join("; ", plan.Problems)}");
        }
        if (isProgramType && fill is null && plan.Computed.Count == 0 && FrameworkBase(oldType, Map.Old) is { } frameworkBase
            && HashCollectionCopier.KeyType(frameworkBase) is not null
            && HashCollectionCopier.TryCreate(oldType, newType, () => OwnFields(plan), FrameworkBase(newType, Map.New)) is { } derived)
        {
            // A program type derived from a framework dictionary or set: its buckets hold the old hash codes, so its elements are inserted again.
            return derived;
        }
        // By the new type's kind: a class that became a struct is copied into values, a struct that became a class into objects.
        return newType.IsValueType ? new StructCopier(plan) : new ClassCopier(plan, fill);
    }

    /// <summary>The first base type of one of a version's program types that is not the version's own, unless it is object.</summary>
    private static Type? FrameworkBase(Type programType, ProgramVersion version)
    {
        var type = programType.BaseType;
        while (type is not null && version.Owns(type.Assembly))
        {
            type = type.BaseType;
        }
        return type == typeof(object) || type == typeof(ValueType) ? null : type;
    }

    /// <summary>A plan reduced to the fields that the program's own classes declare.</summary>
    private FieldPlan OwnFields(FieldPlan plan)
    {
        plan.Copies.RemoveAll(c => !Map.Old.Owns(c.Old.DeclaringType!.Assembly));
        return plan;
    }

    private void PlanStatics(Type oldType)
    {
        if (!TypeFacts.StaticFields(oldType).Any())
        {
            return;
        }
        var newType = Map.Map(oldType);
        if (newType is null)
        {
            // A [NotMigrated] static is not state in the version that declares it: nothing of it is left behind.
            DroppedStatics.AddRange(TypeFacts.StaticFields(oldType).Where(f => !TypeFacts.IsNotMigrated(f)));
            DroppedFields.AddRange(TypeFacts.StaticFields(oldType).Select(f => $"static {TypeFacts.Describe(oldType)}.{TypeFacts.LogicalName(f)}"));
            return;
        }
        var plan = FieldPlan.Create(oldType, newType, Map, statics: true, filledByTransformer: false);
        _problems.AddRange(plan.Problems);
        DroppedStatics.AddRange(plan.DroppedFields.Where(f => !TypeFacts.IsNotMigrated(f)));
        DroppedFields.AddRange(plan.Dropped.Select(f => $"static {TypeFacts.Describe(oldType)}.{f}"));
        if (plan.Copies.Count > 0 && plan.Problems.Count == 0)
        {
            Statics.Add((TypeFacts.Describe(oldType), CopierEmitter.StaticsCopy(plan), plan.Copies));
        }
    }
}
