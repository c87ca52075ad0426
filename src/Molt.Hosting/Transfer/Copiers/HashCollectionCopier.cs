using System.Collections;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace Molt.Hosting.Transfer.Copiers;

/// <summary>
/// Rebuilds a framework dictionary or set over the program's types by inserting every element again:
/// hash codes and orderings may differ in the new version (identity hash codes always do), so the
/// buckets of the old collection cannot be copied. Insertion waits until the keys are filled in. A program type
/// derived from such a collection is rebuilt the same way, its own fields copied by its plan.
/// </summary>
/// <remarks>
/// Reads the old collection and writes the new one through non-generic interfaces and compiled calls,
/// never through a generic instantiation over both versions' types: such an instantiation makes the new
/// version's loader depend on the old one's, and the old version could then never be unloaded.
/// </remarks>
internal sealed class HashCollectionCopier : ReferenceCopier
{
    private readonly Func<object> _construct;
    private readonly Action<object, object, StateTransfer>? _fillOwnFields;
    private readonly bool _isDictionary;
    private readonly PropertyInfo? _comparerProperty;
    private readonly object? _defaultComparer;
    private readonly ConstructorInfo? _withComparer;
    private readonly ConstructorInfo? _withCapacity;
    private readonly ConstructorInfo? _withCapacityAndComparer;
    private readonly PropertyInfo? _count;
    private readonly Func<object, object?, object?, object?> _add;
    private readonly Type? _derived;
    private readonly ConstructorInfo? _baseConstructor;
    private readonly Action<object>? _initializeOwnFields;
    private readonly FieldPlan? _ownFields;

    /// <summary>Whether the keys' equality is the framework's own (strings, numbers, enums): the insertion then runs no code of the program.</summary>
    private readonly bool _frameworkKeys;

    private HashCollectionCopier(Type oldType, Type newType, Type oldKey, Type newKey, bool isDictionary, MethodInfo add, ConstructorInfo constructor, FieldPlan? ownFields, Type? newFrameworkBase)
        : base(allocatesAlone: false) // A custom comparer is transferred first.
    {
        // A program type derived from the collection is allocated uninitialized and only its framework base's constructor runs
        // on it: the program's own constructor never runs in a transfer (its added fields get their initializers instead).
        var built = newFrameworkBase ?? newType;
        if (newFrameworkBase is not null)
        {
            _derived = newType;
            _baseConstructor = newFrameworkBase.GetConstructor(Type.EmptyTypes);
            _construct = () => _baseConstructor!.Invoke(RuntimeHelpers.GetUninitializedObject(_derived), null) ?? throw new InvalidOperationException();
        }
        else
        {
            _construct = CopierEmitter.Construct(constructor);
        }
        _fillOwnFields = ownFields is { Copies.Count: > 0 } ? CopierEmitter.ClassFill(ownFields) : null;
        _initializeOwnFields = ownFields is null ? null : FieldInitializers.Compile(ownFields.AddedValues);
        _ownFields = ownFields;
        _frameworkKeys = newKey == typeof(string) || newKey.IsPrimitive || newKey.IsEnum;
        Concurrent = ownFields is null || !ownFields.AddedValues.Any(a => a.CallsCode);
        _isDictionary = isDictionary;
        _add = CopierEmitter.CallInstance(add);
        _count = oldType.GetProperty("Count", BindingFlags.Instance | BindingFlags.Public, null, typeof(int), Type.EmptyTypes, null);
        _withCapacity = CapacityConstructor(built);
        _comparerProperty = oldType.GetProperty("Comparer", BindingFlags.Instance | BindingFlags.Public);
        if (_comparerProperty is not null)
        {
            var comparerInterface = _comparerProperty.PropertyType.IsGenericType ? _comparerProperty.PropertyType.GetGenericTypeDefinition() : null;
            if (comparerInterface == typeof(IEqualityComparer<>) || comparerInterface == typeof(IComparer<>))
            {
                var defaults = comparerInterface == typeof(IEqualityComparer<>) ? typeof(EqualityComparer<>) : typeof(Comparer<>);
                _defaultComparer = defaults.MakeGenericType(oldKey).GetProperty("Default")!.GetValue(null);
                _withComparer = built.GetConstructor([comparerInterface.MakeGenericType(newKey)]);
                _withCapacityAndComparer = CapacityConstructor(built, comparerInterface.MakeGenericType(newKey));
            }
        }
    }

    /// <summary>
    /// A copier for a dictionary or set type, or null when the type is neither or cannot be built empty and filled
    /// (no parameterless constructor: read-only wrappers, immutable collections).
    /// </summary>
    /// <param name="oldType">The old collection type.</param>
    /// <param name="newType">The new collection type.</param>
    /// <param name="ownFields">For a program type derived from a framework collection, its plan; called only when the copier is made.</param>
    /// <param name="newFrameworkBase">For a program type derived from a framework collection, the new type's first framework base.</param>
    public static HashCollectionCopier? TryCreate(Type oldType, Type newType, Func<FieldPlan>? ownFields = null, Type? newFrameworkBase = null)
    {
        if (newType.IsAbstract || (newFrameworkBase ?? newType).GetConstructor(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic, Type.EmptyTypes) is not { } constructor)
        {
            return null;
        }
        if (Find(oldType, typeof(IDictionary<,>)) is { } oldDictionary && Find(newType, typeof(IDictionary<,>)) is { } newDictionary
            && typeof(IDictionary).IsAssignableFrom(oldType))
        {
            var add = newDictionary.GetMethod("Add", newDictionary.GetGenericArguments())!;
            return new HashCollectionCopier(oldType, newType, oldDictionary.GetGenericArguments()[0], newDictionary.GetGenericArguments()[0], isDictionary: true, add, constructor, ownFields?.Invoke(), newFrameworkBase);
        }
        if (Find(oldType, typeof(ISet<>)) is { } oldSet && Find(newType, typeof(ISet<>)) is { } newSet)
        {
            var add = newSet.GetMethod("Add", newSet.GetGenericArguments())!;
            return new HashCollectionCopier(oldType, newType, oldSet.GetGenericArguments()[0], newSet.GetGenericArguments()[0], isDictionary: false, add, constructor, ownFields?.Invoke(), newFrameworkBase);
        }
        return null;
    }

    /// <summary>The key (or element) type of a dictionary or set type, or null when the type is neither.</summary>
    public static Type? KeyType(Type type) =>
        (Find(type, typeof(IDictionary<,>)) ?? Find(type, typeof(ISet<>)))?.GetGenericArguments()[0];

    /// <summary>A constructor whose first parameter is the capacity: the new collection is sized once, not grown element by element.</summary>
    private static ConstructorInfo? CapacityConstructor(Type type, params Type[] rest) =>
        type.GetConstructor([typeof(int), .. rest]) is { } constructor && constructor.GetParameters()[0].Name == "capacity" ? constructor : null;

    private int CountOf(object collection) => collection is ICollection c ? c.Count : _count?.GetValue(collection) as int? ?? 0;

    private static Type? Find(Type type, Type genericInterface) =>
        type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == genericInterface);

    protected override object Allocate(object old, StateTransfer transfer)
    {
        var comparer = _comparerProperty?.GetValue(old);
        if (comparer is not null && !ReferenceEquals(comparer, _defaultComparer) && _withComparer is not null)
        {
            // A custom comparer: the same object if it is the framework's (StringComparer.OrdinalIgnoreCase), rebuilt if it is the program's.
            var newComparer = transfer.TransferObject(comparer);
            return _withCapacityAndComparer is { } both ? Build(both, [CountOf(old), newComparer]) : Build(_withComparer, [newComparer]);
        }
        return _withCapacity is { } sized ? Build(sized, [CountOf(old)]) : _construct();
    }

    /// <summary>A new collection through a framework constructor: the collection type's own, or its framework base's run on the uninitialized derived object.</summary>
    private object Build(ConstructorInfo constructor, object?[] arguments)
    {
        if (_derived is null)
        {
            return constructor.Invoke(arguments);
        }
        var created = RuntimeHelpers.GetUninitializedObject(_derived);
        constructor.Invoke(created, arguments);
        return created;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Fill(object old, object created, StateTransfer transfer)
    {
        _fillOwnFields?.Invoke(old, created, transfer);
        if (_initializeOwnFields is { } initialize)
        {
            transfer.RunInitializers(_ownFields!, old, initialize, created);
        }
        // Sized from the count (the old collection does not change during the transfer). Read first, then transferred in
        // place, the keys apart from the values (each loop with a copier cache of its own, which would miss on every element
        // if they alternated): on this thread, or, for many elements in a parallel transfer, chunk by chunk on its threads.
        var count = CountOf(old);
        transfer.Expect(count);
        var keys = new object?[count];
        var values = _isDictionary ? new object?[count] : null;
        var length = ReadElements(old, ref keys, ref values);
        transfer.ForEachChunk(length, (transfer, from, to) =>
        {
            transfer.TransferElements(keys, keys, from, to);
            if (values is not null)
            {
                transfer.TransferElements(values, values, from, to);
            }
        });
        transfer.Defer(old, [MethodImpl(MethodImplOptions.AggressiveOptimization)] () =>
        {
            for (var i = 0; i < length; i++)
            {
                if (_add(created, keys[i], values?[i]) is false)
                {
                    throw new StateTransferException("two of its elements are equal in the new version (their Equals or GetHashCode changed)", old);
                }
            }
        }, concurrent: transfer.Parallel && RunsOnlyFrameworkCode(old));
    }

    /// <summary>Whether inserting into the new collection runs no code of the program: framework keys, and the default or a framework comparer.</summary>
    private bool RunsOnlyFrameworkCode(object old)
    {
        if (!_frameworkKeys)
        {
            return false;
        }
        var comparer = _comparerProperty?.GetValue(old);
        return comparer is null || ReferenceEquals(comparer, _defaultComparer) || comparer.GetType().Assembly == typeof(object).Assembly;
    }

    /// <summary>The old collection's keys (or elements) and values, in its order.</summary>
    private int ReadElements(object old, ref object?[] keys, ref object?[]? values)
    {
        var length = 0;
        if (_isDictionary)
        {
            var entries = ((IDictionary)old).GetEnumerator();
            while (entries.MoveNext())
            {
                if (length == keys.Length)
                {
                    Array.Resize(ref keys, (length * 2) + 4);
                    Array.Resize(ref values, keys.Length);
                }
                keys[length] = entries.Key;
                values![length] = entries.Value;
                length++;
            }
            return length;
        }
        foreach (var item in (IEnumerable)old)
        {
            if (length == keys.Length)
            {
                Array.Resize(ref keys, (length * 2) + 4);
            }
            keys[length++] = item;
        }
        return length;
    }
}
