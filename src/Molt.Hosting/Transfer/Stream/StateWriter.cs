using System.Buffers.Binary;
using System.Collections;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Unicode;
using Molt.Hosting.Loading;
using static Molt.Hosting.Transfer.Stream.StateStreamFormat;

namespace Molt.Hosting.Transfer.Stream;

/// <summary>
/// Writes the quiesced old state (the statics an update reads, each parked unit's state) as a <see cref="StateStreamFormat"/>
/// stream. Only reads the old objects. What cannot mean the same in another process (a delegate, a task, a thread, a timer,
/// a handle, a pointer) is refused with a <see cref="StateTransferException"/> naming it: the update finds its path.
/// </summary>
/// <remarks>
/// Each type's fields, and a <c>Dictionary</c>'s or <c>HashSet</c>'s entries, are written by code compiled for that type
/// (<see cref="StreamCode"/>): no boxing of primitives, no per-field dispatch. The bytes go into chunks, copied once at the end.
/// Its loops run once per update, too short for tiered compilation to replace their first code: compiled optimized at once.
/// </remarks>
internal sealed class StateWriter
{
    private const int ChunkSize = 1 << 20;
    private readonly List<(byte[] Bytes, int Length)> _chunks = [];
    private byte[] _chunk = new byte[ChunkSize];
    private int _pos;
    private readonly IdentityMap _ids = new();
    private readonly Queue<(object Value, WritePlan Plan)> _bodies = new();
    private readonly Dictionary<Type, WritePlan> _plans = [];
    private int _typeCount;

    /// <summary>How many objects deep the writer is writing inline.</summary>
    private int _depth;
    private readonly List<Socket> _sockets = [];

    /// <summary>Where the writer is (a root, or an object's field): a refused value that the update's path search cannot find (a boxed value) is still placed.</summary>
    private string _at = "";

    /// <summary>The field being written (set by the compiled field writers before a value that could be refused).</summary>
    internal FieldInfo? AtField;

    /// <summary>Where the writer is, in words (built only for an error).</summary>
    private string At => AtField is null ? _at : $"{TypeFacts.Describe(AtField.DeclaringType!)}.{AtField.Name}";

    /// <summary>Writes the statics (by field) and the units' states (by name) of the old version.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static StateStream Write(ProgramVersion old, IReadOnlyList<FieldInfo> statics, IReadOnlyList<(string Name, object State)> units)
    {
        var writer = new StateWriter();
        writer.Header(old);
        writer.PutCount(statics.Count);
        foreach (var field in statics)
        {
            writer.WriteType(writer.PlanOf(field.DeclaringType!));
            writer.PutName(field.Name);
            writer._at = $"static {TypeFacts.Describe(field.DeclaringType!)}.{field.Name}";
            writer.AtField = null;
            writer.WriteValue(field.GetValue(null), IsInline(field.FieldType));
        }
        writer.PutCount(units.Count);
        foreach (var (name, state) in units)
        {
            writer.PutName(name);
            writer._at = $"unit '{name}' state";
            writer.AtField = null;
            writer.WriteValue(state, inline: false);
        }
        while (writer._bodies.TryDequeue(out var next))
        {
            writer.WriteBody(next.Value, next.Plan);
        }
        // The trailer: how many objects have an id, so that the reader sizes its table once.
        writer.PutInt32(writer._ids.Count);
        return new StateStream(writer.ToArray(), writer._sockets);
    }

    private void Header(ProgramVersion old)
    {
        PutUInt32(Magic);
        PutUInt16(StateStreamFormat.Version);
        PutName(old.MainAssembly.GetName().Name ?? "");
        var assemblies = old.ProgramAssemblies();
        PutCount(assemblies.Length);
        foreach (var assembly in assemblies)
        {
            PutName(assembly.GetName().Name ?? "");
            Put(assembly.ManifestModule.ModuleVersionId.ToByteArray());
        }
    }

    private WritePlan PlanOf(Type type)
    {
        if (!_plans.TryGetValue(type, out var plan))
        {
            _plans[type] = plan = new WritePlan(type);
        }
        return plan;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WriteType(WritePlan plan)
    {
        if (plan.Id != 0)
        {
            PutCount(plan.Id);
            return;
        }
        PutCount(0);
        plan.Id = ++_typeCount;
        var type = plan.Type;
        if (type.IsArray)
        {
            if (!type.IsSZArray)
            {
                throw new StateTransferException($"a multi-dimensional array ({TypeFacts.Describe(type)}) cannot be written to the state stream yet", null);
            }
            PutByte(ArrayType);
            WriteType(PlanOf(type.GetElementType()!));
            return;
        }
        if (type.IsPointer || type.IsByRef || type.ContainsGenericParameters)
        {
            throw new StateTransferException($"a {TypeFacts.Describe(type)} cannot mean the same in another process", null);
        }
        PutByte(NamedType);
        PutName(type.Assembly.GetName().Name ?? "");
        var definition = type.IsGenericType ? type.GetGenericTypeDefinition() : type;
        PutName(definition.FullName ?? definition.Name);
        var arguments = type.IsGenericType ? type.GetGenericArguments() : [];
        PutCount(arguments.Length);
        foreach (var argument in arguments)
        {
            WriteType(PlanOf(argument));
        }
        // The layout the reader checks against the type it loads: one build's objects never fill another's fields.
        var fields = plan.Fields;
        PutCount(fields.Count);
        foreach (var field in fields)
        {
            PutName(Describe(field));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void WriteValue(object? value, bool inline)
    {
        if (value is null)
        {
            PutByte(Null);
            return;
        }
        if (value is string text)
        {
            WriteString(text);
            return;
        }
        var plan = PlanOf(value.GetType());
        switch (plan.Kind)
        {
            case WriteKind.Primitive:
                PutByte(StateStreamFormat.Primitive);
                WriteType(plan);
                WriteRaw(value, plan.Code);
                return;
            case WriteKind.NativeInt:
                if (value is not (0 or (nint)0 or (nuint)0))
                {
                    throw new StateTransferException($"a native pointer or handle (an IntPtr, in {At}) cannot mean the same in another process", value);
                }
                PutByte(StateStreamFormat.Primitive);
                WriteType(plan);
                return;
            case WriteKind.Enum:
                PutByte(StateStreamFormat.Enum);
                WriteType(plan);
                WriteRaw(value, plan.Code);
                return;
            case WriteKind.Struct when inline:
                Refuse(plan, value);
                PutByte(Struct);
                WriteType(plan);
                plan.FieldWriter(this, value);
                return;
            case WriteKind.TypeObject:
                PutByte(TypeRef);
                WriteType(PlanOf((Type)value));
                return;
        }
        if (plan.MaybeSingleton && TryWriteSingleton(value, plan))
        {
            return;
        }
        var id = _ids.GetOrAdd(value, out var added);
        if (!added)
        {
            PutByte(Ref);
            PutCount(id);
            return;
        }
        Refuse(plan, value);
        switch (plan.Kind)
        {
            case WriteKind.Socket:
                PutByte(StateStreamFormat.Socket);
                PutCount(_sockets.Count);
                _sockets.Add((Socket)value);
                return;
            case WriteKind.NativeIntArray:
                throw new StateTransferException("an array of native pointers cannot mean the same in another process", value);
            case WriteKind.PrimitiveArray:
            {
                var array = (System.Array)value;
                PutByte(PrimitiveArray);
                WriteType(plan);
                PutCount(array.Length);
                Put(MemoryMarshal.CreateReadOnlySpan(ref MemoryMarshal.GetArrayDataReference(array), Buffer.ByteLength(array)));
                return;
            }
            case WriteKind.Array:
                PutByte(StateStreamFormat.Array);
                WriteType(plan);
                PutCount(((System.Array)value).Length);
                break;
            case WriteKind.Weak:
                PutByte(StateStreamFormat.WeakReference);
                WriteType(plan);
                break;
            case WriteKind.Collection:
                PutByte(HashCollection);
                WriteType(plan);
                WriteValue(plan.ComparerOf(value), inline: false);
                break;
            default:
                if (_depth < InlineDepth)
                {
                    PutByte(InlineObject);
                    WriteType(plan);
                    _depth++;
                    plan.FieldWriter(this, plan.Type == typeof(Lock) ? Unheld(value) : value);
                    _depth--;
                    return;
                }
                PutByte(StateStreamFormat.Object);
                WriteType(plan);
                break;
        }
        _bodies.Enqueue((value, plan));
    }

    /// <summary>A string: its identity first (a string met twice is one object on the other side too), then UTF-8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void WriteString(string? text)
    {
        if (text is null)
        {
            PutByte(Null);
            return;
        }
        var id = _ids.GetOrAdd(text, out var added);
        if (!added)
        {
            PutByte(Ref);
            PutCount(id);
            return;
        }
        PutByte(StateStreamFormat.String);
        PutText(text);
    }

    /// <summary>A field the compiled code cannot load (a pointer): through reflection, which boxes it as a <see cref="Pointer"/> (refused).</summary>
    internal void WriteSlow(FieldInfo field, object target) => WriteValue(field.GetValue(target), IsInline(field.FieldType));

    /// <summary>A value whose declared type both sides know: raw when it is a primitive or an enum, else tagged.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WriteAs(object? value, Type declared, TypeCode code)
    {
        if (code != TypeCode.Empty)
        {
            WriteRaw(value!, code);
            return;
        }
        WriteValue(value, IsInline(declared));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WriteBody(object value, WritePlan plan)
    {
        switch (plan.Kind)
        {
            case WriteKind.Array:
                WriteElements((System.Array)value, plan);
                return;
            case WriteKind.Weak:
                // Its target, held strongly by the stream: the new version's weak reference is to the target's new object (as in process).
                WriteValue(TargetOf(value), inline: false);
                if (value is System.WeakReference plain)
                {
                    PutBool(plain.TrackResurrection);
                }
                return;
            case WriteKind.Collection:
                WriteCollection(value, plan);
                return;
            default:
                plan.FieldWriter(this, plan.Type == typeof(Lock) ? Unheld(value) : value);
                return;
        }
    }

    private static readonly FieldInfo LockOwner = typeof(Lock).GetField("_owningThreadId", BindingFlags.Instance | BindingFlags.NonPublic)!;

    /// <summary>
    /// A Lock crosses as a new one, its identity kept: the wait event it made the first time two threads met on it (a handle
    /// of this process) and its spin statistics mean nothing in another process. The units are parked outside it, so none
    /// holds it; one that a thread of this process still holds is refused.
    /// </summary>
    // Typed object throughout (a Lock converted to object is what the compiler warns of: monitor locking); none is locked here.
    private object Unheld(object gate) => LockOwner.GetValue(gate) is 0u
        ? Activator.CreateInstance(typeof(Lock))!
        : throw new StateTransferException($"a Lock held by a thread of this process (in {At}) cannot cross to another process", gate);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WriteElements(System.Array array, WritePlan plan)
    {
        var element = plan.Type.GetElementType()!;
        ReserveFor(array.Length, [element]);
        if (!element.IsValueType)
        {
            // Any array of references is an object[] (array covariance): indexed, no enumerator, no boxing.
            var items = (object?[])array;
            if (element == typeof(string))
            {
                foreach (var item in items)
                {
                    WriteString((string?)item);
                }
                return;
            }
            foreach (var item in items)
            {
                WriteValue(item, inline: false);
            }
            return;
        }
        var code = RawCode(element);
        foreach (var item in array)
        {
            WriteAs(item, element, code);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WriteCollection(object value, WritePlan plan)
    {
        var collection = plan.Collection!;
        // The program's own fields of a class derived from the collection, then the entries.
        foreach (var field in plan.OwnFields)
        {
            AtField = field;
            WriteAs(field.GetValue(value), field.FieldType, RawCode(field.FieldType));
        }
        ReserveFor(plan.CountOf(value), collection.GetGenericArguments());
        if (plan.EntryWriter is { } compiled)
        {
            compiled(this, value);
            return;
        }
        var arguments = collection.GetGenericArguments();
        var set = IsSet(collection);
        var entries = new List<(object? Key, object? Value)>();
        if (set)
        {
            foreach (var item in (IEnumerable)value)
            {
                entries.Add((item, null));
            }
        }
        else
        {
            foreach (DictionaryEntry entry in (IDictionary)value)
            {
                entries.Add((entry.Key, entry.Value));
            }
        }
        PutCount(entries.Count);
        var keyCode = RawCode(arguments[0]);
        var valueCode = set ? TypeCode.Empty : RawCode(arguments[1]);
        foreach (var (key, item) in entries)
        {
            WriteAs(key, arguments[0], keyCode);
            if (!set)
            {
                WriteAs(item, arguments[1], valueCode);
            }
        }
    }

    /// <summary>
    /// Room in the identity map for what a large collection will bring: each of its references, and about one more object
    /// held by each (a value's string, its array), so that a state of millions grows the map once or twice, not twenty times.
    /// </summary>
    private void ReserveFor(int count, Type[] arguments)
    {
        if (count < 1024)
        {
            return;
        }
        var references = arguments.Count(a => RawCode(a) == TypeCode.Empty);
        _ids.Reserve(2L * count * references);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool TryWriteSingleton(object value, WritePlan plan)
    {
        for (var known = 0; known < WellKnown.Length; known++)
        {
            if (ReferenceEquals(WellKnown[known], value))
            {
                PutByte(Singleton);
                PutByte((byte)(FirstWellKnown + known));
                return true;
            }
        }
        if (plan.Default is { } d && ReferenceEquals(d.Instance, value))
        {
            PutByte(Singleton);
            PutByte(d.Kind);
            WriteType(PlanOf(d.Argument));
            return true;
        }
        return false;
    }

    /// <summary>Refuses what cannot mean the same in another process, in words (the update adds the path).</summary>
    private void Refuse(WritePlan plan, object value)
    {
        if (plan.Refusal is { } reason)
        {
            throw new StateTransferException($"{reason} (in {At}): it cannot cross to another process", value);
        }
    }

    /// <summary>A boxed primitive or enum, raw, as its type code says.</summary>
    private void WriteRaw(object value, TypeCode code)
    {
        switch (code)
        {
            case TypeCode.Boolean: PutBool((bool)value); break;
            case TypeCode.Byte: PutByte((byte)value); break;
            case TypeCode.SByte: PutByte((byte)(sbyte)value); break;
            case TypeCode.Int16: PutUInt16((ushort)(short)value); break;
            case TypeCode.UInt16: PutUInt16((ushort)value); break;
            case TypeCode.Char: PutUInt16((char)value); break;
            case TypeCode.Int32: PutInt32((int)value); break;
            case TypeCode.UInt32: PutInt32((int)(uint)value); break;
            case TypeCode.Int64: PutInt64((long)value); break;
            case TypeCode.UInt64: PutInt64((long)(ulong)value); break;
            case TypeCode.Single: PutSingle((float)value); break;
            case TypeCode.Double: PutDouble((double)value); break;
            default: throw new InvalidOperationException($"not a primitive: {value.GetType()}");
        }
    }

    // The bytes: little-endian, into the current chunk; a chunk that cannot hold a write is closed and a new one begun.

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void NextChunk(int size)
    {
        _chunks.Add((_chunk, _pos));
        _chunk = new byte[Math.Max(ChunkSize, size)];
        _pos = 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Span<byte> Reserve(int size)
    {
        if (_chunk.Length - _pos < size)
        {
            NextChunk(size);
        }
        return _chunk.AsSpan(_pos, size);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void PutByte(byte value)
    {
        if (_pos == _chunk.Length)
        {
            NextChunk(1);
        }
        _chunk[_pos++] = value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void PutBool(bool value) => PutByte(value ? (byte)1 : (byte)0);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void PutUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(Reserve(2), value);
        _pos += 2;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void PutInt32(int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(Reserve(4), value);
        _pos += 4;
    }

    private void PutUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(Reserve(4), value);
        _pos += 4;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void PutInt64(long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(Reserve(8), value);
        _pos += 8;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void PutSingle(float value)
    {
        BinaryPrimitives.WriteSingleLittleEndian(Reserve(4), value);
        _pos += 4;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void PutDouble(double value)
    {
        BinaryPrimitives.WriteDoubleLittleEndian(Reserve(8), value);
        _pos += 8;
    }

    /// <summary>A count or id: 7 bits a byte, low first (as <see cref="BinaryWriter.Write7BitEncodedInt"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void PutCount(int value)
    {
        if (_chunk.Length - _pos < 5)
        {
            NextChunk(5);
        }
        var chunk = _chunk;
        var pos = _pos;
        var rest = (uint)value;
        while (rest >= 0x80)
        {
            chunk[pos++] = (byte)(rest | 0x80);
            rest >>= 7;
        }
        chunk[pos++] = (byte)rest;
        _pos = pos;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int CountSize(uint value) => value < 1u << 7 ? 1 : value < 1u << 14 ? 2 : value < 1u << 21 ? 3 : value < 1u << 28 ? 4 : 5;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Put(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(Reserve(bytes.Length));
        _pos += bytes.Length;
    }

    /// <summary>A name (type, field, assembly): its UTF-8 bytes with their count.</summary>
    private void PutName(string name)
    {
        var bytes = Encoding.UTF8.GetBytes(name);
        PutCount(bytes.Length);
        Put(bytes);
    }

    /// <summary>
    /// A string's text: (byte count &lt;&lt; 1 | 0) and UTF-8 when it is well-formed UTF-16; else (byte count &lt;&lt; 1 | 1) and
    /// its UTF-16 code units (a lone surrogate crosses as it is). Encoded straight into the chunk, the count's size guessed
    /// from the string's length (right for ASCII) and the bytes moved in the rare case it was wrong.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PutText(string text)
    {
        var length = text.Length;
        var utf16 = (long)length * 2;
        var most = Math.Max((long)length * 3, utf16) + 5;
        if (most > int.MaxValue / 2)
        {
            throw new StateTransferException($"a string of {length} characters is too long for the state stream", text);
        }
        var room = Reserve((int)most);
        var guess = CountSize((uint)length << 1);
        if (Utf8.FromUtf16(text, room[guess..], out _, out var written, replaceInvalidSequences: false) == System.Buffers.OperationStatus.Done)
        {
            var prefix = (uint)written << 1;
            var size = CountSize(prefix);
            if (size != guess)
            {
                room.Slice(guess, written).CopyTo(room[size..]);
            }
            _pos += size + written;
            PutCountAt(prefix, size - 1);
            return;
        }
        var raw = MemoryMarshal.AsBytes(text.AsSpan());
        PutCount((raw.Length << 1) | 1);
        Put(raw);
    }

    /// <summary>Writes a count into the <paramref name="last"/>+1 bytes just before the text written last.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PutCountAt(uint value, int last)
    {
        var written = (int)(value >> 1);
        var at = _pos - written - last - 1;
        for (var i = 0; i < last; i++)
        {
            _chunk[at++] = (byte)(value | 0x80);
            value >>= 7;
        }
        _chunk[at] = (byte)value;
    }

    /// <summary>The stream: every chunk, copied once into one array.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private byte[] ToArray()
    {
        _chunks.Add((_chunk, _pos));
        var total = 0L;
        foreach (var (_, length) in _chunks)
        {
            total += length;
        }
        var bytes = GC.AllocateUninitializedArray<byte>(checked((int)total));
        var at = 0;
        foreach (var (chunk, length) in _chunks)
        {
            chunk.AsSpan(0, length).CopyTo(bytes.AsSpan(at));
            at += length;
        }
        return bytes;
    }
}

/// <summary>What a type is written as, worked out once per type (the checks use reflection).</summary>
internal enum WriteKind
{
    Object,
    Primitive,
    NativeInt,
    Enum,
    Struct,
    TypeObject,
    Socket,
    PrimitiveArray,
    NativeIntArray,
    Array,
    Weak,
    Collection,
}

/// <summary>One type's facts for the writer: its kind, its refusal, its id in the stream, and its compiled code.</summary>
internal sealed class WritePlan
{
    public WritePlan(Type type)
    {
        Type = type;
        Collection = CollectionBase(type);
        Code = RawCode(type);
        Kind = type switch
        {
            { IsPrimitive: true } when type == typeof(IntPtr) || type == typeof(UIntPtr) => WriteKind.NativeInt,
            { IsPrimitive: true } => WriteKind.Primitive,
            { IsEnum: true } => WriteKind.Enum,
            { IsValueType: true } => WriteKind.Struct,
            _ when typeof(Type).IsAssignableFrom(type) => WriteKind.TypeObject,
            _ when typeof(Socket).IsAssignableFrom(type) => WriteKind.Socket,
            { IsArray: true } when type.GetElementType() is var e && (e == typeof(IntPtr) || e == typeof(UIntPtr)) => WriteKind.NativeIntArray,
            { IsArray: true } when type.GetElementType()!.IsPrimitive => WriteKind.PrimitiveArray,
            { IsArray: true } => WriteKind.Array,
            _ when IsWeakReference(type) => WriteKind.Weak,
            _ when Collection is not null => WriteKind.Collection,
            _ => WriteKind.Object,
        };
        Refusal = RefusalOf(type);
        // Generic or not: EqualityComparer<string>.Default is a StringEqualityComparer.
        Default = type.Assembly == typeof(object).Assembly && !type.IsArray ? DefaultOf(type) : null;
        MaybeSingleton = Default is not null || WellKnown.Any(w => w.GetType() == type);
    }

    public Type Type { get; }
    public WriteKind Kind { get; }
    public TypeCode Code { get; }
    public Type? Collection { get; }
    public string? Refusal { get; }
    public bool MaybeSingleton { get; }
    public (byte Kind, Type Argument, object Instance)? Default { get; }

    /// <summary>Its id in the stream, 0 until its definition is written.</summary>
    public int Id { get; set; }

    public List<FieldInfo> Fields => _fields ??= Type.IsInterface || Type.IsPrimitive ? [] : StateStreamFormat.Fields(Type);
    private List<FieldInfo>? _fields;

    public Action<StateWriter, object> FieldWriter
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _fieldWriter ??= StreamCode.FieldWriter(Type, Fields);
    }
    private Action<StateWriter, object>? _fieldWriter;

    /// <summary>A collection's entries writer: compiled for a Dictionary or a HashSet, else null (written through the non-generic interfaces).</summary>
    public Action<StateWriter, object>? EntryWriter
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _entryWriterMade ? _entryWriter : MakeEntryWriter();
    }
    private Action<StateWriter, object>? _entryWriter;
    private bool _entryWriterMade;

    private Action<StateWriter, object>? MakeEntryWriter()
    {
        _entryWriterMade = true;
        return _entryWriter = StreamCode.EntryWriter(Collection!);
    }

    /// <summary>The fields of a class derived from a collection that the program declared (not the collection's own).</summary>
    public List<FieldInfo> OwnFields => _ownFields ??= [.. Fields.Where(f => !f.DeclaringType!.IsAssignableFrom(Collection))];
    private List<FieldInfo>? _ownFields;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int CountOf(object collection) => (_count ??= StreamCode.CountGetter(Collection!))(collection);
    private Func<object, int>? _count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public object? ComparerOf(object collection) => (_comparer ??= StreamCode.ComparerGetter(Collection!))(collection);
    private Func<object, object?>? _comparer;

    /// <summary>EqualityComparer&lt;T&gt;.Default or Comparer&lt;T&gt;.Default when a framework type is the class of one: the receiver's own, whatever internal class it is.</summary>
    private static (byte Kind, Type Argument, object Instance)? DefaultOf(Type type)
    {
        foreach (var face in type.GetInterfaces().Where(i => i.IsGenericType))
        {
            var definition = face.GetGenericTypeDefinition();
            var (kind, holder) = definition == typeof(IEqualityComparer<>) ? (DefaultEqualityComparer, typeof(EqualityComparer<>))
                : definition == typeof(IComparer<>) ? (DefaultComparer, typeof(Comparer<>)) : ((byte)0, null);
            if (holder is null)
            {
                continue;
            }
            var argument = face.GetGenericArguments()[0];
            if (holder.MakeGenericType(argument).GetProperty("Default")!.GetValue(null) is { } instance && instance.GetType() == type)
            {
                return (kind, argument, instance);
            }
        }
        return null;
    }

    private static string? RefusalOf(Type type) => ProcessBound.Why(type);
}
