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
        var elements = HoldsCarriers(type) ? new ElementsCheckCopier(rebuild)
            : IsObjectCollection(type) ? new ElementsCheckCopier(IsHashedObjectCollection(type) ? () => new CannotCrossCopier(
                $"a {TypeFacts.Describe(type)} that holds objects of the old version: their hash codes and orderings are the new version's, " +
                "and Molt rebuilds only the generic collections (hold a Dictionary<TKey, TValue> or a SortedList<TKey, TValue>)") : rebuild)
            : null;
        var check = slots.Length == 0 ? null : new OpenSlotsCopier(type, slots, elements);
        if (typeof(CancellationTokenSource).IsAssignableFrom(type))
        {
            return new CancellationSourceCopier(check);
        }
        return check ?? elements ?? (TypeCopier)ByReferenceCopier.Instance;
    }

    /// <summary>
    /// The non-generic collections of System.Collections (ArrayList, Queue, Stack, Hashtable, SortedList): collections of
    /// object, whose elements are checked. Their elements live in arrays, which open slots do not cover.
    /// </summary>
    private static bool IsObjectCollection(Type type) =>
        type == typeof(System.Collections.ArrayList) || type == typeof(System.Collections.Queue) || type == typeof(System.Collections.Stack)
        || IsHashedObjectCollection(type);

    /// <summary>The non-generic collections that keep hash codes or an ordering of their keys: they cannot be rebuilt by copying their fields.</summary>
    private static bool IsHashedObjectCollection(Type type) => type == typeof(System.Collections.Hashtable) || type == typeof(System.Collections.SortedList);

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
            || OpenSlots.Of(type, compiled: false).Length > 0 || HoldsCarriers(type) || IsObjectCollection(type);
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

    /// <summary>The first delegate of an invocation list that calls code of the old version (its method, or the object it is bound to), or null.</summary>
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

    /// <summary>A delegate's method as errors name it: <c>Type.Method</c>.</summary>
    public static string Describe(Delegate callback) => $"{callback.Method.DeclaringType?.Name}.{callback.Method.Name}";
}
