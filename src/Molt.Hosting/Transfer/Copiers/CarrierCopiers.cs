using System.Collections;
using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.CompilerServices;

namespace Molt.Hosting.Transfer.Copiers;

/// <summary>
/// Framework objects that carry the old version's code or identity although their type is the framework's: weak
/// references and weak tables (whose targets are the program's objects), cancellation sources (whose callbacks may be the
/// old version's code), per-thread and per-flow values, and any framework object passed by reference whose open slots
/// (fields typed object, an interface, an abstract class or a delegate; a collection's comparer) hold something of the
/// old version. Each is carried into the new version, or refused with its path.
/// </summary>
internal static class Carriers
{
    /// <summary>The copier for a carrier type, whatever its generic arguments, or null when the type is no carrier.</summary>
    public static TypeCopier? CopierFor(Type type, TypeMap map)
    {
        if (type.IsGenericType && !type.IsGenericTypeDefinition)
        {
            var definition = type.GetGenericTypeDefinition();
            if (definition == typeof(ThreadLocal<>) || definition == typeof(AsyncLocal<>))
            {
                return new CannotCrossCopier(TypeFacts.WhyCannotCross(type)!);
            }
            if (definition == typeof(WeakReference<>))
            {
                return map.Map(type) is { } newType ? new WeakReferenceCopier(type, newType) : null;
            }
            if (definition == typeof(ConditionalWeakTable<,>) && (map.InvolvesOld(type) || TypeFacts.MayHoldProgramObjects(type))
                && map.Map(type) is { } newTable)
            {
                return new WeakTableCopier(type, newTable);
            }
            if ((map.InvolvesOld(type) || TypeFacts.MayHoldProgramObjects(type)) && map.Map(type) is { } newCollection
                && ((ReferenceCopier?)ImmutableCopier.TryCreate(type, newCollection) ?? PriorityQueueCopier.TryCreate(type, newCollection)) is { } rebuilt)
            {
                return rebuilt;
            }
            return null;
        }
        if (type == typeof(WeakReference))
        {
            return new WeakReferenceCopier(type, type);
        }
        return null;
    }

    /// <summary>
    /// The copier for a framework type that would be passed by reference: checked at transfer when it has open slots
    /// (a cancellation source's callbacks too) or holds objects that do (a List&lt;CancellationTokenSource&gt;), else passed as it is.
    /// </summary>
    /// <param name="type">A framework type that holds no type of the old version and no open type.</param>
    /// <param name="rebuild">The copier that rebuilds it as the same type, when what it holds must change.</param>
    public static TypeCopier ByReference(Type type, Func<TypeCopier> rebuild)
    {
        var slots = OpenSlots.Of(type);
        var elements = HoldsCarriers(type) ? new ElementsCheckCopier(rebuild) : null;
        var check = slots.Length == 0 ? null : new OpenSlotsCopier(type, slots, elements);
        if (typeof(CancellationTokenSource).IsAssignableFrom(type))
        {
            return new CancellationSourceCopier(check);
        }
        return check ?? elements ?? (TypeCopier)ByReferenceCopier.Instance;
    }

    /// <summary>
    /// Whether objects of a framework type, passed by reference, may carry something of the old version: a carrier, an
    /// object with open slots, or a container of them (a Dictionary&lt;string, Lazy&lt;int&gt;&gt;).
    /// </summary>
    public static bool MayCarry(Type type)
    {
        if (type.IsPrimitive || type == typeof(string) || type.ContainsGenericParameters)
        {
            return false;
        }
        if (MayCarryCache.TryGetValue(type, out var known))
        {
            return known;
        }
        var carries = type.IsAssignableTo(typeof(CancellationTokenSource)) || type == typeof(WeakReference)
            || type.IsGenericType && (type.GetGenericTypeDefinition() == typeof(WeakReference<>) || type.GetGenericTypeDefinition() == typeof(ConditionalWeakTable<,>))
            || OpenSlots.Of(type, compiled: false).Length > 0 || HoldsCarriers(type);
        if (!IsCollectible(type))
        {
            MayCarryCache[type] = carries;
        }
        return carries;
    }

    // Framework types only are cached: they are never unloaded, unlike instantiations over a version's types.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, bool> MayCarryCache = new();

    private static bool IsCollectible(Type type) =>
        type.HasElementType ? IsCollectible(type.GetElementType()!)
        : type.Assembly.IsCollectible || type.IsGenericType && type.GetGenericArguments().Any(IsCollectible);

    /// <summary>Whether an array or a generic type has an element or argument type that <see cref="MayCarry"/>.</summary>
    private static bool HoldsCarriers(Type type) =>
        (type.HasElementType || type.IsGenericType) && !type.ContainsGenericParameters
        && (type.HasElementType ? MayCarry(type.GetElementType()!) : type.GetGenericArguments().Any(MayCarry));

    /// <summary>Whether a delegate calls code of the old version (its method, or the object it is bound to).</summary>
    public static Delegate? OldCodeIn(Delegate callback, TypeMap map)
    {
        foreach (var d in callback.GetInvocationList())
        {
            if (map.InvolvesOld(d.Method.DeclaringType ?? typeof(object)) || d.Target is { } target && map.InvolvesOld(target.GetType()))
            {
                return d;
            }
        }
        return null;
    }

    public static string Describe(Delegate callback) => $"{callback.Method.DeclaringType?.Name}.{callback.Method.Name}";
}

/// <summary>
/// A framework container of carriers (a List&lt;CancellationTokenSource&gt;, a Dictionary&lt;string, WeakReference&gt;, a
/// Dictionary&lt;string, HashSet&lt;string&gt;&gt; whose sets may have a comparer of the program's): its elements are checked
/// one by one; when all cross as themselves, the container passes by reference, else it is rebuilt as the same type.
/// A container that cannot be enumerated (a Lazy&lt;CancellationTokenSource&gt;) is always rebuilt.
/// </summary>
internal sealed class ElementsCheckCopier(Func<TypeCopier> rebuild) : TypeCopier
{
    private TypeCopier? _rebuild;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override object Transfer(object old, StateTransfer transfer)
    {
        if (AllCrossAsThemselves(old, transfer))
        {
            transfer.ReferencesPassed++;
            return old;
        }
        return Rebuild(old, transfer);
    }

    /// <summary>Rebuilds the container as the same type, its elements transferred.</summary>
    public object Rebuild(object old, StateTransfer transfer)
    {
        _rebuild ??= rebuild();
        return _rebuild.Transfer(old, transfer);
    }

    /// <summary>Whether every element (key and value, for a dictionary) crosses as itself; a container that cannot be enumerated does not.</summary>
    public static bool AllCrossAsThemselves(object old, StateTransfer transfer)
    {
        // What the elements are is checked, not passed: they are not counted as references of the new version's state.
        var passed = transfer.ReferencesPassed;
        var keys = default(CopierCache);
        var values = default(CopierCache);
        if (old is IDictionary dictionary)
        {
            var entries = dictionary.GetEnumerator();
            while (entries.MoveNext())
            {
                if (!Same(entries.Key, ref keys, transfer) || !Same(entries.Value, ref values, transfer))
                {
                    return false;
                }
            }
        }
        else
        {
            foreach (var element in (IEnumerable)old)
            {
                if (!Same(element, ref keys, transfer))
                {
                    return false;
                }
            }
        }
        transfer.ReferencesPassed = passed;
        return true;
    }

    private static bool Same(object? element, ref CopierCache cache, StateTransfer transfer) =>
        element is null || ReferenceEquals(transfer.TransferObject(element, ref cache), element);
}

/// <summary>
/// The open slots of a framework type: instance fields whose declared type is object, an interface, an abstract class or
/// a delegate (so they may hold an object or code of the program), and the comparer a collection exposes (the slot that
/// holds it is often internal). A framework object passed by reference must hold nothing of the old version in them.
/// </summary>
internal static class OpenSlots
{
    private static readonly string[] ComparerProperties = ["Comparer", "KeyComparer", "ValueComparer"];

    /// <summary>A slot: what the path finder calls it, and a compiled read.</summary>
    public sealed record Slot(string Name, Func<object, object?> Read);

    /// <summary>The open slots of a type, read by compiled code (for the transfer), or by reflection (for the path finder, once per failed update).</summary>
    public static Slot[] Of(Type type, bool compiled = true)
    {
        if (type.IsArray || type.IsPrimitive || type == typeof(string) || type.IsPointer || type.ContainsGenericParameters)
        {
            return [];
        }
        var slots = new List<Slot>();
        var fields = TypeFacts.InstanceFields(type).Where(f => IsOpen(f.FieldType)).ToList();
        var named = new Dictionary<FieldInfo, string>();
        foreach (var name in ComparerProperties)
        {
            if (type.GetProperty(name, BindingFlags.Instance | BindingFlags.Public, null, null, Type.EmptyTypes, null) is not { CanRead: true } property
                || property.PropertyType.IsValueType || !IsOpen(property.PropertyType))
            {
                continue;
            }
            // The field behind the property (Dictionary._comparer, SortedSet.comparer) is read once, under the name the program knows.
            if (fields.FirstOrDefault(f => f.FieldType == property.PropertyType && !named.ContainsKey(f)) is { } behind)
            {
                named[behind] = name;
                continue;
            }
            slots.Add(new Slot("." + name, compiled ? Compile(null, property) : property.GetValue));
        }
        foreach (var field in fields)
        {
            var name = named.TryGetValue(field, out var known) ? known : TypeFacts.LogicalName(field);
            slots.Add(new Slot("." + name, compiled ? Compile(field, null) : field.GetValue));
        }
        return [.. slots];
    }

    /// <summary>Object, interfaces, abstract classes and delegates: what the field holds can be the program's. Arrays are left out (their elements would be).</summary>
    private static bool IsOpen(Type type) =>
        type == typeof(object) || type.IsInterface || (type.IsAbstract && !type.IsSealed && !type.IsArray) || typeof(Delegate).IsAssignableFrom(type);

    private static Func<object, object?> Compile(FieldInfo? field, PropertyInfo? property)
    {
        var owner = field?.DeclaringType ?? property!.DeclaringType!;
        var method = new DynamicMethod($"molt slot {owner.Name}.{field?.Name ?? property!.Name}", typeof(object), [typeof(object)], typeof(OpenSlots).Module, skipVisibility: true);
        var il = method.GetILGenerator();
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(owner.IsValueType ? OpCodes.Unbox : OpCodes.Castclass, owner);
        if (field is not null)
        {
            il.Emit(OpCodes.Ldfld, field);
        }
        else
        {
            il.Emit(owner.IsValueType ? OpCodes.Call : OpCodes.Callvirt, property!.GetMethod!);
        }
        il.Emit(OpCodes.Ret);
        return method.CreateDelegate<Func<object, object?>>();
    }
}

/// <summary>
/// A framework object that would pass by reference but has open slots: it passes when every slot's value crosses as
/// itself (the common case: one comparer check for a dictionary of a million entries). When a slot holds an object of
/// the old version (a comparer of the program's type), a hash collection is rebuilt with the slot's new object and its
/// elements inserted again; any other framework object is refused, with the path to what it holds.
/// </summary>
/// <param name="type">The framework type.</param>
/// <param name="slots">Its open slots.</param>
/// <param name="elements">For a container of carriers (a Dictionary&lt;string, HashSet&lt;string&gt;&gt;), the check of its elements.</param>
internal sealed class OpenSlotsCopier(Type type, OpenSlots.Slot[] slots, ElementsCheckCopier? elements = null) : TypeCopier
{
    /// <summary>How deep checks may nest before each checked object is recorded (framework objects rarely nest more than a few).</summary>
    private const int GuardedDepth = 16;

    private ReferenceCopier? _rebuild;
    private bool _rebuildKnown;

    /// <summary>Per slot, the last value that crossed as itself: comparers are mostly shared, so most checks end at a reference comparison.</summary>
    private readonly object?[] _passed = new object?[slots.Length];

    private readonly bool _isLazy = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Lazy<>);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override object Transfer(object old, StateTransfer transfer)
    {
        if (type.IsValueType)
        {
            return Check(old, transfer) is { } held ? throw CannotRebuild(held) : Passed(old, transfer);
        }
        object? changed;
        if (transfer.SlotCheckDepth < GuardedDepth)
        {
            // Not recorded in the identity map: a framework object that passes (most do) costs its slot reads only.
            transfer.SlotCheckDepth++;
            try
            {
                changed = Check(old, transfer);
            }
            finally
            {
                transfer.SlotCheckDepth--;
            }
        }
        else
        {
            if (transfer.TryGetNew(old, out var known))
            {
                return known;
            }
            // Deep in framework objects (a cycle, perhaps: a timer whose state is its cancellation source): recorded as
            // passing while its slots are checked, so that the way back to it ends here.
            transfer.SlotFor(old, out _) = old;
            try
            {
                changed = Check(old, transfer);
            }
            finally
            {
                transfer.Forget(old);
            }
        }
        if (changed is null)
        {
            return elements is null || ElementsCheckCopier.AllCrossAsThemselves(old, transfer) ? Passed(old, transfer) : elements.Rebuild(old, transfer);
        }
        if (!_rebuildKnown)
        {
            _rebuild = (ReferenceCopier?)HashCollectionCopier.TryCreate(type, type) ?? ImmutableCopier.TryCreate(type, type) ?? (ReferenceCopier?)PriorityQueueCopier.TryCreate(type, type);
            _rebuildKnown = true;
        }
        if (_rebuild is not null)
        {
            return _rebuild.Transfer(old, transfer);
        }
        throw CannotRebuild(changed);
    }

    private StateTransferException CannotRebuild(object held) => new(
        $"it is held by a {TypeFacts.Describe(type)}, a framework object that would pass by reference, and Molt cannot rebuild one around " +
        "the new version's object: the old version's code would run on (hold it in a field of the program's own, or rebuild the framework object " +
        "in an [AfterTransfer] step)", held);

    /// <summary>The first slot value that does not cross as itself (the old object), or null when all do.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private object? Check(object old, StateTransfer transfer)
    {
        for (var i = 0; i < slots.Length; i++)
        {
            var value = slots[i].Read(old);
            if (value is null || ReferenceEquals(value, _passed[i]))
            {
                continue;
            }
            // What the slot holds is checked, not passed: it is not counted as a reference of the new version's state.
            var passed = transfer.ReferencesPassed;
            object? transferred;
            try
            {
                transferred = transfer.TransferObject(value);
            }
            catch (StateTransferException e) when (_isLazy && value is Delegate && ReferenceEquals(e.Offender, value))
            {
                throw new StateTransferException($"it is the factory of a {TypeFacts.Describe(type)} not yet evaluated ({Carriers.Describe((Delegate)value)}), " +
                    "old code that would run when the new version reads its Value (evaluate it before the update, mark the static [NotMigrated], " +
                    "or compute the field with a transformer)", value, e.InnerException);
            }
            if (!ReferenceEquals(transferred, value))
            {
                return value;
            }
            transfer.ReferencesPassed = passed;
            _passed[i] = value;
        }
        return null;
    }

    private static object Passed(object old, StateTransfer transfer)
    {
        transfer.ReferencesPassed++;
        return old;
    }
}

/// <summary>
/// <see cref="WeakReference"/> and <see cref="WeakReference{T}"/>: a weak reference to an object of the old version becomes a
/// new weak reference (keeping its trackResurrection) to that object's new object, which lives as long as the new
/// version's state holds it; one whose target is the framework's, or collected, passes by reference.
/// </summary>
internal sealed class WeakReferenceCopier : TypeCopier
{
    private readonly bool _involvesOld;
    private readonly MethodInfo? _tryGetTarget;
    private readonly MethodInfo _isTrackResurrection;
    private readonly ConstructorInfo _construct;

    public WeakReferenceCopier(Type oldType, Type newType)
    {
        _involvesOld = oldType != newType;
        _tryGetTarget = oldType.IsGenericType ? oldType.GetMethod("TryGetTarget")! : null;
        _isTrackResurrection = oldType.GetMethod("IsTrackResurrection", BindingFlags.Instance | BindingFlags.NonPublic, Type.EmptyTypes)
            ?? throw new MissingMethodException(oldType.FullName, "IsTrackResurrection");
        var target = newType.IsGenericType ? newType.GetGenericArguments()[0] : typeof(object);
        _construct = newType.GetConstructor([target, typeof(bool)])!;
    }

    public override object Transfer(object old, StateTransfer transfer)
    {
        if (transfer.TryGetNew(old, out var known))
        {
            return known;
        }
        var target = Target(old);
        var newTarget = transfer.TransferObject(target);
        if (!_involvesOld && ReferenceEquals(newTarget, target))
        {
            transfer.ReferencesPassed++;
            return old;
        }
        var created = _construct.Invoke([newTarget, _isTrackResurrection.Invoke(old, null)]);
        return transfer.RegisterBuilt(old, created);
    }

    private object? Target(object old)
    {
        if (_tryGetTarget is null)
        {
            return ((WeakReference)old).Target;
        }
        object?[] arguments = [null];
        return _tryGetTarget.Invoke(old, arguments) is true ? arguments[0] : null;
    }
}

/// <summary>
/// <see cref="ConditionalWeakTable{TKey, TValue}"/> over the program's types (or over object): a new table of the new
/// version's types, with each live entry added again under its key's new object (the table hashes keys by identity).
/// Read through its non-generic enumeration and written through a compiled call, never through generic code over both versions.
/// </summary>
internal sealed class WeakTableCopier(Type oldType, Type newType) : ReferenceCopier(allocatesAlone: true)
{
    private readonly Func<object, object?, object?, object?> _add = CopierEmitter.CallInstance(newType.GetMethod("AddOrUpdate")!);
    private readonly PropertyInfo _key = typeof(KeyValuePair<,>).MakeGenericType(oldType.GetGenericArguments()).GetProperty("Key")!;
    private readonly PropertyInfo _value = typeof(KeyValuePair<,>).MakeGenericType(oldType.GetGenericArguments()).GetProperty("Value")!;

    protected override object Allocate(object old, StateTransfer transfer) => Activator.CreateInstance(newType)!;

    public override void Fill(object old, object created, StateTransfer transfer)
    {
        foreach (var entry in (IEnumerable)old)
        {
            var key = transfer.TransferObject(_key.GetValue(entry));
            var value = transfer.TransferObject(_value.GetValue(entry));
            _add(created, key, value);
        }
    }
}

/// <summary>
/// <see cref="CancellationTokenSource"/>: its registered callbacks would run when the new version cancels it. One registered by
/// the old version's code refuses the update (the new version must register its own); with none, or only the framework's,
/// it passes by reference (its other slots checked like any framework object's). The callbacks are found through its
/// private fields (.NET 10: _registrations.Callbacks, a list linked by Next); if those change, this copier says so.
/// </summary>
internal sealed class CancellationSourceCopier(OpenSlotsCopier? slots) : TypeCopier
{
    private static readonly FieldInfo? Registrations = typeof(CancellationTokenSource).GetField("_registrations", BindingFlags.Instance | BindingFlags.NonPublic);

    public override object Transfer(object old, StateTransfer transfer)
    {
        if (!transfer.TryGetNew(old, out _))
        {
            foreach (var (callback, state) in Callbacks(old))
            {
                // Register(Action) stores the program's delegate as the state of a framework callback that calls it.
                if ((Carriers.OldCodeIn(callback, transfer.Map) ?? (state is Delegate d ? Carriers.OldCodeIn(d, transfer.Map) : null)) is { } oldCode)
                {
                    throw new StateTransferException(
                        $"it is a CancellationTokenSource with a callback registered by the old version's code ({Carriers.Describe(oldCode)}), which would run " +
                        "in the new version when it is cancelled (dispose the registration before the update, mark the field [NotMigrated], or compute it with a transformer)", old);
                }
            }
        }
        if (slots is not null)
        {
            return slots.Transfer(old, transfer);
        }
        transfer.ReferencesPassed++;
        return old;
    }

    private static IEnumerable<(Delegate Callback, object? State)> Callbacks(object source)
    {
        if (Registrations is null)
        {
            throw new StateTransferException("Molt cannot read a CancellationTokenSource's callbacks in this version of .NET (no field _registrations)", source);
        }
        if (Registrations.GetValue(source) is not { } registrations)
        {
            yield break;
        }
        var first = registrations.GetType().GetField("Callbacks", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            ?? throw new StateTransferException("Molt cannot read a CancellationTokenSource's callbacks in this version of .NET (no field Callbacks)", source);
        var node = first.GetValue(registrations);
        while (node is not null)
        {
            var nodeType = node.GetType();
            if (nodeType.GetField("Callback", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)?.GetValue(node) is Delegate callback)
            {
                yield return (callback, nodeType.GetField("CallbackState", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)?.GetValue(node));
            }
            node = nodeType.GetField("Next", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)?.GetValue(node);
        }
    }
}

/// <summary>
/// Immutable sets and dictionaries (hash or sorted) over the program's types, or with a comparer of the program's: they keep
/// hash codes or an ordering in their structure and cannot be built empty and filled. The new collection is allocated
/// empty (so that references to it, cycles included, are kept), built through the new type's builder with the comparers'
/// new objects once its elements are filled in, and the built collection's fields copied into the allocated one.
/// </summary>
internal sealed class ImmutableCopier : ReferenceCopier
{
    private readonly Type _newType;
    private readonly bool _isDictionary;
    private readonly PropertyInfo _keyComparer;
    private readonly PropertyInfo? _valueComparer;
    private readonly object _defaultKeyComparer;
    private readonly object? _defaultValueComparer;
    private readonly object _empty;
    private readonly Func<object, object?, object?, object?> _withComparers;
    private readonly Func<object, object?, object?, object?> _toBuilder;
    private readonly Func<object, object?, object?, object?> _add;
    private readonly Func<object, object?, object?, object?> _toImmutable;
    private readonly FieldInfo[] _fields;

    private ImmutableCopier(Type oldType, Type newType, bool isDictionary, bool isSorted)
        : base(allocatesAlone: true)
    {
        _newType = newType;
        _isDictionary = isDictionary;
        var oldKey = oldType.GetGenericArguments()[0];
        _keyComparer = oldType.GetProperty("KeyComparer")!;
        _defaultKeyComparer = (isSorted ? typeof(Comparer<>) : typeof(EqualityComparer<>)).MakeGenericType(oldKey).GetProperty("Default")!.GetValue(null)!;
        if (isDictionary)
        {
            _valueComparer = oldType.GetProperty("ValueComparer")!;
            _defaultValueComparer = typeof(EqualityComparer<>).MakeGenericType(oldType.GetGenericArguments()[1]).GetProperty("Default")!.GetValue(null);
        }
        _empty = newType.GetField("Empty", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
        var withComparers = isDictionary
            ? newType.GetMethods().Single(m => m.Name == "WithComparers" && m.GetParameters().Length == 2)
            : newType.GetMethod("WithComparer")!;
        _withComparers = CopierEmitter.CallInstance(withComparers);
        var toBuilder = newType.GetMethod("ToBuilder", Type.EmptyTypes)!;
        _toBuilder = CopierEmitter.CallInstance(toBuilder);
        var builder = toBuilder.ReturnType;
        var arguments = newType.GetGenericArguments();
        _add = CopierEmitter.CallInstance(builder.GetMethod("Add", arguments)!);
        _toImmutable = CopierEmitter.CallInstance(builder.GetMethod("ToImmutable", Type.EmptyTypes)!);
        _fields = [.. TypeFacts.InstanceFields(newType)];
    }

    /// <summary>A copier for an immutable hash or sorted set or dictionary, or null for any other type.</summary>
    public static ImmutableCopier? TryCreate(Type oldType, Type newType)
    {
        if (!oldType.IsGenericType || oldType.IsGenericTypeDefinition)
        {
            return null;
        }
        var definition = oldType.GetGenericTypeDefinition();
        return definition == typeof(System.Collections.Immutable.ImmutableHashSet<>) ? new ImmutableCopier(oldType, newType, isDictionary: false, isSorted: false)
            : definition == typeof(System.Collections.Immutable.ImmutableSortedSet<>) ? new ImmutableCopier(oldType, newType, isDictionary: false, isSorted: true)
            : definition == typeof(System.Collections.Immutable.ImmutableDictionary<,>) ? new ImmutableCopier(oldType, newType, isDictionary: true, isSorted: false)
            : definition == typeof(System.Collections.Immutable.ImmutableSortedDictionary<,>) ? new ImmutableCopier(oldType, newType, isDictionary: true, isSorted: true)
            : null;
    }

    protected override object Allocate(object old, StateTransfer transfer) => RuntimeHelpers.GetUninitializedObject(_newType);

    public override void Fill(object old, object created, StateTransfer transfer)
    {
        var keyComparer = Comparer(_keyComparer.GetValue(old), _defaultKeyComparer, transfer);
        var valueComparer = _valueComparer is null ? null : Comparer(_valueComparer.GetValue(old), _defaultValueComparer, transfer);
        var keys = new List<object?>();
        var values = _isDictionary ? new List<object?>() : null;
        var keyCopier = default(CopierCache);
        var valueCopier = default(CopierCache);
        if (_isDictionary)
        {
            var entries = ((IDictionary)old).GetEnumerator();
            while (entries.MoveNext())
            {
                keys.Add(transfer.TransferObject(entries.Key, ref keyCopier));
                values!.Add(transfer.TransferObject(entries.Value, ref valueCopier));
            }
        }
        else
        {
            foreach (var item in (IEnumerable)old)
            {
                keys.Add(transfer.TransferObject(item, ref keyCopier));
            }
        }
        // Built once the keys are filled in: their hash codes and orderings are the new version's.
        transfer.Defer(old, () =>
        {
            var builder = _toBuilder(_withComparers(_empty, keyComparer, valueComparer)!, null, null)!;
            for (var i = 0; i < keys.Count; i++)
            {
                if (_add(builder, keys[i], values?[i]) is false)
                {
                    throw new StateTransferException("two of its elements are equal in the new version (their Equals, GetHashCode or ordering changed)", old);
                }
            }
            var built = _toImmutable(builder, null, null)!;
            foreach (var field in _fields)
            {
                field.SetValue(created, field.GetValue(built));
            }
        });
    }

    /// <summary>The new version's comparer, or null (the new type's default) for the old type's default.</summary>
    private static object? Comparer(object? comparer, object? oldDefault, StateTransfer transfer) =>
        comparer is null || ReferenceEquals(comparer, oldDefault) ? null : transfer.TransferObject(comparer);
}

/// <summary>
/// <see cref="PriorityQueue{TElement, TPriority}"/> over the program's types or with a comparer of the program's: a new queue
/// with the comparer's new object, each (element, priority) enqueued again once the priorities are filled in (their
/// ordering is the new version's). Read through its non-generic enumeration of unordered items.
/// </summary>
internal sealed class PriorityQueueCopier : ReferenceCopier
{
    private readonly PropertyInfo _comparer;
    private readonly object _defaultComparer;
    private readonly ConstructorInfo _withComparer;
    private readonly PropertyInfo _unorderedItems;
    private readonly FieldInfo _element;
    private readonly FieldInfo _priority;
    private readonly Func<object, object?, object?, object?> _enqueue;

    private PriorityQueueCopier(Type oldType, Type newType)
        : base(allocatesAlone: false) // A custom comparer is transferred first.
    {
        var newPriority = newType.GetGenericArguments()[1];
        _comparer = oldType.GetProperty("Comparer")!;
        _defaultComparer = typeof(Comparer<>).MakeGenericType(oldType.GetGenericArguments()[1]).GetProperty("Default")!.GetValue(null)!;
        _withComparer = newType.GetConstructor([typeof(IComparer<>).MakeGenericType(newPriority)])!;
        _unorderedItems = oldType.GetProperty("UnorderedItems")!;
        var item = typeof(ValueTuple<,>).MakeGenericType(oldType.GetGenericArguments());
        _element = item.GetField("Item1")!;
        _priority = item.GetField("Item2")!;
        _enqueue = CopierEmitter.CallInstance(newType.GetMethod("Enqueue", newType.GetGenericArguments())!);
    }

    public static PriorityQueueCopier? TryCreate(Type oldType, Type newType) =>
        oldType.IsGenericType && oldType.GetGenericTypeDefinition() == typeof(PriorityQueue<,>) ? new PriorityQueueCopier(oldType, newType) : null;

    protected override object Allocate(object old, StateTransfer transfer)
    {
        var comparer = _comparer.GetValue(old);
        return _withComparer.Invoke([comparer is null || ReferenceEquals(comparer, _defaultComparer) ? null : transfer.TransferObject(comparer)]);
    }

    public override void Fill(object old, object created, StateTransfer transfer)
    {
        var items = new List<(object? Element, object? Priority)>();
        foreach (var item in (IEnumerable)_unorderedItems.GetValue(old)!)
        {
            items.Add((transfer.TransferObject(_element.GetValue(item)), transfer.TransferObject(_priority.GetValue(item))));
        }
        transfer.Defer(old, () =>
        {
            foreach (var (element, priority) in items)
            {
                _enqueue(created, element, priority);
            }
        });
    }
}
