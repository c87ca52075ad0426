using System.Reflection;
using System.Reflection.Emit;
using static Molt.Hosting.Transfer.Stream.StateStreamFormat;

namespace Molt.Hosting.Transfer.Stream;

/// <summary>
/// The stream's inner loops, compiled per type: one method writes (or reads) all of a type's fields, one loop all of a
/// <c>Dictionary</c>'s or <c>HashSet</c>'s entries, primitives and enums raw and unboxed, strings straight to the string
/// writer, other values through the tagged path. Kept by the writer or reader that made them (never in a static cache: they
/// name the types of a version that must unload); <see cref="DynamicMethod"/>s are collected with them.
/// </summary>
internal static class StreamCode
{
    private static readonly Module Owner = typeof(StreamCode).Module;

    // The writer's and reader's entry points the compiled code calls.
    private static readonly FieldInfo AtField = typeof(StateWriter).GetField(nameof(StateWriter.AtField), BindingFlags.Instance | BindingFlags.NonPublic)!;
    private static readonly MethodInfo WriteValue = Method<StateWriter>(nameof(StateWriter.WriteValue));
    private static readonly MethodInfo WriteString = Method<StateWriter>(nameof(StateWriter.WriteString));
    private static readonly MethodInfo PutCount = Method<StateWriter>(nameof(StateWriter.PutCount));
    private static readonly MethodInfo ReadValue = Method<StateReader>(nameof(StateReader.ReadValue));
    private static readonly MethodInfo SetSlow = Method<StateReader>(nameof(StateReader.SetSlow));
    private static readonly MethodInfo WriteSlow = Method<StateWriter>(nameof(StateWriter.WriteSlow));
    private static readonly MethodInfo GetFieldFromArray = typeof(StreamCode).GetMethod(nameof(FieldAt), BindingFlags.Static | BindingFlags.NonPublic)!;

    private static MethodInfo Method<T>(string name) =>
        typeof(T).GetMethod(name, BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public) ?? throw new MissingMethodException(typeof(T).Name, name);

    private static FieldInfo FieldAt(FieldInfo[] fields, int index) => fields[index];

    /// <summary>The writer's raw put for a type code (an enum's is its underlying type's).</summary>
    private static MethodInfo Put(TypeCode code) => Method<StateWriter>(code switch
    {
        TypeCode.Boolean => nameof(StateWriter.PutBool),
        TypeCode.Byte or TypeCode.SByte => nameof(StateWriter.PutByte),
        TypeCode.Int16 or TypeCode.UInt16 or TypeCode.Char => nameof(StateWriter.PutUInt16),
        TypeCode.Int32 or TypeCode.UInt32 => nameof(StateWriter.PutInt32),
        TypeCode.Int64 or TypeCode.UInt64 => nameof(StateWriter.PutInt64),
        TypeCode.Single => nameof(StateWriter.PutSingle),
        TypeCode.Double => nameof(StateWriter.PutDouble),
        _ => throw new InvalidOperationException($"no raw write for {code}"),
    });

    /// <summary>The reader's raw get for a type code, returning that very type.</summary>
    private static MethodInfo Get(TypeCode code) => Method<StateReader>(code switch
    {
        TypeCode.Boolean => nameof(StateReader.GetBool),
        TypeCode.Byte => nameof(StateReader.GetByte),
        TypeCode.SByte => nameof(StateReader.GetSByte),
        TypeCode.Int16 => nameof(StateReader.GetInt16),
        TypeCode.UInt16 => nameof(StateReader.GetUInt16),
        TypeCode.Char => nameof(StateReader.GetChar),
        TypeCode.Int32 => nameof(StateReader.GetInt32),
        TypeCode.UInt32 => nameof(StateReader.GetUInt32),
        TypeCode.Int64 => nameof(StateReader.GetInt64),
        TypeCode.UInt64 => nameof(StateReader.GetUInt64),
        TypeCode.Single => nameof(StateReader.GetSingle),
        TypeCode.Double => nameof(StateReader.GetDouble),
        _ => throw new InvalidOperationException($"no raw read for {code}"),
    });

    private static bool IsOdd(Type type) => type.IsPointer || type.IsByRef || type.IsByRefLike || type.IsFunctionPointer;

    /// <summary>The instance: a class reference, or a pointer into a boxed struct (so a write changes the box itself).</summary>
    private static void LoadTarget(ILGenerator il, OpCode arg, Type declaring)
    {
        il.Emit(arg);
        il.Emit(declaring.IsValueType ? OpCodes.Unbox : OpCodes.Castclass, declaring);
    }

    /// <summary>With the writer and a value of <paramref name="declared"/> on the stack: writes it as the format says for that declared type.</summary>
    private static void EmitWrite(ILGenerator il, Type declared)
    {
        var code = RawCode(declared);
        if (code != TypeCode.Empty)
        {
            il.Emit(OpCodes.Call, Put(code));
        }
        else if (declared == typeof(string))
        {
            il.Emit(OpCodes.Call, WriteString);
        }
        else
        {
            if (declared.IsValueType)
            {
                il.Emit(OpCodes.Box, declared);
            }
            il.Emit(IsInline(declared) ? OpCodes.Ldc_I4_1 : OpCodes.Ldc_I4_0);
            il.Emit(OpCodes.Call, WriteValue);
        }
    }

    /// <summary>With the reader on the stack: reads a value of <paramref name="declared"/>, leaving it typed on the stack.</summary>
    private static void EmitRead(ILGenerator il, Type declared)
    {
        var code = RawCode(declared);
        if (code != TypeCode.Empty)
        {
            il.Emit(OpCodes.Call, Get(code));
            return;
        }
        il.Emit(OpCodes.Call, ReadValue);
        il.Emit(declared.IsValueType ? OpCodes.Unbox_Any : OpCodes.Castclass, declared);
    }

    /// <summary>Writes every field of an instance of <paramref name="type"/> (a class, or a boxed struct), in layout order.</summary>
    public static Action<StateWriter, object> FieldWriter(Type type, List<FieldInfo> fields)
    {
        var array = fields.ToArray();
        var method = new DynamicMethod($"molt stream write {type.Name}", null, [typeof(FieldInfo[]), typeof(StateWriter), typeof(object)], Owner, skipVisibility: true);
        var il = method.GetILGenerator();
        for (var i = 0; i < array.Length; i++)
        {
            var field = array[i];
            var declared = field.FieldType;
            if (RawCode(declared) == TypeCode.Empty && declared != typeof(string))
            {
                // A value that could be refused: the writer says where it was.
                il.Emit(OpCodes.Ldarg_1);
                EmitField(il, i);
                il.Emit(OpCodes.Stfld, AtField);
            }
            if (IsOdd(declared))
            {
                il.Emit(OpCodes.Ldarg_1);
                EmitField(il, i);
                il.Emit(OpCodes.Ldarg_2);
                il.Emit(OpCodes.Call, WriteSlow);
                continue;
            }
            il.Emit(OpCodes.Ldarg_1);
            LoadTarget(il, OpCodes.Ldarg_2, field.DeclaringType!);
            il.Emit(OpCodes.Ldfld, field);
            EmitWrite(il, declared);
        }
        il.Emit(OpCodes.Ret);
        return (Action<StateWriter, object>)method.CreateDelegate(typeof(Action<StateWriter, object>), array);
    }

    /// <summary>Reads every field of an instance of <paramref name="type"/> (a class, or a boxed struct), in layout order.</summary>
    public static Action<StateReader, object> FieldReader(Type type, List<FieldInfo> fields)
    {
        var array = fields.ToArray();
        var method = new DynamicMethod($"molt stream read {type.Name}", null, [typeof(FieldInfo[]), typeof(StateReader), typeof(object)], Owner, skipVisibility: true);
        var il = method.GetILGenerator();
        for (var i = 0; i < array.Length; i++)
        {
            var field = array[i];
            if (IsOdd(field.FieldType))
            {
                il.Emit(OpCodes.Ldarg_1);
                EmitField(il, i);
                il.Emit(OpCodes.Ldarg_2);
                il.Emit(OpCodes.Call, SetSlow);
                continue;
            }
            LoadTarget(il, OpCodes.Ldarg_2, field.DeclaringType!);
            il.Emit(OpCodes.Ldarg_1);
            EmitRead(il, field.FieldType);
            il.Emit(OpCodes.Stfld, field);
        }
        il.Emit(OpCodes.Ret);
        return (Action<StateReader, object>)method.CreateDelegate(typeof(Action<StateReader, object>), array);
    }

    private static void EmitField(ILGenerator il, int index)
    {
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Ldc_I4, index);
        il.Emit(OpCodes.Call, GetFieldFromArray);
    }

    private static bool IsCompiledCollection(Type collection) =>
        collection.GetGenericTypeDefinition() is var d && (d == typeof(Dictionary<,>) || d == typeof(HashSet<>));

    /// <summary>
    /// Writes the count and the entries of a <c>Dictionary&lt;K,V&gt;</c> (key, value) or a <c>HashSet&lt;T&gt;</c> (item) through
    /// its own struct enumerator; null for the other collections.
    /// </summary>
    public static Action<StateWriter, object>? EntryWriter(Type collection)
    {
        if (!IsCompiledCollection(collection))
        {
            return null;
        }
        var set = IsSet(collection);
        var arguments = collection.GetGenericArguments();
        var getEnumerator = collection.GetMethod("GetEnumerator", Type.EmptyTypes)!;
        var enumerator = getEnumerator.ReturnType;
        var current = enumerator.GetProperty("Current")!.GetGetMethod()!;
        var method = new DynamicMethod($"molt stream write entries {collection.Name}", null, [typeof(StateWriter), typeof(object)], Owner, skipVisibility: true);
        var il = method.GetILGenerator();
        var items = il.DeclareLocal(collection);
        var cursor = il.DeclareLocal(enumerator);
        var entry = il.DeclareLocal(current.ReturnType);
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Castclass, collection);
        il.Emit(OpCodes.Stloc, items);
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Ldloc, items);
        il.Emit(OpCodes.Call, collection.GetProperty("Count")!.GetGetMethod()!);
        il.Emit(OpCodes.Call, PutCount);
        il.Emit(OpCodes.Ldloc, items);
        il.Emit(OpCodes.Call, getEnumerator);
        il.Emit(OpCodes.Stloc, cursor);
        var next = il.DefineLabel();
        var done = il.DefineLabel();
        il.MarkLabel(next);
        il.Emit(OpCodes.Ldloca, cursor);
        il.Emit(OpCodes.Call, enumerator.GetMethod("MoveNext")!);
        il.Emit(OpCodes.Brfalse, done);
        il.Emit(OpCodes.Ldloca, cursor);
        il.Emit(OpCodes.Call, current);
        il.Emit(OpCodes.Stloc, entry);
        if (set)
        {
            il.Emit(OpCodes.Ldarg_0);
            il.Emit(OpCodes.Ldloc, entry);
            EmitWrite(il, arguments[0]);
        }
        else
        {
            var pair = current.ReturnType;
            il.Emit(OpCodes.Ldarg_0);
            il.Emit(OpCodes.Ldloca, entry);
            il.Emit(OpCodes.Call, pair.GetProperty("Key")!.GetGetMethod()!);
            EmitWrite(il, arguments[0]);
            il.Emit(OpCodes.Ldarg_0);
            il.Emit(OpCodes.Ldloca, entry);
            il.Emit(OpCodes.Call, pair.GetProperty("Value")!.GetGetMethod()!);
            EmitWrite(il, arguments[1]);
        }
        il.Emit(OpCodes.Br, next);
        il.MarkLabel(done);
        il.Emit(OpCodes.Ret);
        return method.CreateDelegate<Action<StateWriter, object>>();
    }

    /// <summary>
    /// Reads <c>count</c> entries into a <c>Dictionary&lt;K,V&gt;</c> or a <c>HashSet&lt;T&gt;</c> sized for them, inserting each
    /// as it is read (only for keys that hash without other objects: <see cref="IsSelfContainedKey"/>); null for the others.
    /// </summary>
    public static Action<StateReader, object, int>? EntryReader(Type collection)
    {
        if (!IsCompiledCollection(collection) || !IsSelfContainedKey(collection.GetGenericArguments()[0]))
        {
            return null;
        }
        var set = IsSet(collection);
        var arguments = collection.GetGenericArguments();
        var method = new DynamicMethod($"molt stream read entries {collection.Name}", null, [typeof(StateReader), typeof(object), typeof(int)], Owner, skipVisibility: true);
        var il = method.GetILGenerator();
        var items = il.DeclareLocal(collection);
        var left = il.DeclareLocal(typeof(int));
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Castclass, collection);
        il.Emit(OpCodes.Stloc, items);
        il.Emit(OpCodes.Ldloc, items);
        il.Emit(OpCodes.Ldarg_2);
        il.Emit(OpCodes.Call, collection.GetMethod("EnsureCapacity", [typeof(int)])!);
        il.Emit(OpCodes.Pop);
        il.Emit(OpCodes.Ldarg_2);
        il.Emit(OpCodes.Stloc, left);
        var next = il.DefineLabel();
        var done = il.DefineLabel();
        il.MarkLabel(next);
        il.Emit(OpCodes.Ldloc, left);
        il.Emit(OpCodes.Brfalse, done);
        il.Emit(OpCodes.Ldloc, items);
        il.Emit(OpCodes.Ldarg_0);
        EmitRead(il, arguments[0]);
        if (set)
        {
            il.Emit(OpCodes.Call, collection.GetMethod("Add", [arguments[0]])!);
            il.Emit(OpCodes.Pop);
        }
        else
        {
            il.Emit(OpCodes.Ldarg_0);
            EmitRead(il, arguments[1]);
            il.Emit(OpCodes.Call, collection.GetMethod("Add", [arguments[0], arguments[1]])!);
        }
        il.Emit(OpCodes.Ldloc, left);
        il.Emit(OpCodes.Ldc_I4_1);
        il.Emit(OpCodes.Sub);
        il.Emit(OpCodes.Stloc, left);
        il.Emit(OpCodes.Br, next);
        il.MarkLabel(done);
        il.Emit(OpCodes.Ret);
        return method.CreateDelegate<Action<StateReader, object, int>>();
    }

    /// <summary>A collection's <c>Comparer</c> property.</summary>
    public static Func<object, object?> ComparerGetter(Type collection) => Getter<object?>(collection, "Comparer");

    /// <summary>A collection's <c>Count</c> property.</summary>
    public static Func<object, int> CountGetter(Type collection) => Getter<int>(collection, "Count");

    private static Func<object, T> Getter<T>(Type collection, string property)
    {
        var getter = collection.GetProperty(property)!.GetGetMethod()!;
        var method = new DynamicMethod($"molt stream {property} {collection.Name}", typeof(T), [typeof(object)], Owner, skipVisibility: true);
        var il = method.GetILGenerator();
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Castclass, collection);
        il.Emit(OpCodes.Callvirt, getter);
        il.Emit(OpCodes.Ret);
        return method.CreateDelegate<Func<object, T>>();
    }

    /// <summary>Runs the framework collection's constructor taking a comparer on an uninitialized object (a program class derived from it included): no program code runs.</summary>
    public static Action<object, object?> ComparerConstructor(Type collection)
    {
        var constructor = StateStreamFormat.ComparerConstructor(collection);
        var comparer = constructor.GetParameters()[0].ParameterType;
        var method = new DynamicMethod($"molt stream construct {collection.Name}", null, [typeof(object), typeof(object)], Owner, skipVisibility: true);
        var il = method.GetILGenerator();
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Castclass, collection);
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Castclass, comparer);
        il.Emit(OpCodes.Call, constructor);
        il.Emit(OpCodes.Ret);
        return method.CreateDelegate<Action<object, object?>>();
    }

    /// <summary>A new one-dimensional array of <paramref name="element"/> (<c>newarr</c>, without <see cref="Array.CreateInstance(Type, int)"/>'s checks).</summary>
    public static Func<int, Array> ArrayMaker(Type element)
    {
        var method = new DynamicMethod($"molt stream new {element.Name}[]", typeof(Array), [typeof(int)], Owner, skipVisibility: true);
        var il = method.GetILGenerator();
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Newarr, element);
        il.Emit(OpCodes.Ret);
        return method.CreateDelegate<Func<int, Array>>();
    }
}
