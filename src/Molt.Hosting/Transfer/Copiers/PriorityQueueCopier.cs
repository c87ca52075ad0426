using System.Collections;
using System.Reflection;

namespace Molt.Hosting.Transfer.Copiers;

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
