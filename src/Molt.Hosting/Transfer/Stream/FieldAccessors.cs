using System.Reflection;
using System.Reflection.Emit;

namespace Molt.Hosting.Transfer.Stream;

/// <summary>
/// Compiled reads and writes of one field of a class instance or a boxed struct, the value boxed: the stream's inner loop,
/// several times faster than <see cref="FieldInfo.GetValue"/> and <see cref="FieldInfo.SetValue(object, object)"/>. Kept by
/// the writer or reader that made them (never in a static cache: they name the types of a version that must unload).
/// </summary>
internal static class FieldAccessors
{
    public static Func<object, object?> Getter(FieldInfo field)
    {
        if (field.FieldType.IsPointer || field.FieldType.IsByRefLike)
        {
            return field.GetValue;
        }
        var method = new DynamicMethod($"molt stream get {field.Name}", typeof(object), [typeof(object)], typeof(FieldAccessors).Module, skipVisibility: true);
        var il = method.GetILGenerator();
        LoadTarget(il, field.DeclaringType!);
        il.Emit(OpCodes.Ldfld, field);
        if (field.FieldType.IsValueType)
        {
            il.Emit(OpCodes.Box, field.FieldType);
        }
        il.Emit(OpCodes.Ret);
        return method.CreateDelegate<Func<object, object?>>();
    }

    public static Action<object, object?> Setter(FieldInfo field)
    {
        if (field.FieldType.IsPointer || field.FieldType.IsByRefLike)
        {
            return field.SetValue;
        }
        var method = new DynamicMethod($"molt stream set {field.Name}", null, [typeof(object), typeof(object)], typeof(FieldAccessors).Module, skipVisibility: true);
        var il = method.GetILGenerator();
        LoadTarget(il, field.DeclaringType!);
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(field.FieldType.IsValueType ? OpCodes.Unbox_Any : OpCodes.Castclass, field.FieldType);
        il.Emit(OpCodes.Stfld, field);
        il.Emit(OpCodes.Ret);
        return method.CreateDelegate<Action<object, object?>>();
    }

    /// <summary>The instance: a class reference, or a pointer into a boxed struct (so a write changes the box itself).</summary>
    private static void LoadTarget(ILGenerator il, Type declaring)
    {
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(declaring.IsValueType ? OpCodes.Unbox : OpCodes.Castclass, declaring);
    }
}
