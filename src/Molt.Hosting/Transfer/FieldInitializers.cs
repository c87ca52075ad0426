using System.Globalization;
using System.Reflection;
using System.Reflection.Emit;
using Molt.Hosting.Loading;

namespace Molt.Hosting.Transfer;

/// <summary>What a field that the new version added gets in a rebuilt object.</summary>
internal enum AddedFieldSource
{
    /// <summary>The field has no initializer: the default value of its type (0, null, false).</summary>
    Default,
    /// <summary>The field's value comes from a constructor parameter (a positional record's): no constructor runs, so the default.</summary>
    ConstructorParameter,
    /// <summary>The field's declared initializer, evaluated alone for each rebuilt object.</summary>
    Initializer,
    /// <summary>The field has an initializer that cannot be evaluated apart from its constructor: the update is refused.</summary>
    Unevaluable,
}

/// <summary>A field the new version added, and how its value is made.</summary>
/// <param name="Field">The new version's field.</param>
/// <param name="Source">Where its value comes from.</param>
/// <param name="Detail">For <see cref="AddedFieldSource.Initializer"/>, the constant or the calls it makes; for <see cref="AddedFieldSource.Unevaluable"/>, why.</param>
internal sealed record AddedField(FieldInfo Field, AddedFieldSource Source, string Detail)
{
    /// <summary>The initializers of the field's declaring type, which compile its value.</summary>
    internal FieldInitializers.TypeInitializers? Owner { get; init; }

    /// <summary>Whether the field's initializer calls a method or constructor (which may be the program's code), not only loads constants.</summary>
    public bool CallsCode => Source == AddedFieldSource.Initializer && Detail.StartsWith("calls ", StringComparison.Ordinal);

    /// <summary>The value the field gets, as the check and the docs say it: "its initializer (= 5)", "default (0)".</summary>
    public string Describe()
    {
        var type = Field.FieldType;
        var defaultValue = type == typeof(bool) ? "false"
            : type.IsPrimitive || type.IsEnum ? "0"
            : type.IsValueType ? $"default({TypeFacts.Describe(type)})"
            : "null";
        return Source switch
        {
            AddedFieldSource.Initializer => $"its initializer, evaluated for each object ({Detail})",
            AddedFieldSource.ConstructorParameter => $"default ({defaultValue}): its value comes from a constructor parameter, and no constructor runs",
            AddedFieldSource.Unevaluable => $"nothing: {Detail}",
            _ => $"default ({defaultValue})",
        };
    }
}

/// <summary>
/// The declared initializers of a type's fields (<c>public long Seen = Clock.NowMs;</c>), compiled out of the constructor
/// that C# puts them in, so that a field the new version added gets its initializer's value without running the
/// constructor: a constructor may count instances, register the object, validate arguments or throw, and none of that
/// must happen because an object crossed an update.
/// </summary>
/// <remarks>
/// C# emits a class's field initializers at the start of every constructor that does not chain to <c>this(...)</c>, before
/// the call to the base constructor, as <c>ldarg.0; expression; stfld field</c>; a struct's at the start of its explicit
/// constructors. A primary constructor's parameters are stored the same way, from <c>ldarg.N</c>: those are parameters, not
/// initializers. Each expression's IL is copied into a <see cref="DynamicMethod"/> with its tokens resolved.
/// </remarks>
internal static class FieldInitializers
{
    /// <summary>How each field the new version added gets its value.</summary>
    /// <param name="added">The added fields.</param>
    /// <param name="known">What was read of each declaring type so far (per transfer plan: a static cache would keep every version loaded).</param>
    public static List<AddedField> Describe(IEnumerable<FieldInfo> added, Dictionary<Type, TypeInitializers> known) =>
        [.. added.Select(f =>
        {
            var declaring = f.DeclaringType!;
            if (!known.TryGetValue(declaring, out var initializers))
            {
                initializers = new TypeInitializers(declaring);
                known[declaring] = initializers;
            }
            return initializers.For(f) with { Owner = initializers };
        })];

    /// <summary>
    /// A compiled step that sets every added field that has an initializer, on a new object (a class instance, or a boxed
    /// struct), or null when none has one.
    /// </summary>
    public static Action<object>? Compile(IEnumerable<AddedField> added)
    {
        var steps = added.Where(a => a.Source == AddedFieldSource.Initializer && a.Owner is not null)
            .GroupBy(a => a.Owner!)
            .Select(g => g.Key.Compile([.. g.Select(a => a.Field)]))
            .Where(s => s is not null)
            .ToList();
        return steps.Count switch
        {
            0 => null,
            1 => steps[0],
            _ => target => steps.ForEach(s => s!(target)),
        };
    }

    /// <summary>One instruction of a constructor's IL.</summary>
    private readonly record struct Instruction(int Offset, OpCode Op, int Operand, int Next);

    /// <summary>The initializers of one declaring type, read from its constructor.</summary>
    internal sealed class TypeInitializers
    {
        private readonly Type _type;
        private readonly Dictionary<FieldInfo, (AddedFieldSource Source, string Detail, Instruction[] Expression)> _fields = [];
        private readonly byte[]? _il;
        private readonly MethodBase? _constructor;
        private readonly string? _unreadable;

        public TypeInitializers(Type type)
        {
            _type = type;
            try
            {
                _constructor = InitializingConstructor(type);
                _il = _constructor is null ? null : IlReader.Body(_constructor);
                if (_il is not null)
                {
                    Read(_il);
                }
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException or TypeLoadException or BadImageFormatException or KeyNotFoundException)
            {
                _unreadable = $"its constructor's IL could not be read ({e.Message})";
            }
        }

        public AddedField For(FieldInfo field)
        {
            if (_unreadable is not null)
            {
                return new AddedField(field, AddedFieldSource.Unevaluable, _unreadable);
            }
            return _fields.TryGetValue(Key(field), out var found)
                ? new AddedField(field, found.Source, found.Detail)
                : new AddedField(field, AddedFieldSource.Default, "");
        }

        public Action<object>? Compile(List<FieldInfo> fields)
        {
            var initialized = fields.Where(f => _fields.TryGetValue(Key(f), out var i) && i.Source == AddedFieldSource.Initializer).ToList();
            if (initialized.Count == 0 || _constructor is null || _il is null)
            {
                return null;
            }
            var method = new DynamicMethod($"molt initializers {_type.Name}", null, [typeof(object)], typeof(FieldInitializers).Module, skipVisibility: true);
            var il = method.GetILGenerator();
            foreach (var local in _constructor.GetMethodBody()!.LocalVariables.OrderBy(l => l.LocalIndex))
            {
                il.DeclareLocal(local.LocalType, local.IsPinned);
            }
            foreach (var field in initialized)
            {
                il.Emit(OpCodes.Ldarg_0);
                il.Emit(_type.IsValueType ? OpCodes.Unbox : OpCodes.Castclass, _type);
                EmitExpression(il, _fields[Key(field)].Expression);
                il.Emit(OpCodes.Stfld, field);
            }
            il.Emit(OpCodes.Ret);
            return CopierEmitter.Compiled(method.CreateDelegate<Action<object>>());
        }

        /// <summary>Fields of a generic instantiation are compared through their definition's field.</summary>
        private static FieldInfo Key(FieldInfo field) =>
            field.DeclaringType is { IsGenericType: true, IsGenericTypeDefinition: false } declaring
                ? declaring.GetGenericTypeDefinition().GetField(field.Name, TypeFacts.DeclaredInstance) ?? field
                : field;

        /// <summary>
        /// The constructor whose IL holds the field initializers: one that does not chain to another of the same type and is
        /// not a record's copy constructor (which copies fields instead), the fewest parameters first.
        /// </summary>
        private static ConstructorInfo? InitializingConstructor(Type type) =>
            type.GetConstructors(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
                .Where(c => !(c.GetParameters() is [{ } only] && only.ParameterType == type))
                .Where(c => IlReader.Body(c) is { } body && !ChainsToSameType(c, body))
                .OrderBy(c => c.GetParameters().Length)
                .FirstOrDefault();

        private static bool ChainsToSameType(ConstructorInfo constructor, byte[] body)
        {
            var type = constructor.DeclaringType!;
            foreach (var (op, operand) in IlReader.Instructions(body))
            {
                if (op == OpCodes.Call && IlReader.Resolve(() => constructor.Module.ResolveMethod(IlReader.ReadInt32(body, operand),
                    GenericArguments(type), null)) is ConstructorInfo called && !called.IsStatic)
                {
                    return called.DeclaringType == type;
                }
            }
            return false;
        }

        private static Type[]? GenericArguments(Type type) => type.IsGenericType ? type.GetGenericArguments() : null;

        /// <summary>Reads <c>ldarg.0; expression; stfld field-of-this-type</c> segments from the start, until the base call or other code.</summary>
        private void Read(byte[] il)
        {
            var instructions = new List<Instruction>();
            foreach (var (op, operand) in IlReader.Instructions(il))
            {
                if (instructions.Count > 0)
                {
                    instructions[^1] = instructions[^1] with { Next = operand - op.Size };
                }
                instructions.Add(new Instruction(operand - op.Size, op, operand, il.Length));
            }
            var i = 0;
            // A struct constructor may start by clearing the whole value (this = default).
            if (_type.IsValueType && instructions.Count >= 2 && instructions[0].Op == OpCodes.Ldarg_0 && instructions[1].Op == OpCodes.Initobj)
            {
                i = 2;
            }
            var definition = _type.IsGenericType ? _type.GetGenericTypeDefinition() : _type;
            ReadSegments(instructions, ref i, il, definition);
            // Wherever reading stopped (code before an initializer's ldarg.0, say: C# computes some expressions into locals
            // first), the fields still stored before the base call are not left to look like fields without an initializer.
            MarkUnread(instructions, i, il, definition);
        }

        private void ReadSegments(List<Instruction> instructions, ref int i, byte[] il, Type definition)
        {
            while (i + 1 < instructions.Count && instructions[i].Op == OpCodes.Ldarg_0)
            {
                var end = SegmentEnd(instructions, i, il);
                if (end < 0)
                {
                    return; // Code that this reader does not follow.
                }
                var last = instructions[end];
                if (last.Op == OpCodes.Stfld)
                {
                    if (ResolveField(il, last.Operand) is not { IsStatic: false } field || Key(field).DeclaringType != definition)
                    {
                        return;
                    }
                    _fields.TryAdd(Key(field), Classify([.. instructions.Skip(i + 1).Take(end - i - 1)], il));
                }
                else if (instructions[i + 1].Op == OpCodes.Ldflda && ResolveField(il, instructions[i + 1].Operand) is { IsStatic: false } inPlace
                    && Key(inPlace).DeclaringType == definition)
                {
                    // A struct field built in place: `= default` is its default; a constructor call cannot be evaluated alone.
                    _fields.TryAdd(Key(inPlace), last.Op == OpCodes.Initobj && end == i + 2
                        ? (AddedFieldSource.Default, "", [])
                        : (AddedFieldSource.Unevaluable, "its initializer builds the struct in place, which Molt cannot evaluate apart from the constructor; " +
                            "compute the field with [TransformField]", []));
                }
                else
                {
                    return; // The call to the base constructor: the initializers are over.
                }
                i = end + 1;
            }
        }

        /// <summary>
        /// Wherever reading stopped, the fields still stored before a class's base constructor call (in a struct, anywhere in
        /// its constructor, which has no base call to mark where initializers end) have initializers this reader could not
        /// follow: they are unevaluable (the update is refused), never left to look like fields without an initializer.
        /// </summary>
        private void MarkUnread(List<Instruction> instructions, int from, byte[] il, Type definition)
        {
            var unread = new List<FieldInfo>();
            for (var i = from; i < instructions.Count; i++)
            {
                var instruction = instructions[i];
                if (!_type.IsValueType && instruction.Op == OpCodes.Call
                    && ResolveMethod(il, instruction.Operand) is ConstructorInfo { IsStatic: false, DeclaringType: { } baseType } && _type.IsSubclassOf(baseType))
                {
                    break;
                }
                if (instruction.Op == OpCodes.Stfld && ResolveField(il, instruction.Operand) is { IsStatic: false } stored && Key(stored).DeclaringType == definition)
                {
                    unread.Add(stored);
                }
            }
            foreach (var field in unread)
            {
                _fields.TryAdd(Key(field), (AddedFieldSource.Unevaluable,
                    "its initializer could not be read apart from its constructor; compute the field with [TransformField]", []));
            }
        }

        /// <summary>Where a branch or a switch may go.</summary>
        private static IEnumerable<int> Targets(Instruction instruction, byte[] il)
        {
            if (instruction.Op.OperandType is OperandType.InlineBrTarget or OperandType.ShortInlineBrTarget)
            {
                yield return BranchTarget(instruction, il);
            }
            else if (instruction.Op.OperandType == OperandType.InlineSwitch)
            {
                var count = IlReader.ReadInt32(il, instruction.Operand);
                for (var k = 0; k < count; k++)
                {
                    yield return instruction.Next + IlReader.ReadInt32(il, instruction.Operand + 4 + (4 * k));
                }
            }
        }

        /// <summary>The index of the instruction that takes the <c>ldarg.0</c> at <paramref name="start"/> off the stack again, or -1.</summary>
        private int SegmentEnd(List<Instruction> instructions, int start, byte[] il)
        {
            var depth = 0;
            var depthAt = new Dictionary<int, int>();
            for (var i = start; i < instructions.Count; i++)
            {
                var instruction = instructions[i];
                if (depthAt.TryGetValue(instruction.Offset, out var joined))
                {
                    depth = joined;
                }
                var op = instruction.Op;
                if (op == OpCodes.Ret || op == OpCodes.Leave || op == OpCodes.Leave_S || op == OpCodes.Endfinally || op == OpCodes.Jmp)
                {
                    return -1;
                }
                var (pops, pushes) = StackEffect(instruction, il);
                if (pops < 0)
                {
                    return -1;
                }
                depth += pushes - pops;
                if (depth <= 0)
                {
                    return depth == 0 ? i : -1;
                }
                foreach (var target in Targets(instruction, il))
                {
                    depthAt[target] = depth;
                }
                if (op.FlowControl is FlowControl.Branch or FlowControl.Throw
                    && (i + 1 >= instructions.Count || !depthAt.ContainsKey(instructions[i + 1].Offset)))
                {
                    // Nothing falls through, and no branch seen so far lands on the next instruction.
                    return -1;
                }
            }
            return -1;
        }

        private (AddedFieldSource Source, string Detail, Instruction[] Expression) Classify(Instruction[] expression, byte[] il)
        {
            var calls = new List<string>();
            foreach (var instruction in expression)
            {
                var op = instruction.Op;
                if (op == OpCodes.Ldarg || op == OpCodes.Ldarg_S || op == OpCodes.Ldarg_1 || op == OpCodes.Ldarg_2 || op == OpCodes.Ldarg_3
                    || op == OpCodes.Ldarga || op == OpCodes.Ldarga_S)
                {
                    return (AddedFieldSource.ConstructorParameter, "", []);
                }
                if (op == OpCodes.Ldarg_0 || op == OpCodes.Starg || op == OpCodes.Starg_S || op == OpCodes.Calli || op == OpCodes.Localloc
                    || op == OpCodes.Arglist)
                {
                    return (AddedFieldSource.Unevaluable, $"its initializer uses {op.Name}, which Molt cannot evaluate apart from the constructor; " +
                        "compute the field with [TransformField]", []);
                }
                if (Targets(instruction, il).Any(target => !expression.Any(e => e.Offset == target) && target != expression[^1].Next))
                {
                    return (AddedFieldSource.Unevaluable, "its initializer jumps outside itself; compute the field with [TransformField]", []);
                }
                if (op.OperandType == OperandType.InlineMethod && ResolveMethod(il, instruction.Operand) is { } method && !IsCompilerCache(method.DeclaringType))
                {
                    calls.Add(op == OpCodes.Newobj ? $"new {TypeFacts.Describe(method.DeclaringType!)}" : $"{TypeFacts.Describe(method.DeclaringType!)}.{method.Name}");
                }
            }
            var detail = expression switch
            {
                [var only] when only.Op == OpCodes.Ldstr => $"= \"{_constructor!.Module.ResolveString(IlReader.ReadInt32(il, only.Operand))}\"",
                [var only] when Constant(only, il) is { } constant => $"= {constant}",
                _ when calls.Count > 0 => "calls " + string.Join(", ", calls.Distinct()),
                _ => "an expression of constants",
            };
            return (AddedFieldSource.Initializer, detail, expression);
        }

        private static bool IsCompilerCache(Type? type) => type is not null && TypeFacts.IsCompilerGeneratedCode(type);

        private static string? Constant(Instruction instruction, byte[] il)
        {
            var op = instruction.Op;
            if (op == OpCodes.Ldnull)
            {
                return "null";
            }
            if (op == OpCodes.Ldc_I4_M1)
            {
                return "-1";
            }
            if (op.Value >= OpCodes.Ldc_I4_0.Value && op.Value <= OpCodes.Ldc_I4_8.Value)
            {
                return (op.Value - OpCodes.Ldc_I4_0.Value).ToString(CultureInfo.InvariantCulture);
            }
            if (op == OpCodes.Ldc_I4_S)
            {
                return ((sbyte)il[instruction.Operand]).ToString(CultureInfo.InvariantCulture);
            }
            if (op == OpCodes.Ldc_I4)
            {
                return IlReader.ReadInt32(il, instruction.Operand).ToString(CultureInfo.InvariantCulture);
            }
            if (op == OpCodes.Ldc_I8)
            {
                return BitConverter.ToInt64(il, instruction.Operand).ToString(CultureInfo.InvariantCulture);
            }
            if (op == OpCodes.Ldc_R4)
            {
                return BitConverter.ToSingle(il, instruction.Operand).ToString(CultureInfo.InvariantCulture);
            }
            if (op == OpCodes.Ldc_R8)
            {
                return BitConverter.ToDouble(il, instruction.Operand).ToString(CultureInfo.InvariantCulture);
            }
            return null;
        }

        private static int BranchTarget(Instruction instruction, byte[] il) =>
            instruction.Op.OperandType == OperandType.ShortInlineBrTarget
                ? instruction.Next + (sbyte)il[instruction.Operand]
                : instruction.Next + IlReader.ReadInt32(il, instruction.Operand);

        private MethodBase? ResolveMethod(byte[] il, int operand) =>
            IlReader.Resolve(() => _constructor!.Module.ResolveMethod(IlReader.ReadInt32(il, operand), GenericArguments(_type), null));

        private FieldInfo? ResolveField(byte[] il, int operand) =>
            IlReader.Resolve(() => _constructor!.Module.ResolveField(IlReader.ReadInt32(il, operand), GenericArguments(_type), null));

        private static int ParameterCount(MethodBase method) => method.GetParameters().Length;

        /// <summary>How many values an instruction pops and pushes; pops is -1 for what an initializer segment cannot hold.</summary>
        private (int Pops, int Pushes) StackEffect(Instruction instruction, byte[] il)
        {
            var op = instruction.Op;
            if (op.StackBehaviourPop == StackBehaviour.Varpop || op.StackBehaviourPush == StackBehaviour.Varpush)
            {
                if (op.OperandType != OperandType.InlineMethod || ResolveMethod(il, instruction.Operand) is not { } method)
                {
                    return (-1, 0);
                }
                var parameters = ParameterCount(method);
                if (op == OpCodes.Newobj)
                {
                    return (parameters, 1);
                }
                var pops = parameters + (method.IsStatic ? 0 : 1);
                var pushes = method is MethodInfo m && m.ReturnType != typeof(void) ? 1 : 0;
                return (pops, pushes);
            }
            return (Count(op.StackBehaviourPop), Count(op.StackBehaviourPush));
        }

        private static int Count(StackBehaviour behaviour) => behaviour switch
        {
            StackBehaviour.Pop0 or StackBehaviour.Push0 => 0,
            StackBehaviour.Pop1 or StackBehaviour.Popi or StackBehaviour.Popref or StackBehaviour.Push1 or StackBehaviour.Pushi
                or StackBehaviour.Pushi8 or StackBehaviour.Pushr4 or StackBehaviour.Pushr8 or StackBehaviour.Pushref => 1,
            StackBehaviour.Pop1_pop1 or StackBehaviour.Popi_pop1 or StackBehaviour.Popi_popi or StackBehaviour.Popi_popi8
                or StackBehaviour.Popi_popr4 or StackBehaviour.Popi_popr8 or StackBehaviour.Popref_pop1 or StackBehaviour.Popref_popi
                or StackBehaviour.Push1_push1 => 2,
            StackBehaviour.Popi_popi_popi or StackBehaviour.Popref_popi_popi or StackBehaviour.Popref_popi_popi8
                or StackBehaviour.Popref_popi_popr4 or StackBehaviour.Popref_popi_popr8 or StackBehaviour.Popref_popi_popref
                or StackBehaviour.Popref_popi_pop1 => 3,
            _ => 0,
        };

        /// <summary>Copies an expression's IL, its tokens resolved in the constructor's module and its branches relabelled.</summary>
        private void EmitExpression(ILGenerator il, Instruction[] expression)
        {
            var body = _il!;
            var module = _constructor!.Module;
            var typeArguments = GenericArguments(_type);
            var labels = new Dictionary<int, Label>();
            Label LabelAt(int offset) => labels.TryGetValue(offset, out var label) ? label : labels[offset] = il.DefineLabel();
            foreach (var instruction in expression)
            {
                if (labels.TryGetValue(instruction.Offset, out var here))
                {
                    il.MarkLabel(here);
                }
                var op = instruction.Op;
                var at = instruction.Operand;
                switch (op.OperandType)
                {
                    case OperandType.InlineNone:
                        il.Emit(op);
                        break;
                    case OperandType.ShortInlineBrTarget:
                    case OperandType.InlineBrTarget:
                        // Short branches may grow once relabelled: always emit the long form.
                        il.Emit(LongForm(op), LabelAt(BranchTarget(instruction, body)));
                        break;
                    case OperandType.InlineSwitch:
                        il.Emit(op, Targets(instruction, body).Select(LabelAt).ToArray());
                        break;
                    case OperandType.ShortInlineI:
                        if (op == OpCodes.Ldc_I4_S)
                        {
                            il.Emit(op, (sbyte)body[at]);
                        }
                        else
                        {
                            il.Emit(op, body[at]);
                        }
                        break;
                    case OperandType.ShortInlineVar:
                        il.Emit(op, body[at]);
                        break;
                    case OperandType.InlineVar:
                        il.Emit(op, BitConverter.ToInt16(body, at));
                        break;
                    case OperandType.InlineI:
                        il.Emit(op, IlReader.ReadInt32(body, at));
                        break;
                    case OperandType.InlineI8:
                        il.Emit(op, BitConverter.ToInt64(body, at));
                        break;
                    case OperandType.ShortInlineR:
                        il.Emit(op, BitConverter.ToSingle(body, at));
                        break;
                    case OperandType.InlineR:
                        il.Emit(op, BitConverter.ToDouble(body, at));
                        break;
                    case OperandType.InlineString:
                        il.Emit(op, module.ResolveString(IlReader.ReadInt32(body, at)));
                        break;
                    case OperandType.InlineField:
                        il.Emit(op, module.ResolveField(IlReader.ReadInt32(body, at), typeArguments, null)!);
                        break;
                    case OperandType.InlineType:
                        il.Emit(op, module.ResolveType(IlReader.ReadInt32(body, at), typeArguments, null));
                        break;
                    case OperandType.InlineMethod:
                        switch (module.ResolveMethod(IlReader.ReadInt32(body, at), typeArguments, null))
                        {
                            case ConstructorInfo constructor:
                                il.Emit(op, constructor);
                                break;
                            case MethodInfo method:
                                il.Emit(op, method);
                                break;
                        }
                        break;
                    case OperandType.InlineTok:
                        switch (module.ResolveMember(IlReader.ReadInt32(body, at), typeArguments, null))
                        {
                            case Type type:
                                il.Emit(op, type);
                                break;
                            case FieldInfo field:
                                il.Emit(op, field);
                                break;
                            case MethodInfo method:
                                il.Emit(op, method);
                                break;
                            case ConstructorInfo constructor:
                                il.Emit(op, constructor);
                                break;
                        }
                        break;
                    default:
                        throw new InvalidOperationException($"an initializer's instruction {op.Name} cannot be copied");
                }
            }
            // A branch to just past the expression (the end of a ?: or ??) lands here.
            foreach (var (offset, label) in labels)
            {
                if (!expression.Any(e => e.Offset == offset))
                {
                    il.MarkLabel(label);
                }
            }
        }

        private static OpCode LongForm(OpCode op) => op.OperandType != OperandType.ShortInlineBrTarget ? op : ShortToLong[op.Value];

        private static readonly Dictionary<short, OpCode> ShortToLong = new()
        {
            [OpCodes.Br_S.Value] = OpCodes.Br, [OpCodes.Brfalse_S.Value] = OpCodes.Brfalse, [OpCodes.Brtrue_S.Value] = OpCodes.Brtrue,
            [OpCodes.Beq_S.Value] = OpCodes.Beq, [OpCodes.Bge_S.Value] = OpCodes.Bge, [OpCodes.Bgt_S.Value] = OpCodes.Bgt,
            [OpCodes.Ble_S.Value] = OpCodes.Ble, [OpCodes.Blt_S.Value] = OpCodes.Blt, [OpCodes.Bne_Un_S.Value] = OpCodes.Bne_Un,
            [OpCodes.Bge_Un_S.Value] = OpCodes.Bge_Un, [OpCodes.Bgt_Un_S.Value] = OpCodes.Bgt_Un, [OpCodes.Ble_Un_S.Value] = OpCodes.Ble_Un,
            [OpCodes.Blt_Un_S.Value] = OpCodes.Blt_Un, [OpCodes.Leave_S.Value] = OpCodes.Leave,
        };
    }
}
