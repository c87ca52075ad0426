using System.Collections;
using System.Globalization;

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
    public static IEnumerable<(string Label, object? Value)> Roots(TypeMap map, IEnumerable<(string Name, object State)> units)
    {
        foreach (var type in map.Old.StaticHolders())
        {
            foreach (var field in TypeFacts.StaticFields(type))
            {
                yield return ($"static {TypeFacts.Describe(type)}.{TypeFacts.LogicalName(field)}", field.GetValue(null));
            }
        }
        foreach (var (name, state) in units)
        {
            yield return ($"unit '{name}' state", state);
        }
    }

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
            foreach (var (step, child) in Children(current, map))
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

    private static bool Walkable(Type type, TypeMap map) =>
        type != typeof(string) && (map.InvolvesOld(type) || TypeFacts.MayHoldProgramObjects(type));

    private static IEnumerable<(string Step, object? Child)> Children(object value, TypeMap map)
    {
        var type = value.GetType();
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
        if (!map.Old.Owns(type.Assembly) && type.Namespace?.StartsWith("System.Collections", StringComparison.Ordinal) == true)
        {
            if (value is IDictionary dictionary)
            {
                foreach (DictionaryEntry entry in dictionary)
                {
                    var key = Format(entry.Key);
                    yield return ($"[{key}]", entry.Value);
                    yield return ($"[key {key}]", entry.Key);
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
