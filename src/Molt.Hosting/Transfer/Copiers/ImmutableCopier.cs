using System.Collections;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace Molt.Hosting.Transfer.Copiers;

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
