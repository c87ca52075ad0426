using System.Reflection;
using System.Reflection.Emit;

namespace Molt.Hosting.Transfer;

/// <summary>
/// Compiles the copy of a type's fields into IL once per type pair, so that the transfer's inner loop is
/// plain field loads and stores. Dynamic methods skip visibility checks, which is what lets them write
/// private and readonly fields, and static readonly fields after their type was initialized.
/// </summary>
internal static class CopierEmitter
{
    private static readonly MethodInfo TransferObject = typeof(StateTransfer).GetMethod(nameof(StateTransfer.TransferObject), [typeof(object)])!;

    /// <summary><c>(old, new, transfer)</c>: copies every planned field of a class.</summary>
    public static Action<object, object, StateTransfer> ClassFill(FieldPlan plan)
    {
        var method = New($"fill {plan.NewType.Name}", null, [typeof(object), typeof(object), typeof(StateTransfer)]);
        var il = method.GetILGenerator();
        var oldLocal = il.DeclareLocal(plan.OldType);
        var newLocal = il.DeclareLocal(plan.NewType);
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Castclass, plan.OldType);
        il.Emit(OpCodes.Stloc, oldLocal);
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Castclass, plan.NewType);
        il.Emit(OpCodes.Stloc, newLocal);
        foreach (var copy in plan.Copies)
        {
            EmitCopy(il, copy, g => g.Emit(OpCodes.Ldloc, oldLocal), g => g.Emit(OpCodes.Ldloc, newLocal), transferArgument: 2);
        }
        il.Emit(OpCodes.Ret);
        return method.CreateDelegate<Action<object, object, StateTransfer>>();
    }

    /// <summary><c>(boxed old, transfer) → boxed new</c>: copies a struct.</summary>
    public static Func<object, StateTransfer, object> StructCopy(FieldPlan plan)
    {
        var method = New($"copy {plan.NewType.Name}", typeof(object), [typeof(object), typeof(StateTransfer)]);
        var il = method.GetILGenerator();
        var oldLocal = il.DeclareLocal(plan.OldType);
        var newLocal = il.DeclareLocal(plan.NewType);
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Unbox_Any, plan.OldType);
        il.Emit(OpCodes.Stloc, oldLocal);
        il.Emit(OpCodes.Ldloca, newLocal);
        il.Emit(OpCodes.Initobj, plan.NewType);
        foreach (var copy in plan.Copies)
        {
            EmitCopy(il, copy, g => g.Emit(OpCodes.Ldloca, oldLocal), g => g.Emit(OpCodes.Ldloca, newLocal), transferArgument: 1);
        }
        il.Emit(OpCodes.Ldloc, newLocal);
        il.Emit(OpCodes.Box, plan.NewType);
        il.Emit(OpCodes.Ret);
        return method.CreateDelegate<Func<object, StateTransfer, object>>();
    }

    /// <summary><c>(transfer)</c>: copies every planned static field of a type into the new version's type.</summary>
    public static Action<StateTransfer> StaticsCopy(FieldPlan plan)
    {
        var method = New($"statics {plan.NewType.Name}", null, [typeof(StateTransfer)]);
        var il = method.GetILGenerator();
        foreach (var copy in plan.Copies)
        {
            EmitCopy(il, copy, loadOld: null, loadNew: null, transferArgument: 0);
        }
        il.Emit(OpCodes.Ret);
        return method.CreateDelegate<Action<StateTransfer>>();
    }

    /// <summary>
    /// <c>() → new object</c> through a constructor, with default values for its parameters (a record's
    /// primary constructor), so that the field initializers of the new version run.
    /// </summary>
    public static Func<object> Construct(ConstructorInfo constructor)
    {
        var method = New($"new {constructor.DeclaringType!.Name}", typeof(object), []);
        var il = method.GetILGenerator();
        foreach (var parameter in constructor.GetParameters())
        {
            var type = parameter.ParameterType;
            if (!type.IsValueType)
            {
                il.Emit(OpCodes.Ldnull);
            }
            else
            {
                var local = il.DeclareLocal(type);
                il.Emit(OpCodes.Ldloca, local);
                il.Emit(OpCodes.Initobj, type);
                il.Emit(OpCodes.Ldloc, local);
            }
        }
        il.Emit(OpCodes.Newobj, constructor);
        il.Emit(OpCodes.Ret);
        return method.CreateDelegate<Func<object>>();
    }

    /// <summary><c>(old view) → new object</c>: calls a factory type transformer.</summary>
    public static Func<OldObject, object> CallFactory(MethodInfo transformer)
    {
        var method = New($"factory {transformer.Name}", typeof(object), [typeof(OldObject)]);
        var il = method.GetILGenerator();
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Call, transformer);
        if (transformer.ReturnType.IsValueType)
        {
            il.Emit(OpCodes.Box, transformer.ReturnType);
        }
        il.Emit(OpCodes.Ret);
        return method.CreateDelegate<Func<OldObject, object>>();
    }

    /// <summary><c>(old view, new object)</c>: calls a filling type transformer.</summary>
    public static Action<OldObject, object> CallFill(MethodInfo transformer, Type target)
    {
        var method = New($"transform {transformer.Name}", null, [typeof(OldObject), typeof(object)]);
        var il = method.GetILGenerator();
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Castclass, target);
        il.Emit(OpCodes.Call, transformer);
        il.Emit(OpCodes.Ret);
        return method.CreateDelegate<Action<OldObject, object>>();
    }

    /// <summary><c>(old view, new object)</c>: computes one field with a field transformer and stores it (into the box, for a struct).</summary>
    public static Action<OldObject, object> ComputeField(FieldInfo field, MethodInfo transformer)
    {
        var method = New($"field {field.Name}", null, [typeof(OldObject), typeof(object)]);
        var il = method.GetILGenerator();
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(field.DeclaringType!.IsValueType ? OpCodes.Unbox : OpCodes.Castclass, field.DeclaringType!);
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Call, transformer);
        if (transformer.ReturnType.IsValueType && !field.FieldType.IsValueType)
        {
            il.Emit(OpCodes.Box, transformer.ReturnType);
        }
        il.Emit(OpCodes.Stfld, field);
        il.Emit(OpCodes.Ret);
        return method.CreateDelegate<Action<OldObject, object>>();
    }

    /// <summary><c>(target, a, b) → result</c>: calls an instance method of one or two parameters with boxed arguments.</summary>
    public static Func<object, object?, object?, object?> CallInstance(MethodInfo method)
    {
        var dynamic = New($"call {method.Name}", typeof(object), [typeof(object), typeof(object), typeof(object)]);
        var il = dynamic.GetILGenerator();
        var declaring = method.DeclaringType!;
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Castclass, declaring);
        var parameters = method.GetParameters();
        for (var i = 0; i < parameters.Length; i++)
        {
            il.Emit(OpCodes.Ldarg, i + 1);
            var type = parameters[i].ParameterType;
            il.Emit(type.IsValueType ? OpCodes.Unbox_Any : OpCodes.Castclass, type);
        }
        il.Emit(declaring.IsInterface ? OpCodes.Callvirt : OpCodes.Call, method);
        if (method.ReturnType == typeof(void))
        {
            il.Emit(OpCodes.Ldnull);
        }
        else if (method.ReturnType.IsValueType)
        {
            il.Emit(OpCodes.Box, method.ReturnType);
        }
        il.Emit(OpCodes.Ret);
        return dynamic.CreateDelegate<Func<object, object?, object?, object?>>();
    }

    private static void EmitCopy(ILGenerator il, FieldCopy copy, Action<ILGenerator>? loadOld, Action<ILGenerator>? loadNew, int transferArgument)
    {
        loadNew?.Invoke(il);
        switch (copy.Kind)
        {
            case Conversion.Direct:
                LoadOldValue();
                break;
            case Conversion.Widen:
                LoadOldValue();
                Widening.Emit(il, copy.Old.FieldType, copy.New.FieldType);
                break;
            case Conversion.Transfer:
                EmitTransfer();
                if (copy.New.FieldType.IsValueType)
                {
                    il.Emit(OpCodes.Unbox_Any, copy.New.FieldType);
                }
                else
                {
                    il.Emit(OpCodes.Castclass, copy.New.FieldType);
                }
                break;
            case Conversion.WrapNullable:
                EmitTransfer();
                var underlying = Nullable.GetUnderlyingType(copy.New.FieldType)!;
                il.Emit(OpCodes.Unbox_Any, underlying);
                il.Emit(OpCodes.Newobj, copy.New.FieldType.GetConstructor([underlying])!);
                break;
        }
        il.Emit(copy.New.IsStatic ? OpCodes.Stsfld : OpCodes.Stfld, copy.New);

        void LoadOldValue()
        {
            if (copy.Old.IsStatic)
            {
                il.Emit(OpCodes.Ldsfld, copy.Old);
            }
            else
            {
                loadOld!(il);
                il.Emit(OpCodes.Ldfld, copy.Old);
            }
        }

        void EmitTransfer()
        {
            il.Emit(OpCodes.Ldarg, transferArgument);
            LoadOldValue();
            if (copy.Old.FieldType.IsValueType)
            {
                il.Emit(OpCodes.Box, copy.Old.FieldType);
            }
            il.Emit(OpCodes.Callvirt, TransferObject);
        }
    }

    private static DynamicMethod New(string name, Type? returnType, Type[] parameters) =>
        new($"molt {name}", returnType, parameters, typeof(CopierEmitter).Module, skipVisibility: true);
}
