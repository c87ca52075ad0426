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
    private readonly BinaryReader _in;
    private readonly ProgramVersion _version;
    private readonly IReadOnlyList<Socket> _sockets;
    private readonly List<object> _objects = [];
    private readonly Queue<object> _bodies = new();
    private readonly List<Type> _types = [];
    private readonly Dictionary<Type, List<FieldInfo>> _fields = [];
    private readonly List<(object Collection, Type Base, List<(object? Key, object? Value)> Entries)> _inserts = [];
    private readonly Dictionary<string, Assembly> _program;
    private readonly Dictionary<FieldInfo, object?> _statics = [];

    /// <summary>The units' states, by name, in the stream's order.</summary>
    public List<(string Name, object State)> Units { get; } = [];

    /// <summary>The statics' values, by the re-loaded old version's fields.</summary>
    public IReadOnlyDictionary<FieldInfo, object?> Statics => _statics;

    /// <summary>How many objects (with identity) the stream held.</summary>
    public int ObjectCount => _objects.Count;

    private StateReader(byte[] bytes, ProgramVersion version, IReadOnlyList<Socket> sockets)
    {
        _in = new BinaryReader(new MemoryStream(bytes, writable: false), Encoding.UTF8);
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
        return reader;
    }

    public object? Read(FieldInfo oldStatic) =>
        _statics.TryGetValue(oldStatic, out var value) ? value
            : throw new StateStreamException($"the state stream has no value for static {TypeFacts.Describe(oldStatic.DeclaringType!)}.{oldStatic.Name}");

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ReadAll(bool checkBuild)
    {
        if (_in.ReadUInt32() != Magic)
        {
            throw new StateStreamException("this is not a Molt state stream");
        }
        var format = _in.ReadUInt16();
        if (format != StateStreamFormat.Version)
        {
            throw new StateStreamException($"the state stream's format is version {format}; this Molt reads version {StateStreamFormat.Version}");
        }
        var program = _in.ReadString();
        var count = _in.Read7BitEncodedInt();
        for (var i = 0; i < count; i++)
        {
            var name = _in.ReadString();
            var mvid = new Guid(_in.ReadBytes(16));
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
        var statics = _in.Read7BitEncodedInt();
        for (var i = 0; i < statics; i++)
        {
            var type = ReadType();
            var name = _in.ReadString();
            var field = TypeFacts.StaticFields(type).FirstOrDefault(f => f.Name == name)
                ?? throw new StateStreamException($"the loaded {TypeFacts.Describe(type)} has no static field {name}, which the stream holds");
            _statics[field] = ReadValue();
        }
        var units = _in.Read7BitEncodedInt();
        for (var i = 0; i < units; i++)
        {
            var name = _in.ReadString();
            Units.Add((name, ReadValue()!));
        }
        while (_bodies.TryDequeue(out var next))
        {
            ReadBody(next);
        }
        // Every object is filled: the keys hash as they did.
        foreach (var (collection, baseType, entries) in _inserts)
        {
            Insert(collection, baseType, entries);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Type ReadType()
    {
        var id = _in.Read7BitEncodedInt();
        if (id != 0)
        {
            return _types[id - 1];
        }
        var slot = _types.Count;
        _types.Add(null!);
        Type type;
        var kind = _in.ReadByte();
        if (kind == ArrayType)
        {
            type = ReadType().MakeArrayType();
            _types[slot] = type;
            return type;
        }
        var assemblyName = _in.ReadString();
        var fullName = _in.ReadString();
        var argumentCount = _in.Read7BitEncodedInt();
        var arguments = new Type[argumentCount];
        for (var i = 0; i < argumentCount; i++)
        {
            arguments[i] = ReadType();
        }
        var definition = Resolve(assemblyName, fullName);
        type = argumentCount == 0 ? definition : definition.MakeGenericType(arguments);
        _types[slot] = type;
        var layout = new string[_in.Read7BitEncodedInt()];
        for (var i = 0; i < layout.Length; i++)
        {
            layout[i] = _in.ReadString();
        }
        var fields = type.IsInterface || type.IsPrimitive ? [] : Fields(type);
        var loaded = fields.Select(Describe).ToArray();
        if (!layout.SequenceEqual(loaded))
        {
            var first = Enumerable.Range(0, Math.Max(layout.Length, loaded.Length))
                .First(i => i >= layout.Length || i >= loaded.Length || layout[i] != loaded[i]);
            throw new StateStreamException($"the stream's {TypeFacts.Describe(type)} has another field layout than the loaded one: " +
                $"field {first + 1} is '{(first < layout.Length ? layout[first] : "(none)")}' in the stream, '{(first < loaded.Length ? loaded[first] : "(none)")}' loaded " +
                "(the stream was written by another build)");
        }
        _fields[type] = fields;
        return type;
    }

    private Type Resolve(string assemblyName, string fullName)
    {
        var assembly = _program.GetValueOrDefault(assemblyName)
            ?? AppDomain.CurrentDomain.GetAssemblies().FirstOrDefault(a => !a.IsCollectible && a.GetName().Name == assemblyName)
            ?? Assembly.Load(assemblyName);
        return assembly.GetType(fullName) ?? throw new StateStreamException($"the loaded {assemblyName} has no type {fullName}, which the stream holds");
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private object? ReadValue()
    {
        var tag = _in.ReadByte();
        switch (tag)
        {
            case Null:
                return null;
            case Ref:
                return _objects[_in.Read7BitEncodedInt()];
            case StateStreamFormat.Primitive:
            {
                var type = ReadType();
                return type == typeof(IntPtr) ? IntPtr.Zero : type == typeof(UIntPtr) ? UIntPtr.Zero : ReadPrimitive(type);
            }
            case StateStreamFormat.Enum:
            {
                var type = ReadType();
                return System.Enum.ToObject(type, ReadPrimitive(System.Enum.GetUnderlyingType(type)));
            }
            case Struct:
            {
                var type = ReadType();
                var box = RuntimeHelpers.GetUninitializedObject(type);
                ReadFields(box, type);
                return box;
            }
            case TypeRef:
                return ReadType();
            case Singleton:
                return ReadSingleton();
            case StateStreamFormat.String:
            {
                var length = _in.Read7BitEncodedInt();
                var s = length == 0 ? string.Empty : new string(MemoryMarshal.Cast<byte, char>(_in.ReadBytes(length * 2)));
                _objects.Add(s);
                return s;
            }
            case StateStreamFormat.Socket:
            {
                var socket = _sockets[_in.Read7BitEncodedInt()];
                _objects.Add(socket);
                return socket;
            }
            case PrimitiveArray:
            {
                var type = ReadType();
                var array = System.Array.CreateInstance(type.GetElementType()!, _in.Read7BitEncodedInt());
                var bytes = _in.ReadBytes(Buffer.ByteLength(array));
                Buffer.BlockCopy(bytes, 0, array, 0, bytes.Length);
                _objects.Add(array);
                return array;
            }
            case StateStreamFormat.Array:
            {
                var type = ReadType();
                var array = System.Array.CreateInstance(type.GetElementType()!, _in.Read7BitEncodedInt());
                _objects.Add(array);
                _bodies.Enqueue(array);
                return array;
            }
            case HashCollection:
            {
                var type = ReadType();
                var collection = RuntimeHelpers.GetUninitializedObject(type);
                _objects.Add(collection);
                var comparer = ReadValue();
                // The framework's constructor on the uninitialized object (a program class derived from it included): no program code runs.
                ComparerConstructor(CollectionBase(type)!).Invoke(collection, [comparer]);
                _bodies.Enqueue(collection);
                return collection;
            }
            case StateStreamFormat.WeakReference:
            {
                var type = ReadType();
                var weak = RuntimeHelpers.GetUninitializedObject(type);
                _objects.Add(weak);
                _bodies.Enqueue(weak);
                return weak;
            }
            case StateStreamFormat.Object:
            {
                var type = ReadType();
                var created = RuntimeHelpers.GetUninitializedObject(type);
                _objects.Add(created);
                _bodies.Enqueue(created);
                return created;
            }
            default:
                throw new StateStreamException($"the state stream is damaged: tag {tag} at byte {_in.BaseStream.Position - 1}");
        }
    }

    private object ReadSingleton()
    {
        var kind = _in.ReadByte();
        if (kind >= FirstWellKnown)
        {
            return WellKnown[kind - FirstWellKnown];
        }
        var argument = ReadType();
        var holder = kind == DefaultEqualityComparer ? typeof(EqualityComparer<>) : typeof(Comparer<>);
        return holder.MakeGenericType(argument).GetProperty("Default")!.GetValue(null)!;
    }

    private readonly Dictionary<Type, (Type? Collection, bool Weak)> _kinds = [];

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ReadBody(object value)
    {
        var type = value.GetType();
        if (!_kinds.TryGetValue(type, out var kind))
        {
            _kinds[type] = kind = (CollectionBase(type), IsWeakReference(type));
        }
        if (value is System.Array array)
        {
            for (var i = 0; i < array.Length; i++)
            {
                array.SetValue(ReadValue(), i);
            }
            return;
        }
        if (kind.Weak)
        {
            var target = ReadValue();
            if (type == typeof(System.WeakReference))
            {
                type.GetConstructor([typeof(object), typeof(bool)])!.Invoke(value, [target, _in.ReadBoolean()]);
            }
            else
            {
                type.GetConstructor([type.GetGenericArguments()[0]])!.Invoke(value, [target]);
            }
            return;
        }
        if (kind.Collection is { } collection)
        {
            foreach (var field in _fields[type].Where(f => !f.DeclaringType!.IsAssignableFrom(collection)))
            {
                field.SetValue(value, ReadValue());
            }
            var set = IsSet(collection);
            var count = _in.Read7BitEncodedInt();
            var entries = new List<(object? Key, object? Value)>(count);
            for (var i = 0; i < count; i++)
            {
                var key = ReadValue();
                entries.Add((key, set ? null : ReadValue()));
            }
            _inserts.Add((value, collection, entries));
            return;
        }
        ReadFields(value, type);
    }

    private readonly Dictionary<Type, Action<object, object?>[]> _setters = [];

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ReadFields(object target, Type type)
    {
        if (!_setters.TryGetValue(type, out var setters))
        {
            _setters[type] = setters = [.. _fields[type].Select(FieldAccessors.Setter)];
        }
        foreach (var set in setters)
        {
            set(target, ReadValue());
        }
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private object ReadPrimitive(Type type) => System.Type.GetTypeCode(type) switch
    {
        TypeCode.Boolean => _in.ReadBoolean(),
        TypeCode.Byte => _in.ReadByte(),
        TypeCode.SByte => _in.ReadSByte(),
        TypeCode.Int16 => _in.ReadInt16(),
        TypeCode.UInt16 => _in.ReadUInt16(),
        TypeCode.Char => (char)_in.ReadUInt16(),
        TypeCode.Int32 => _in.ReadInt32(),
        TypeCode.UInt32 => _in.ReadUInt32(),
        TypeCode.Int64 => _in.ReadInt64(),
        TypeCode.UInt64 => _in.ReadUInt64(),
        TypeCode.Single => _in.ReadSingle(),
        TypeCode.Double => _in.ReadDouble(),
        _ => throw new StateStreamException($"the state stream is damaged: {type} is not a primitive"),
    };
}

/// <summary>
/// Where the old version's statics' values come from for a transfer: the live old version (its fields, the default), or a
/// state stream read into the old version loaded anew (whose own statics are never written, nor its static constructors run).
/// </summary>
internal interface IOldStatics
{
    object? Read(FieldInfo oldStatic);
}
