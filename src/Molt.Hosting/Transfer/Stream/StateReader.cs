using System.Buffers.Binary;
using System.Collections;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Molt.Hosting.Loading;
using static Molt.Hosting.Transfer.Stream.StateStreamFormat;

namespace Molt.Hosting.Transfer.Stream;

/// <summary>
/// Reads a state stream into real objects of a given <see cref="ProgramVersion"/> (the old version, loaded anew for its types:
/// none of its code runs, its statics are never written): checks the header (format, build) and every type's layout, creates
/// objects uninitialized, fills their fields, and rebuilds hash and sorted collections by insertion once their keys are
/// filled. Its roots are what the transfer then reads instead of the live old version (<see cref="IOldStatics"/>).
/// </summary>
/// <remarks>Rebuilding a collection keyed by the program's own types calls their GetHashCode/Equals/CompareTo: the old code that built it.</remarks>
internal sealed class StateReader : IOldStatics
{
    private byte[] _data;
    private int _pos;
    private readonly ProgramVersion _version;
    private readonly IReadOnlyList<Socket> _sockets;
    /// <summary>The objects by id, sized from the stream's trailer (no growing copies of a list of millions).</summary>
    private readonly object[] _objects;
    private int _objectCount;
    private int _depth;
    private readonly Queue<(object Value, ReadPlan Plan, bool InsertNow)> _bodies = new();
    private readonly List<ReadPlan> _types = [];
    private readonly Dictionary<Type, ReadPlan> _plans = [];
    private readonly List<(object Collection, Type Base, List<(object? Key, object? Value)> Entries)> _inserts = [];
    private readonly Dictionary<string, Assembly> _program;
    private readonly Dictionary<FieldInfo, object?> _statics = [];

    /// <summary>Whether the stream holds a type laid out by hash codes, which must be laid out again here (<see cref="RehashTables"/>).</summary>
    private bool _relayout;

    /// <summary>The units' states, by name, in the stream's order.</summary>
    public List<(string Name, object State)> Units { get; } = [];

    /// <summary>The statics' values, by the re-loaded old version's fields.</summary>
    public IReadOnlyDictionary<FieldInfo, object?> Statics => _statics;

    /// <summary>How many objects (with identity) the stream held.</summary>
    public int ObjectCount => _objectCount;

    private StateReader(byte[] bytes, ProgramVersion version, IReadOnlyList<Socket> sockets)
    {
        _data = bytes;
        // The trailer: how many objects the stream holds (each takes a byte at least: a larger count is damage).
        var objects = bytes.Length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(bytes.Length - 4)) : 0;
        _objects = new object[objects >= 0 && objects <= bytes.Length ? objects : 0];
        _version = version;
        _sockets = sockets;
        _program = version.ProgramAssemblies().ToDictionary(a => a.GetName().Name ?? "", a => a);
    }

    /// <summary>Reads a stream against the old version loaded anew; <paramref name="checkBuild"/> off only to test the layout check alone.</summary>
    /// <exception cref="StateStreamException">Another format, another build, or a type whose layout changed.</exception>
    public static StateReader Read(StateStream stream, ProgramVersion version, bool checkBuild = true)
    {
        var reader = new StateReader(stream.Bytes, version, stream.Sockets);
        reader.ReadAll(checkBuild);
        // Read: its bytes are not needed while the transfer rebuilds the objects (49 MB at a million entries).
        reader._data = [];
        return reader;
    }

    public object? Read(FieldInfo oldStatic) =>
        _statics.TryGetValue(oldStatic, out var value) ? value
            : throw new StateStreamException($"the state stream has no value for static {TypeFacts.Describe(oldStatic.DeclaringType!)}.{oldStatic.Name}");

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ReadAll(bool checkBuild)
    {
        if (_data.Length < 6 || GetUInt32() != Magic)
        {
            throw new StateStreamException("this is not a Molt state stream");
        }
        var format = GetUInt16();
        if (format != StateStreamFormat.Version)
        {
            throw new StateStreamException($"the state stream's format is version {format}; this Molt reads version {StateStreamFormat.Version}");
        }
        var program = GetName();
        var count = GetCount();
        for (var i = 0; i < count; i++)
        {
            var name = GetName();
            var mvid = new Guid(Take(16));
            if (!checkBuild)
            {
                continue;
            }
            if (!_program.TryGetValue(name, out var assembly))
            {
                throw new StateStreamException($"the state stream was written by a build of {program} with an assembly {name} that the loaded build does not have");
            }
            if (assembly.ManifestModule.ModuleVersionId != mvid)
            {
                throw new StateStreamException($"the state stream was written by another build of {program}: its {name} is {mvid}, the loaded one is " +
                    $"{assembly.ManifestModule.ModuleVersionId} (the old version must be loaded from the very files that wrote the stream)");
            }
        }
        var statics = GetCount();
        for (var i = 0; i < statics; i++)
        {
            var type = ReadType().Type;
            var name = GetName();
            var field = TypeFacts.StaticFields(type).FirstOrDefault(f => f.Name == name)
                ?? throw new StateStreamException($"the loaded {TypeFacts.Describe(type)} has no static field {name}, which the stream holds");
            _statics[field] = ReadValue();
        }
        var units = GetCount();
        for (var i = 0; i < units; i++)
        {
            var name = GetName();
            Units.Add((name, ReadValue()!));
        }
        while (_bodies.TryDequeue(out var next))
        {
            ReadBody(next.Value, next.Plan, next.InsertNow);
        }
        // Every object is filled: the keys hash as they did.
        foreach (var (collection, baseType, entries) in _inserts)
        {
            Insert(collection, baseType, entries);
        }
        RehashTables();
    }

    /// <summary>
    /// What crosses by its fields but is laid out by its keys' hash codes, which differ in every process (a string's): a
    /// non-generic <see cref="Hashtable"/> is emptied and refilled here, where its keys hash anew; an
    /// <c>ImmutableDictionary</c> or <c>ImmutableHashSet</c> is rebuilt from its entries with its comparers and the rebuilt
    /// one's fields set into the object read, so that every reference to it sees the rebuilt tree. Identity, comparers and
    /// entries are kept.
    /// </summary>
    private void RehashTables()
    {
        if (!_relayout)
        {
            return; // No such type in the stream: no pass over its objects.
        }
        for (var i = 0; i < _objectCount; i++)
        {
            if (_objects[i] is { } value && value.GetType() is { IsGenericType: true } generic && IsLaidOutByHash(generic))
            {
                RebuildImmutable(value, generic, generic.GetGenericTypeDefinition() == typeof(System.Collections.Immutable.ImmutableHashSet<>));
            }
            if (_objects[i] is Hashtable { Count: > 0 } table)
            {
                var entries = new List<DictionaryEntry>(table.Count);
                foreach (DictionaryEntry entry in table)
                {
                    entries.Add(entry);
                }
                table.Clear();
                foreach (var entry in entries)
                {
                    table[entry.Key] = entry.Value;
                }
            }
        }
    }

    /// <summary>Whether objects of <paramref name="type"/> cross by their fields but are laid out by their keys' hash codes (see <see cref="RehashTables"/>).</summary>
    private static bool IsLaidOutByHash(Type type) =>
        typeof(Hashtable).IsAssignableFrom(type)
        || type.IsGenericType && type.GetGenericTypeDefinition() is var definition
            && (definition == typeof(System.Collections.Immutable.ImmutableDictionary<,>) || definition == typeof(System.Collections.Immutable.ImmutableHashSet<>));

    private static void RebuildImmutable(object value, Type type, bool set)
    {
        // Its entries into a list first: adding an immutable collection to an empty one of the same comparers returns it as it is.
        var entries = Activator.CreateInstance(typeof(List<>).MakeGenericType(type.GetInterfaces()
            .First(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>)).GetGenericArguments()[0]), value)!;
        var empty = type.GetMethod("Clear", Type.EmptyTypes)!.Invoke(value, null)!;
        var rebuilt = type.GetMethod(set ? "Union" : "AddRange")!.Invoke(empty, [entries])!;
        foreach (var field in TypeFacts.InstanceFields(type))
        {
            field.SetValue(value, field.GetValue(rebuilt));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private ReadPlan ReadType()
    {
        var id = GetCount();
        return id != 0 ? _types[id - 1] : ReadTypeDefinition();
    }

    /// <summary>
    /// A type met for the first time: its definition, its layout checked. Apart from <see cref="ReadType"/>: the lambda that
    /// finds a layout's first difference makes the compiler allocate its closure on entry, once per type reference else.
    /// </summary>
    private ReadPlan ReadTypeDefinition()
    {
        var slot = _types.Count;
        _types.Add(null!);
        Type type;
        var kind = GetByte();
        if (kind == ArrayType)
        {
            type = ReadType().Type.MakeArrayType();
            return _types[slot] = PlanOf(type);
        }
        var assemblyName = GetName();
        var fullName = GetName();
        var argumentCount = GetCount();
        var arguments = new Type[argumentCount];
        for (var i = 0; i < argumentCount; i++)
        {
            arguments[i] = ReadType().Type;
        }
        var definition = Resolve(assemblyName, fullName);
        type = argumentCount == 0 ? definition : definition.MakeGenericType(arguments);
        var plan = _types[slot] = PlanOf(type);
        var layout = new string[GetCount()];
        for (var i = 0; i < layout.Length; i++)
        {
            layout[i] = GetName();
        }
        var loaded = plan.Fields.Select(Describe).ToArray();
        if (!layout.SequenceEqual(loaded))
        {
            var first = Enumerable.Range(0, Math.Max(layout.Length, loaded.Length))
                .First(i => i >= layout.Length || i >= loaded.Length || layout[i] != loaded[i]);
            throw new StateStreamException($"the stream's {TypeFacts.Describe(type)} has another field layout than the loaded one: " +
                $"field {first + 1} is '{(first < layout.Length ? layout[first] : "(none)")}' in the stream, '{(first < loaded.Length ? loaded[first] : "(none)")}' loaded " +
                "(the stream was written by another build)");
        }
        return plan;
    }

    private ReadPlan PlanOf(Type type)
    {
        if (!_plans.TryGetValue(type, out var plan))
        {
            _plans[type] = plan = new ReadPlan(type);
            _relayout |= IsLaidOutByHash(type);
        }
        return plan;
    }

    private Type Resolve(string assemblyName, string fullName)
    {
        var assembly = _program.GetValueOrDefault(assemblyName)
            ?? AppDomain.CurrentDomain.GetAssemblies().FirstOrDefault(a => !a.IsCollectible && a.GetName().Name == assemblyName)
            ?? Assembly.Load(assemblyName);
        return assembly.GetType(fullName) ?? throw new StateStreamException($"the loaded {assemblyName} has no type {fullName}, which the stream holds");
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal object? ReadValue()
    {
        var tag = GetByte();
        switch (tag)
        {
            case Null:
                return null;
            case Ref:
                return _objects[GetCount()];
            case StateStreamFormat.String:
            {
                var text = GetText();
                Met(text);
                return text;
            }
            case InlineObject:
            {
                var plan = ReadType();
                var created = RuntimeHelpers.GetUninitializedObject(plan.Type);
                Met(created);
                if (++_depth > InlineDepth)
                {
                    throw new StateStreamException($"the state stream is damaged: objects inline deeper than {InlineDepth} at byte {_pos}");
                }
                plan.FieldReader(this, created);
                _depth--;
                return created;
            }
            case StateStreamFormat.Object:
            {
                var plan = ReadType();
                var created = RuntimeHelpers.GetUninitializedObject(plan.Type);
                Met(created);
                _bodies.Enqueue((created, plan, false));
                return created;
            }
            case StateStreamFormat.Primitive:
            {
                var type = ReadType().Type;
                return type == typeof(IntPtr) ? IntPtr.Zero : type == typeof(UIntPtr) ? UIntPtr.Zero : ReadRaw(System.Type.GetTypeCode(type));
            }
            case StateStreamFormat.Enum:
            {
                var type = ReadType().Type;
                return System.Enum.ToObject(type, ReadRaw(System.Type.GetTypeCode(type)));
            }
            case Struct:
            {
                var plan = ReadType();
                var box = RuntimeHelpers.GetUninitializedObject(plan.Type);
                plan.FieldReader(this, box);
                return box;
            }
            case TypeRef:
                return ReadType().Type;
            case Singleton:
                return ReadSingleton();
            case StateStreamFormat.Socket:
            {
                var socket = _sockets[GetCount()];
                Met(socket);
                return socket;
            }
            case PrimitiveArray:
            {
                var plan = ReadType();
                var array = plan.NewArray(GetCount());
                Take(Buffer.ByteLength(array)).CopyTo(MemoryMarshal.CreateSpan(ref MemoryMarshal.GetArrayDataReference(array), Buffer.ByteLength(array)));
                Met(array);
                return array;
            }
            case StateStreamFormat.Array:
            {
                var plan = ReadType();
                var array = plan.NewArray(GetCount());
                Met(array);
                _bodies.Enqueue((array, plan, false));
                return array;
            }
            case HashCollection:
            {
                var plan = ReadType();
                var collection = RuntimeHelpers.GetUninitializedObject(plan.Type);
                Met(collection);
                // Entries can go in as they are read only when nothing their hashing calls is still unfilled: keys that hash
                // alone, and no comparer or the receiver's own (a program's comparer may read fields filled later).
                var tag2 = _data[_pos];
                var insertNow = plan.EntryReader is not null && (tag2 == Null || tag2 == Singleton);
                var comparer = ReadValue();
                plan.Construct(collection, comparer);
                _bodies.Enqueue((collection, plan, insertNow));
                return collection;
            }
            case StateStreamFormat.WeakReference:
            {
                var plan = ReadType();
                var weak = RuntimeHelpers.GetUninitializedObject(plan.Type);
                Met(weak);
                _bodies.Enqueue((weak, plan, false));
                return weak;
            }
            default:
                throw new StateStreamException($"the state stream is damaged: tag {tag} at byte {_pos - 1}");
        }
    }

    /// <summary>An object with identity, given the next id.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Met(object value)
    {
        if (_objectCount == _objects.Length)
        {
            throw new StateStreamException($"the state stream is damaged: more objects than its trailer's {_objects.Length}");
        }
        _objects[_objectCount++] = value;
    }

    /// <summary>A value whose declared type both sides know: raw when it is a primitive or an enum, else tagged.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private object? ReadAs(Type declared, TypeCode code)
    {
        if (code == TypeCode.Empty)
        {
            return ReadValue();
        }
        var raw = ReadRaw(code);
        return declared.IsEnum ? System.Enum.ToObject(declared, raw) : raw;
    }

    /// <summary>A field the compiled code cannot store (a pointer): through reflection.</summary>
    internal void SetSlow(FieldInfo field, object target) => field.SetValue(target, ReadValue());

    private object ReadSingleton()
    {
        var kind = GetByte();
        if (kind >= FirstWellKnown)
        {
            return WellKnown[kind - FirstWellKnown];
        }
        var argument = ReadType().Type;
        var holder = kind == DefaultEqualityComparer ? typeof(EqualityComparer<>) : typeof(Comparer<>);
        return holder.MakeGenericType(argument).GetProperty("Default")!.GetValue(null)!;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ReadBody(object value, ReadPlan plan, bool insertNow)
    {
        var type = plan.Type;
        if (value is System.Array array)
        {
            var element = type.GetElementType()!;
            if (!element.IsValueType)
            {
                var items = (object?[])array;
                for (var i = 0; i < items.Length; i++)
                {
                    items[i] = ReadValue();
                }
                return;
            }
            var code = RawCode(element);
            for (var i = 0; i < array.Length; i++)
            {
                array.SetValue(ReadAs(element, code), i);
            }
            return;
        }
        if (plan.IsWeak)
        {
            var target = ReadValue();
            if (type == typeof(System.WeakReference))
            {
                type.GetConstructor([typeof(object), typeof(bool)])!.Invoke(value, [target, GetBool()]);
            }
            else
            {
                type.GetConstructor([type.GetGenericArguments()[0]])!.Invoke(value, [target]);
            }
            return;
        }
        if (plan.Collection is { } collection)
        {
            foreach (var field in plan.OwnFields)
            {
                field.SetValue(value, ReadAs(field.FieldType, RawCode(field.FieldType)));
            }
            var count = GetCount();
            if (insertNow)
            {
                plan.EntryReader!(this, value, count);
                return;
            }
            var arguments = collection.GetGenericArguments();
            var set = IsSet(collection);
            var keyCode = RawCode(arguments[0]);
            var valueCode = set ? TypeCode.Empty : RawCode(arguments[1]);
            var entries = new List<(object? Key, object? Value)>(count);
            for (var i = 0; i < count; i++)
            {
                var key = ReadAs(arguments[0], keyCode);
                entries.Add((key, set ? null : ReadAs(arguments[1], valueCode)));
            }
            _inserts.Add((value, collection, entries));
            return;
        }
        plan.FieldReader(this, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Insert(object collection, Type baseType, List<(object? Key, object? Value)> entries)
    {
        if (IsSet(baseType))
        {
            var add = baseType.GetMethod("Add", [baseType.GetGenericArguments()[0]])!;
            var argument = new object?[1];
            foreach (var (key, _) in entries)
            {
                argument[0] = key;
                add.Invoke(collection, argument);
            }
            return;
        }
        var dictionary = (IDictionary)collection;
        foreach (var (key, value) in entries)
        {
            dictionary.Add(key!, value);
        }
    }

    /// <summary>A primitive, boxed, as its type code says (an enum's: its underlying type's).</summary>
    private object ReadRaw(TypeCode code) => code switch
    {
        TypeCode.Boolean => GetBool(),
        TypeCode.Byte => GetByte(),
        TypeCode.SByte => GetSByte(),
        TypeCode.Int16 => GetInt16(),
        TypeCode.UInt16 => GetUInt16(),
        TypeCode.Char => GetChar(),
        TypeCode.Int32 => GetInt32(),
        TypeCode.UInt32 => GetUInt32(),
        TypeCode.Int64 => GetInt64(),
        TypeCode.UInt64 => GetUInt64(),
        TypeCode.Single => GetSingle(),
        TypeCode.Double => GetDouble(),
        _ => throw new StateStreamException($"the state stream is damaged: {code} is not a primitive"),
    };

    // The bytes: little-endian, from the one array the writer made.

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<byte> Take(int size)
    {
        var span = _data.AsSpan(_pos, size);
        _pos += size;
        return span;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal byte GetByte() => _data[_pos++];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal sbyte GetSByte() => (sbyte)_data[_pos++];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool GetBool() => _data[_pos++] != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal short GetInt16() => BinaryPrimitives.ReadInt16LittleEndian(Take(2));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ushort GetUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal char GetChar() => (char)BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int GetInt32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal uint GetUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal long GetInt64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong GetUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal float GetSingle() => BinaryPrimitives.ReadSingleLittleEndian(Take(4));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal double GetDouble() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));

    /// <summary>A count or id, 7 bits a byte, low first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int GetCount()
    {
        var data = _data;
        var pos = _pos;
        uint value = data[pos++];
        if (value >= 0x80)
        {
            value &= 0x7F;
            var shift = 7;
            uint next;
            do
            {
                if (shift > 28)
                {
                    throw new StateStreamException($"the state stream is damaged: a count too long at byte {_pos}");
                }
                next = data[pos++];
                value |= (next & 0x7F) << shift;
                shift += 7;
            }
            while (next >= 0x80);
        }
        _pos = pos;
        return (int)value;
    }

    private string GetName() => Encoding.UTF8.GetString(Take(GetCount()));

    /// <summary>A string's text: UTF-8, or UTF-16 code units when the low bit of its count says so.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private string GetText()
    {
        var prefix = (uint)GetCount();
        var bytes = Take((int)(prefix >> 1));
        if (bytes.IsEmpty)
        {
            return string.Empty;
        }
        return (prefix & 1) == 0 ? Encoding.UTF8.GetString(bytes) : new string(MemoryMarshal.Cast<byte, char>(bytes));
    }
}

/// <summary>One type's facts for the reader, found by its id in the stream: its kind and its compiled code.</summary>
internal sealed class ReadPlan(Type type)
{
    public Type Type { get; } = type;

    public List<FieldInfo> Fields { get; } = type.IsInterface || type.IsPrimitive ? [] : StateStreamFormat.Fields(type);

    public Type? Collection { get; } = CollectionBase(type);

    public bool IsWeak { get; } = IsWeakReference(type);

    public Action<StateReader, object> FieldReader
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _fieldReader ??= StreamCode.FieldReader(Type, Fields);
    }
    private Action<StateReader, object>? _fieldReader;

    /// <summary>A Dictionary's or HashSet's entries inserted as read (keys that hash alone), else null: inserted once every object is filled.</summary>
    public Action<StateReader, object, int>? EntryReader
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _entryReaderMade ? _entryReader : MakeEntryReader();
    }
    private Action<StateReader, object, int>? _entryReader;
    private bool _entryReaderMade;

    private Action<StateReader, object, int>? MakeEntryReader()
    {
        _entryReaderMade = true;
        return _entryReader = StreamCode.EntryReader(Collection!);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Construct(object collection, object? comparer) => (_construct ??= StreamCode.ComparerConstructor(Collection!))(collection, comparer);
    private Action<object, object?>? _construct;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public System.Array NewArray(int length) => (_newArray ??= StreamCode.ArrayMaker(Type.GetElementType()!))(length);
    private Func<int, System.Array>? _newArray;

    /// <summary>The fields of a class derived from a collection that the program declared (not the collection's own).</summary>
    public List<FieldInfo> OwnFields => _ownFields ??= [.. Fields.Where(f => !f.DeclaringType!.IsAssignableFrom(Collection))];
    private List<FieldInfo>? _ownFields;
}

/// <summary>
/// Where the old version's statics' values come from for a transfer: the live old version (its fields, the default), or a
/// state stream read into the old version loaded anew (whose own statics are never written, nor its static constructors run).
/// </summary>
internal interface IOldStatics
{
    object? Read(FieldInfo oldStatic);
}
