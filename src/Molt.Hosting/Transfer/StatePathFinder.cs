using System.Collections;
using System.Globalization;
using Molt.Hosting.Transfer.Copiers;

namespace Molt.Hosting.Transfer;

/// <summary>
/// Finds the path from a root (a static field, a unit's state) to an old object, for the error that
/// says which piece of state could not cross. Runs only when an update has already failed, so it walks
/// with reflection and a visited set rather than slowing the transfer down with path bookkeeping.
/// </summary>
internal static class StatePathFinder
{
    private const int MaxObjects = 5_000_000;

    /// <summary>The roots an update transfers, as the path names them: every static of the program's types, then each unit's state.</summary>
    /// <remarks>The statics' values are the live fields', or <paramref name="readStatic"/>'s (a state stream's, read into the old version loaded anew).</remarks>
    public static IEnumerable<(string Label, object? Value)> Roots(TypeMap map, IEnumerable<(string Name, object State)> units, Func<System.Reflection.FieldInfo, object?>? readStatic = null)
    {
        foreach (var type in map.OldStaticHolders())
        {
            foreach (var field in TypeFacts.StaticFields(type))
            {
                yield return ($"static {TypeFacts.Describe(type)}.{TypeFacts.LogicalName(field)}", readStatic is null ? field.GetValue(null) : readStatic(field));
            }
        }
        if (readStatic is null)
        {
            // A shared library's statics that the transfer gives the new version's objects (a state stream shares nothing).
            foreach (var field in map.SharedStatics())
            {
                yield return (SharedStaticLabel(field), field.GetValue(null));
            }
        }
        foreach (var (name, state) in units)
        {
            yield return ($"unit '{name}' state", state);
        }
    }

    /// <summary>How a path names a shared library's static: as any static, by its type and name.</summary>
    public static string SharedStaticLabel(System.Reflection.FieldInfo field) =>
        $"static {TypeFacts.Describe(field.DeclaringType!)}.{TypeFacts.LogicalName(field)}";

    /// <remarks>
    /// A value (an enum, a struct) has no identity: the box that failed was made by the transfer. A value target is found by
    /// equality instead, at the first place that holds an equal value, which is a holder of such state.
    /// </remarks>
    public static string? Find(IEnumerable<(string Label, object? Value)> roots, object target, TypeMap map)
    {
        var targetType = target.GetType();
        bool Matches(object candidate) => ReferenceEquals(candidate, target)
            || targetType.IsValueType && candidate.GetType() == targetType && candidate.Equals(target);
        var parents = new Dictionary<object, (object? Parent, string Step)>(ReferenceEqualityComparer.Instance);
        var slots = new Dictionary<Type, OpenSlots.Slot[]>();
        var queue = new Queue<object>();
        foreach (var (label, value) in roots)
        {
            if (value is not null && Matches(value))
            {
                return label;
            }
            if (value is null || !parents.TryAdd(value, (null, label)))
            {
                continue;
            }
            queue.Enqueue(value);
        }
        while (queue.TryDequeue(out var current) && parents.Count < MaxObjects)
        {
            foreach (var (step, child) in Children(current, map, slots))
            {
                if (child is null)
                {
                    continue;
                }
                if (Matches(child))
                {
                    return PathTo(current, parents) + step;
                }
                if (child.GetType().IsValueType && !Walkable(child.GetType(), map) || !parents.TryAdd(child, (current, step)))
                {
                    continue;
                }
                if (Walkable(child.GetType(), map))
                {
                    queue.Enqueue(child);
                }
            }
        }
        return null;
    }

    private static string PathTo(object found, Dictionary<object, (object? Parent, string Step)> parents)
    {
        var steps = new List<string>();
        for (object? at = found; at is not null;)
        {
            var (parent, step) = parents[at];
            steps.Add(step);
            at = parent;
        }
        steps.Reverse();
        return string.Concat(steps);
    }

    /// <summary>
    /// Objects that may lead to the program's: its own, framework containers over open types, and framework objects that
    /// may carry the program's (open slots such as a comparer or a delegate, weak references, cancellation sources, containers of them).
    /// </summary>
    private static bool Walkable(Type type, TypeMap map) =>
        type != typeof(string) && (map.InvolvesOld(type) || TypeFacts.MayHoldProgramObjects(type) || Carriers.MayCarry(type));

    private static bool IsWeakReference(Type type) =>
        type == typeof(WeakReference) || type.IsGenericType && type.GetGenericTypeDefinition() == typeof(WeakReference<>);

    private static OpenSlots.Slot[] SlotsOf(Type type, Dictionary<Type, OpenSlots.Slot[]> slots)
    {
        if (!slots.TryGetValue(type, out var known))
        {
            slots[type] = known = type.IsArray ? [] : OpenSlots.Of(type, compiled: false);
        }
        return known;
    }

    private static IEnumerable<(string Step, object? Child)> Children(object value, TypeMap map, Dictionary<Type, OpenSlots.Slot[]> slots)
    {
        var type = value.GetType();
        if (IsWeakReference(type))
        {
            object?[] target = [null];
            yield return (".Target", value is WeakReference weak ? weak.Target
                : type.GetMethod("TryGetTarget")!.Invoke(value, target) is true ? target[0] : null);
            yield break;
        }
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(System.Runtime.CompilerServices.ConditionalWeakTable<,>))
        {
            var i = 0;
            foreach (var entry in (IEnumerable)value)
            {
                var entryType = entry.GetType();
                yield return ($"[key {i}]", entryType.GetProperty("Key")!.GetValue(entry));
                yield return ($"[{i++}]", entryType.GetProperty("Value")!.GetValue(entry));
            }
            yield break;
        }
        if (value is Array array)
        {
            if (type.GetElementType()!.IsPrimitive)
            {
                yield break;
            }
            var i = 0;
            foreach (var element in array)
            {
                yield return ($"[{i++}]", element);
            }
            yield break;
        }
        if (!map.IsOld(type.Assembly) && type.Namespace?.StartsWith("System.Collections", StringComparison.Ordinal) == true)
        {
            if (value is IDictionary dictionary)
            {
                foreach (DictionaryEntry entry in dictionary)
                {
                    var key = Format(entry.Key);
                    yield return ($"[{key}]", entry.Value);
                    yield return ($"[key {key}]", entry.Key);
                }
                foreach (var slot in SlotsOf(type, slots))
                {
                    yield return (slot.Name, slot.Read(value));
                }
                yield break;
            }
            if (value is IEnumerable enumerable)
            {
                var i = 0;
                foreach (var element in enumerable)
                {
                    yield return ($"[{i++}]", element);
                }
                foreach (var slot in SlotsOf(type, slots))
                {
                    yield return (slot.Name, slot.Read(value));
                }
                yield break;
            }
        }
        foreach (var field in TypeFacts.InstanceFields(type))
        {
            yield return ($".{TypeFacts.LogicalName(field)}", field.GetValue(value));
        }
    }

    private static string Format(object key) => key switch
    {
        string s => $"\"{s}\"",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => key.GetType().Name,
    };
}
