using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.CompilerServices;

namespace Molt.Hosting.Transfer;

/// <summary>
/// Compiles the copy of a type's fields into IL once per type pair, so that the transfer's inner loop is
/// plain field loads and stores. Dynamic methods skip visibility checks, which is what lets them write
/// private and readonly fields, and static readonly fields after their type was initialized.
/// </summary>
internal static class CopierEmitter
{
    private static readonly MethodInfo TransferObject = typeof(StateTransfer).GetMethod(nameof(StateTransfer.TransferObject), [typeof(object)])!;
    private static readonly MethodInfo ShareArray = typeof(StateTransfer).GetMethod(nameof(StateTransfer.ShareArray))!;

    /// <summary><c>(old, new, transfer)</c>: copies every planned field into a new class instance (the old object a class instance or a boxed struct).</summary>
    public static Action<object, object, StateTransfer> ClassFill(FieldPlan plan)
    {
        Validate(plan, newIsValue: false);
        var method = New($"fill {plan.NewType.Name}", null, [typeof(object), typeof(object), typeof(StateTransfer)]);
        var il = method.GetILGenerator();
        var loadOld = LoadOldArgument(il, plan.OldType);
        var newLocal = il.DeclareLocal(plan.NewType);
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Castclass, plan.NewType);
        il.Emit(OpCodes.Stloc, newLocal);
        foreach (var copy in plan.Copies)
        {
            EmitCopy(il, copy, loadOld, g => g.Emit(OpCodes.Ldloc, newLocal), transferArgument: 2);
        }
        il.Emit(OpCodes.Ret);
        return Compiled(method.CreateDelegate<Action<object, object, StateTransfer>>());
    }

    /// <summary><c>(old, transfer) → boxed new</c>: copies into a new struct value (the old object a boxed struct or a class instance).</summary>
    public static Func<object, StateTransfer, object> StructCopy(FieldPlan plan)
    {
        Validate(plan, newIsValue: true);
        var method = New($"copy {plan.NewType.Name}", typeof(object), [typeof(object), typeof(StateTransfer)]);
        var il = method.GetILGenerator();
        var loadOld = LoadOldArgument(il, plan.OldType);
        var newLocal = il.DeclareLocal(plan.NewType);
        il.Emit(OpCodes.Ldloca, newLocal);
        il.Emit(OpCodes.Initobj, plan.NewType);
        foreach (var copy in plan.Copies)
        {
            EmitCopy(il, copy, loadOld, g => g.Emit(OpCodes.Ldloca, newLocal), transferArgument: 1);
        }
        il.Emit(OpCodes.Ldloc, newLocal);
        il.Emit(OpCodes.Box, plan.NewType);
        il.Emit(OpCodes.Ret);
        return Compiled(method.CreateDelegate<Func<object, StateTransfer, object>>());
    }

    /// <summary>Takes the old object from argument 0 into a local; returns how to load it for a field read.</summary>
    private static Action<ILGenerator> LoadOldArgument(ILGenerator il, Type oldType)
    {
        var oldLocal = il.DeclareLocal(oldType);
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(oldType.IsValueType ? OpCodes.Unbox_Any : OpCodes.Castclass, oldType);
        il.Emit(OpCodes.Stloc, oldLocal);
        return oldType.IsValueType ? g => g.Emit(OpCodes.Ldloca, oldLocal) : g => g.Emit(OpCodes.Ldloc, oldLocal);
    }

    /// <summary>
    /// Checks a plan against the types its copier reads and writes before any IL is made: a dynamic method that skips
    /// visibility checks is not verified, and a field written with another type's layout would corrupt memory in silence.
    /// </summary>
    /// <exception cref="InvalidOperationException">The plan does not fit its types (a bug of the planner, stopped here).</exception>
    private static void Validate(FieldPlan plan, bool newIsValue)
    {
        if (plan.NewType.IsValueType != newIsValue || plan.NewType.IsInterface || plan.OldType.IsInterface)
        {
            throw new InvalidOperationException($"cannot copy {TypeFacts.Describe(plan.OldType)} into {TypeFacts.Describe(plan.NewType)} as a {(newIsValue ? "struct" : "class")}");
        }
        foreach (var copy in plan.Copies)
        {
            var where = $"{TypeFacts.Describe(plan.OldType)}.{copy.Old.Name} -> {TypeFacts.Describe(plan.NewType)}.{copy.New.Name}";
            if (copy.Old.IsStatic || copy.New.IsStatic || !copy.Old.DeclaringType!.IsAssignableFrom(plan.OldType) || !copy.New.DeclaringType!.IsAssignableFrom(plan.NewType))
            {
                throw new InvalidOperationException($"{where}: a field of another type");
            }
            ValidateConversion(copy, where);
        }
    }

    private static void ValidateConversion(FieldCopy copy, string where)
    {
        var (from, to) = (copy.Old.FieldType, copy.New.FieldType);
        var fits = copy.Kind switch
        {
            Conversion.Direct => from == to || from.IsEnum && to.IsEnum && FieldPlan.EnumsMatch(from, to),
            Conversion.Widen => Widening.CanWiden(from, to),
            Conversion.WrapNullable => Nullable.GetUnderlyingType(to) is not null,
            _ => true, // Through the transfer: the value is boxed, and the store is a checked cast or unbox.
        };
        if (!fits)
        {
            throw new InvalidOperationException($"{where}: a {copy.Kind} copy from {TypeFacts.Describe(from)} to {TypeFacts.Describe(to)}");
        }
    }

    /// <summary><c>(transfer)</c>: copies every planned static field of a type into the new version's type.</summary>
    public static Action<StateTransfer> StaticsCopy(FieldPlan plan)
    {
        var method = New($"statics {plan.NewType.Name}", null, [typeof(StateTransfer)]);
        var il = method.GetILGenerator();
        foreach (var copy in plan.Copies)
        {
            if (!copy.Old.IsStatic || !copy.New.IsStatic)
            {
                throw new InvalidOperationException($"{copy.Old.Name} -> {copy.New.Name}: not a static field");
            }
            ValidateConversion(copy, $"static {TypeFacts.Describe(plan.NewType)}.{copy.New.Name}");
            EmitCopy(il, copy, loadOld: null, loadNew: null, transferArgument: 0);
        }
        il.Emit(OpCodes.Ret);
        return Compiled(method.CreateDelegate<Action<StateTransfer>>());
    }

    /// <summary>
    /// <c>(values, transfer)</c>: <see cref="StaticsCopy"/> with the old statics' values given, in the copies' order, rather than
    /// read from the old fields: for a transfer from a state stream, whose old version's statics are never written.
    /// </summary>
    public static Action<object?[], StateTransfer> StaticsCopyFromValues(string typeName, IReadOnlyList<FieldCopy> copies)
    {
        var method = New($"statics from values {typeName}", null, [typeof(object?[]), typeof(StateTransfer)]);
        var il = method.GetILGenerator();
        for (var i = 0; i < copies.Count; i++)
        {
            var copy = copies[i];
            var index = i;
            ValidateConversion(copy, $"static {typeName}.{copy.New.Name}");
            EmitCopy(il, copy, loadOld: null, loadNew: null, transferArgument: 1, loadStatic: g =>
            {
                g.Emit(OpCodes.Ldarg_0);
                g.Emit(OpCodes.Ldc_I4, index);
                g.Emit(OpCodes.Ldelem_Ref);
                g.Emit(copy.Old.FieldType.IsValueType ? OpCodes.Unbox_Any : OpCodes.Castclass, copy.Old.FieldType);
            });
        }
        il.Emit(OpCodes.Ret);
        return Compiled(method.CreateDelegate<Action<object?[], StateTransfer>>());
    }

    /// <summary>
    /// <c>() → new object</c> through a constructor, with default values for its parameters: for the framework's collections,
    /// which must be built empty to be refilled. A program type's constructor never runs in a transfer (see FieldInitializers).
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
        return Compiled(method.CreateDelegate<Func<object>>());
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
        return Compiled(method.CreateDelegate<Func<OldObject, object>>());
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
        return Compiled(method.CreateDelegate<Action<OldObject, object>>());
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
        return Compiled(method.CreateDelegate<Action<OldObject, object>>());
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
            if (type.IsValueType)
            {
                EmitUnboxOrDefault(il, type);
            }
            else
            {
                il.Emit(OpCodes.Castclass, type);
            }
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
        return Compiled(dynamic.CreateDelegate<Func<object, object?, object?, object?>>());
    }

    private static void EmitCopy(ILGenerator il, FieldCopy copy, Action<ILGenerator>? loadOld, Action<ILGenerator>? loadNew, int transferArgument,
        Action<ILGenerator>? loadStatic = null)
    {
        loadNew?.Invoke(il);
        switch (copy.Kind)
        {
            case Conversion.Direct:
                if (copy.Old.FieldType.IsArray)
                {
                    // An array of plain values passes as it is: shared from now on, and recorded so that a rollback can put it back.
                    il.Emit(OpCodes.Ldarg, transferArgument);
                    LoadOldValue();
                    il.Emit(OpCodes.Callvirt, ShareArray);
                }
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
                    EmitUnboxOrDefault(il, copy.New.FieldType);
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
            if (copy.Old.IsStatic && loadStatic is not null)
            {
                loadStatic(il);
            }
            else if (copy.Old.IsStatic)
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

    /// <summary>
    /// Unboxes the value on the stack as <paramref name="type"/>, a null as its default: a class that became a struct has
    /// nothing else to give for a null reference.
    /// </summary>
    internal static void EmitUnboxOrDefault(ILGenerator il, Type type)
    {
        var notNull = il.DefineLabel();
        var done = il.DefineLabel();
        var empty = il.DeclareLocal(type);
        il.Emit(OpCodes.Dup);
        il.Emit(OpCodes.Brtrue, notNull);
        il.Emit(OpCodes.Pop);
        il.Emit(OpCodes.Ldloca, empty);
        il.Emit(OpCodes.Initobj, type);
        il.Emit(OpCodes.Ldloc, empty);
        il.Emit(OpCodes.Br, done);
        il.MarkLabel(notNull);
        il.Emit(OpCodes.Unbox_Any, type);
        il.MarkLabel(done);
    }

    private static DynamicMethod New(string name, Type? returnType, Type[] parameters) =>
        new($"molt {name}", returnType, parameters, typeof(CopierEmitter).Module, skipVisibility: true);

    /// <summary>
    /// A compiled copy, JIT-compiled now: a dynamic method compiles on its first call otherwise, which for the copies planned
    /// before the pause would be in it (about a millisecond for a few statics, measured on kv's code-only update).
    /// </summary>
    internal static T Compiled<T>(T copy) where T : Delegate
    {
        RuntimeHelpers.PrepareDelegate(copy);
        return copy;
    }
}
