using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.CompilerServices;
using Molt.Hosting.Transfer;

namespace Molt.Hosting.Loading;

/// <summary>
/// Releases the state a retired version's statics hold when its code stays loaded: a context that is not
/// collectible keeps its statics for ever, and with them everything they reach (a whole keyspace, say).
/// </summary>
internal static class StaticState
{
    /// <summary>
    /// Clears every static field of <paramref name="types"/> that can hold a reference, and returns, weakly held, the
    /// objects of the version's own types (<paramref name="isOfVersion"/>) that they held: those must be collected,
    /// and one that is not is held from outside the version. Thread-static fields are left: they die with their threads.
    /// </summary>
    public static List<(string Field, WeakReference Object)> Release(IEnumerable<Type> types, Func<Type, bool> isOfVersion)
    {
        var held = new List<(string, WeakReference)>();
        var fields = new List<FieldInfo>();
        foreach (var type in types)
        {
            foreach (var field in TypeFacts.StaticFields(type))
            {
                if (field.IsDefined(typeof(ThreadStaticAttribute), inherit: false) || !HoldsReferences(field.FieldType))
                {
                    continue;
                }
                fields.Add(field);
                if (field.GetValue(null) is { } value && Mentions(value.GetType(), isOfVersion))
                {
                    held.Add(($"{TypeFacts.Describe(type)}.{TypeFacts.LogicalName(field)}", new WeakReference(value)));
                }
            }
        }
        if (fields.Count > 0)
        {
            Clear(fields)();
        }
        return held;
    }

    // One method that writes default into every field: readonly statics included, which reflection refuses to write
    // once their type is initialized. The retired code that could read them again never runs again.
    private static Action Clear(List<FieldInfo> fields)
    {
        var method = new DynamicMethod("molt release statics", null, [], typeof(StaticState).Module, skipVisibility: true);
        var il = method.GetILGenerator();
        foreach (var field in fields)
        {
            if (field.FieldType.IsValueType)
            {
                il.Emit(OpCodes.Ldsflda, field);
                il.Emit(OpCodes.Initobj, field.FieldType);
            }
            else
            {
                il.Emit(OpCodes.Ldnull);
                il.Emit(OpCodes.Stsfld, field);
            }
        }
        il.Emit(OpCodes.Ret);
        return method.CreateDelegate<Action>();
    }

    // Pointers hold no reference the GC follows (and cannot be a generic argument).
    private static bool HoldsReferences(Type type) =>
        !type.IsPointer && !type.IsFunctionPointer
        && (!type.IsValueType || (bool)IsReferenceOrContainsReferences.MakeGenericMethod(type).Invoke(null, null)!);

    private static readonly MethodInfo IsReferenceOrContainsReferences =
        typeof(RuntimeHelpers).GetMethod(nameof(RuntimeHelpers.IsReferenceOrContainsReferences))!;

    // An object of the version's own types, an array of them, or a generic collection over them.
    private static bool Mentions(Type type, Func<Type, bool> isOfVersion) =>
        type.HasElementType ? Mentions(type.GetElementType()!, isOfVersion)
        : isOfVersion(type) || (type.IsGenericType && type.GetGenericArguments().Any(a => Mentions(a, isOfVersion)));
}
