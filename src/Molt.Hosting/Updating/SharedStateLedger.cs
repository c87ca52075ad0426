using System.Collections.Concurrent;
using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.CompilerServices;

namespace Molt.Hosting.Updating;

/// <summary>
/// The framework objects that one update's transfer passed to the new version by reference, and that the new version
/// could change before the commit: the collections that carry a mutation counter (<c>List</c>, <c>Dictionary</c>,
/// <c>HashSet</c>, <c>Queue</c>, <c>Stack</c>, <c>LinkedList</c>, the sorted ones...), each with the counter's value
/// when it was passed. Recording costs one counter read per object passed (no copy: a million-entry dictionary is
/// still one pointer); on a rollback, a counter that moved says the new version changed an object the old version is
/// about to resume with. It detects; it cannot undo (undoing would need a copy taken in the pause).
/// </summary>
internal sealed class SharedStateLedger
{
    /// <summary>Per framework type: how to read its mutation counter, or null when it has none. Framework types are never unloaded.</summary>
    private static readonly ConcurrentDictionary<Type, Func<object, int>?> Counters = new();

    private readonly List<(object Shared, int Stamp)> _stamped = [];
    private Type? _lastType;
    private Func<object, int>? _lastCounter;

    /// <summary>How many objects were recorded.</summary>
    public int Count => _stamped.Count;

    /// <summary>Records an object passed by reference, with its mutation counter now, when it has one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Record(object shared)
    {
        var type = shared.GetType();
        if (!ReferenceEquals(type, _lastType))
        {
            _lastCounter = Counters.GetOrAdd(type, CompileCounter);
            _lastType = type;
        }
        if (_lastCounter is { } counter)
        {
            _stamped.Add((shared, counter(shared)));
        }
    }

    /// <summary>The recorded objects whose mutation counter moved since they were passed.</summary>
    public List<object> Changed()
    {
        var changed = new List<object>();
        foreach (var (shared, stamp) in _stamped)
        {
            if (Counters[shared.GetType()]!(shared) != stamp)
            {
                changed.Add(shared);
            }
        }
        return changed;
    }

    /// <summary>Whether objects of a type are recorded: it has a mutation counter Molt can read.</summary>
    public static bool IsTracked(Type type) => Counters.GetOrAdd(type, CompileCounter) is not null;

    /// <summary>
    /// The framework's collections count their mutations in a private int (<c>_version</c>, or <c>version</c>), that their
    /// enumerators compare; a wrapper (<c>SortedDictionary</c>) keeps its counter in the collection it wraps.
    /// </summary>
    private static Func<object, int>? CompileCounter(Type type)
    {
        if (type.IsArray || type.IsValueType || type == typeof(string))
        {
            return null;
        }
        var path = CounterPath(type, depth: 0);
        if (path is null)
        {
            return null;
        }
        var method = new DynamicMethod($"molt mutation counter of {type.Name}", typeof(int), [typeof(object)], typeof(SharedStateLedger).Module, skipVisibility: true);
        var il = method.GetILGenerator();
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Castclass, type);
        var isNull = il.DefineLabel();
        for (var i = 0; i < path.Count; i++)
        {
            il.Emit(OpCodes.Ldfld, path[i]);
            if (i < path.Count - 1)
            {
                // A wrapped collection not created yet: a counter of its own that no mutation moves.
                il.Emit(OpCodes.Dup);
                il.Emit(OpCodes.Brfalse, isNull);
            }
        }
        il.Emit(OpCodes.Ret);
        il.MarkLabel(isNull);
        il.Emit(OpCodes.Pop);
        il.Emit(OpCodes.Ldc_I4, int.MinValue);
        il.Emit(OpCodes.Ret);
        return method.CreateDelegate<Func<object, int>>();
    }

    private static List<FieldInfo>? CounterPath(Type type, int depth)
    {
        if (type.Assembly != typeof(object).Assembly && type.Assembly != typeof(LinkedList<>).Assembly
            && type.Assembly != typeof(SortedSet<>).Assembly)
        {
            return null; // Only the framework's own collections are taken at their word.
        }
        const BindingFlags instance = BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public;
        for (var t = type; t is not null && t != typeof(object); t = t.BaseType)
        {
            if ((t.GetField("_version", instance | BindingFlags.DeclaredOnly) ?? t.GetField("version", instance | BindingFlags.DeclaredOnly)) is { } counter
                && counter.FieldType == typeof(int))
            {
                return [counter];
            }
        }
        if (depth > 0)
        {
            return null;
        }
        // A wrapper of one collection (SortedDictionary over its TreeSet): that collection's counter.
        foreach (var field in type.GetFields(instance))
        {
            if (!field.FieldType.IsValueType && field.FieldType != typeof(object) && CounterPath(field.FieldType, depth + 1) is { } inner)
            {
                return [field, .. inner];
            }
        }
        return null;
    }
}
