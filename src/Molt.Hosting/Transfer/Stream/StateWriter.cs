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
/// Writes the quiesced old state (the statics an update reads, each parked unit's state) as a <see cref="StateStreamFormat"/>
/// stream. Only reads the old objects. What cannot mean the same in another process (a delegate, a task, a thread, a timer,
/// a handle, a pointer) is refused with a <see cref="StateTransferException"/> naming it: the update finds its path.
/// </summary>
/// <remarks>Its loops run once per update, too short for tiered compilation to replace their first code: compiled optimized at once, as the copiers are.</remarks>
internal sealed class StateWriter
{
    private readonly MemoryStream _bytes = new();
    private readonly BinaryWriter _out;
    private readonly Dictionary<object, int> _ids = new(ReferenceEqualityComparer.Instance);
    private readonly Queue<object> _bodies = new();
    private readonly Dictionary<Type, int> _types = [];
    private readonly Dictionary<Type, List<FieldInfo>> _fields = [];
    private readonly List<Socket> _sockets = [];

    /// <summary>Where the writer is (a root, or an object's field): a refused value that the update's path search cannot find (a boxed value) is still placed.</summary>
    private string _at = "";
    private FieldInfo? _atField;
    private readonly Dictionary<Type, string?> _refusals = [];
    private readonly Dictionary<Type, (Type? Collection, bool Weak)> _kinds = [];

    /// <summary>What a type is written as, looked up once per type (the checks use reflection).</summary>
    private (Type? Collection, bool Weak) KindOf(Type type)
    {
        if (!_kinds.TryGetValue(type, out var kind))
        {
            _kinds[type] = kind = (CollectionBase(type), IsWeakReference(type));
        }
        return kind;
    }
    private readonly Dictionary<Type, (byte Kind, Type Argument, object Instance)?> _defaultsOf = [];

    /// <summary>Where the writer is, in words (built only for an error).</summary>
    private string At => _atField is null ? _at : $"{TypeFacts.Describe(_atField.DeclaringType!)}.{_atField.Name}";

    private StateWriter() => _out = new BinaryWriter(_bytes, Encoding.UTF8, leaveOpen: true);

    /// <summary>Writes the statics (by field) and the units' states (by name) of the old version.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static StateStream Write(ProgramVersion old, IReadOnlyList<FieldInfo> statics, IReadOnlyList<(string Name, object State)> units)
    {
        var writer = new StateWriter();
        writer.Header(old);
        writer._out.Write7BitEncodedInt(statics.Count);
        foreach (var field in statics)
        {
            writer.WriteType(field.DeclaringType!);
            writer._out.Write(field.Name);
            writer._at = $"static {TypeFacts.Describe(field.DeclaringType!)}.{field.Name}";
            writer._atField = null;
            writer.WriteValue(field.GetValue(null), IsInline(field.FieldType));
        }
        writer._out.Write7BitEncodedInt(units.Count);
        foreach (var (name, state) in units)
        {
            writer._out.Write(name);
            writer._at = $"unit '{name}' state";
            writer._atField = null;
            writer.WriteValue(state, inline: false);
        }
        while (writer._bodies.TryDequeue(out var next))
        {
            writer.WriteBody(next);
        }
        writer._out.Flush();
        return new StateStream(writer._bytes.ToArray(), writer._sockets);
    }

    private void Header(ProgramVersion old)
    {
        _out.Write(Magic);
        _out.Write(StateStreamFormat.Version);
        _out.Write(old.MainAssembly.GetName().Name ?? "");
        var assemblies = old.ProgramAssemblies();
        _out.Write7BitEncodedInt(assemblies.Length);
        foreach (var assembly in assemblies)
        {
            _out.Write(assembly.GetName().Name ?? "");
            _out.Write(assembly.ManifestModule.ModuleVersionId.ToByteArray());
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WriteType(Type type)
    {
        if (_types.TryGetValue(type, out var id))
        {
            _out.Write7BitEncodedInt(id);
            return;
        }
        _out.Write7BitEncodedInt(0);
        _types[type] = _types.Count + 1;
        if (type.IsArray)
        {
            if (!type.IsSZArray)
            {
                throw new StateTransferException($"a multi-dimensional array ({TypeFacts.Describe(type)}) cannot be written to the state stream yet", null);
            }
            _out.Write(ArrayType);
            WriteType(type.GetElementType()!);
            return;
        }
        if (type.IsPointer || type.IsByRef || type.ContainsGenericParameters)
        {
            throw new StateTransferException($"a {TypeFacts.Describe(type)} cannot mean the same in another process", null);
        }
        _out.Write(NamedType);
        _out.Write(type.Assembly.GetName().Name ?? "");
        var definition = type.IsGenericType ? type.GetGenericTypeDefinition() : type;
        _out.Write(definition.FullName ?? definition.Name);
        var arguments = type.IsGenericType ? type.GetGenericArguments() : [];
        _out.Write7BitEncodedInt(arguments.Length);
        foreach (var argument in arguments)
        {
            WriteType(argument);
        }
        // The layout the reader checks against the type it loads: one build's objects never fill another's fields.
        var fields = type.IsInterface || type.IsPrimitive ? [] : FieldsOf(type);
        _out.Write7BitEncodedInt(fields.Count);
        foreach (var field in fields)
        {
            _out.Write(Describe(field));
        }
    }

    private List<FieldInfo> FieldsOf(Type type)
    {
        if (!_fields.TryGetValue(type, out var fields))
        {
            _fields[type] = fields = Fields(type);
        }
        return fields;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WriteValue(object? value, bool inline)
    {
        if (value is null)
        {
            _out.Write(Null);
            return;
        }
        var type = value.GetType();
        if (type.IsPrimitive)
        {
            if (value is IntPtr or UIntPtr)
            {
                if (value is 0 or (nint)0 or (nuint)0)
                {
                    _out.Write(StateStreamFormat.Primitive);
                    WriteType(type);
                    return;
                }
                throw new StateTransferException($"a native pointer or handle (an IntPtr, in {At}) cannot mean the same in another process", value);
            }
            _out.Write(StateStreamFormat.Primitive);
            WriteType(type);
            WritePrimitive(value);
            return;
        }
        if (type.IsEnum)
        {
            _out.Write(StateStreamFormat.Enum);
            WriteType(type);
            WritePrimitive(Convert.ChangeType(value, System.Enum.GetUnderlyingType(type), System.Globalization.CultureInfo.InvariantCulture));
            return;
        }
        if (type.IsValueType && inline)
        {
            Refuse(type, value);
            _out.Write(Struct);
            WriteType(type);
            WriteFields(value, type);
            return;
        }
        if (value is string text)
        {
            // The commonest object: straight to its identity, past the checks no string needs.
            if (_ids.TryGetValue(text, out var seen))
            {
                _out.Write(Ref);
                _out.Write7BitEncodedInt(seen);
                return;
            }
            _ids.Add(text, _ids.Count);
            _out.Write(StateStreamFormat.String);
            _out.Write7BitEncodedInt(text.Length);
            _out.Write(MemoryMarshal.AsBytes(text.AsSpan()));
            return;
        }
        if (value is Type t)
        {
            _out.Write(TypeRef);
            WriteType(t);
            return;
        }
        if (TryWriteSingleton(value, type))
        {
            return;
        }
        if (_ids.TryGetValue(value, out var id))
        {
            _out.Write(Ref);
            _out.Write7BitEncodedInt(id);
            return;
        }
        Refuse(type, value);
        _ids.Add(value, _ids.Count);
        switch (value)
        {
            case Socket socket:
                _out.Write(StateStreamFormat.Socket);
                _out.Write7BitEncodedInt(_sockets.Count);
                _sockets.Add(socket);
                return;
            case System.Array array when type.GetElementType()!.IsPrimitive:
                if (array.GetType().GetElementType() is var e && (e == typeof(IntPtr) || e == typeof(UIntPtr)))
                {
                    throw new StateTransferException("an array of native pointers cannot mean the same in another process", value);
                }
                _out.Write(PrimitiveArray);
                WriteType(type);
                var bytes = new byte[Buffer.ByteLength(array)];
                Buffer.BlockCopy(array, 0, bytes, 0, bytes.Length);
                _out.Write7BitEncodedInt(array.Length);
                _out.Write(bytes);
                return;
            case System.Array array:
                _out.Write(StateStreamFormat.Array);
                WriteType(type);
                _out.Write7BitEncodedInt(array.Length);
                _bodies.Enqueue(value);
                return;
        }
        var (collectionOf, weak) = KindOf(type);
        if (weak)
        {
            _out.Write(StateStreamFormat.WeakReference);
            WriteType(type);
            _bodies.Enqueue(value);
            return;
        }
        if (collectionOf is { } collection)
        {
            _out.Write(HashCollection);
            WriteType(type);
            WriteValue(ComparerOf(value, collection), inline: false);
            _bodies.Enqueue(value);
            return;
        }
        _out.Write(StateStreamFormat.Object);
        WriteType(type);
        _bodies.Enqueue(value);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WriteBody(object value)
    {
        var type = value.GetType();
        if (value is System.Array array)
        {
            var inline = IsInline(type.GetElementType()!);
            foreach (var element in array)
            {
                WriteValue(element, inline);
            }
            return;
        }
        var (collectionOf, weak) = KindOf(type);
        if (weak)
        {
            // Its target, held strongly by the stream: the new version's weak reference is to the target's new object (as in process).
            WriteValue(TargetOf(value), inline: false);
            if (value is System.WeakReference plain)
            {
                _out.Write(plain.TrackResurrection);
            }
            return;
        }
        if (collectionOf is { } collection)
        {
            // The program's own fields of a class derived from the collection, then the entries.
            foreach (var field in FieldsOf(type).Where(f => !f.DeclaringType!.IsAssignableFrom(collection)))
            {
                WriteValue(field.GetValue(value), IsInline(field.FieldType));
            }
            var arguments = collection.GetGenericArguments();
            var entries = new List<(object? Key, object? Value)>();
            if (IsSet(collection))
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
            _out.Write7BitEncodedInt(entries.Count);
            foreach (var (key, item) in entries)
            {
                WriteValue(key, IsInline(arguments[0]));
                if (!IsSet(collection))
                {
                    WriteValue(item, IsInline(arguments[1]));
                }
            }
            return;
        }
        WriteFields(type == typeof(Lock) ? Unheld(value) : value, type);
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

    private readonly Dictionary<Type, (FieldInfo Field, Func<object, object?> Get, bool Inline)[]> _getters = [];

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WriteFields(object value, Type type)
    {
        if (!_getters.TryGetValue(type, out var getters))
        {
            _getters[type] = getters = [.. FieldsOf(type).Select(f => (f, FieldAccessors.Getter(f), IsInline(f.FieldType)))];
        }
        foreach (var (field, get, inline) in getters)
        {
            _atField = field;
            WriteValue(get(value), inline);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool TryWriteSingleton(object value, Type type)
    {
        for (var known = 0; known < WellKnown.Length; known++)
        {
            if (ReferenceEquals(WellKnown[known], value))
            {
                _out.Write(Singleton);
                _out.Write((byte)(FirstWellKnown + known));
                return true;
            }
        }
        if (type.Assembly != typeof(object).Assembly || !type.IsGenericType)
        {
            return false;
        }
        if (!_defaultsOf.TryGetValue(type, out var known2))
        {
            _defaultsOf[type] = known2 = DefaultOf(type);
        }
        if (known2 is { } d && ReferenceEquals(d.Instance, value))
        {
            _out.Write(Singleton);
            _out.Write(d.Kind);
            WriteType(d.Argument);
            return true;
        }
        return false;
    }

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

    /// <summary>Refuses what cannot mean the same in another process, in words (the update adds the path).</summary>
    private void Refuse(Type type, object value)
    {
        if (!_refusals.TryGetValue(type, out var reason))
        {
            _refusals[type] = reason = Refusal(type);
        }
        if (reason is not null)
        {
            throw new StateTransferException($"{reason} (in {At}): it cannot cross to another process", value);
        }
    }

    private static string? Refusal(Type type) => type switch
        {
            _ when typeof(Delegate).IsAssignableFrom(type) => "a delegate (a lambda, a method, an event's handlers) is code of this process",
            _ when typeof(Task).IsAssignableFrom(type) => "a Task is work running in this process",
            _ when type == typeof(Thread) => "a Thread runs in this process only",
            _ when type == typeof(Timer) || type == typeof(System.Timers.Timer) || type == typeof(PeriodicTimer) => "a timer calls back into this process",
            _ when typeof(SafeHandle).IsAssignableFrom(type) => "a handle of this process (a file, a native resource) does not exist in another",
            _ when typeof(WaitHandle).IsAssignableFrom(type) => "a wait handle belongs to this process",
            _ when typeof(MemberInfo).IsAssignableFrom(type) || typeof(Assembly).IsAssignableFrom(type) || typeof(Module).IsAssignableFrom(type)
                => "a reflection object (method, field, assembly) names this process's loaded code",
            _ when type == typeof(Pointer) => "a pointer is an address in this process",
            _ when type.Namespace == "System.Runtime.Loader" => "a load context belongs to this process",
            _ => null,
        };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WritePrimitive(object value)
    {
        switch (value)
        {
            case bool v: _out.Write(v); break;
            case byte v: _out.Write(v); break;
            case sbyte v: _out.Write(v); break;
            case short v: _out.Write(v); break;
            case ushort v: _out.Write(v); break;
            case char v: _out.Write((ushort)v); break;
            case int v: _out.Write(v); break;
            case uint v: _out.Write(v); break;
            case long v: _out.Write(v); break;
            case ulong v: _out.Write(v); break;
            case float v: _out.Write(v); break;
            case double v: _out.Write(v); break;
            default: throw new InvalidOperationException($"not a primitive: {value.GetType()}");
        }
    }
}
