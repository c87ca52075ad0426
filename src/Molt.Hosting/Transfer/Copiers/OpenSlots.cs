using System.Reflection;
using System.Reflection.Emit;

namespace Molt.Hosting.Transfer.Copiers;

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
        return CopierEmitter.Compiled(method.CreateDelegate<Func<object, object?>>());
    }
}
