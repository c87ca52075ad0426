using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;

namespace Molt.Hosting.Transfer.Stream;

/// <summary>
/// The state stream's format (issue 11): what the old process writes and the new one reads. Versioned by
/// <see cref="Version"/>; a reader refuses any other version, any other build of the program (its assemblies' MVIDs) and any
/// type whose field layout differs from the one it loaded, in words.
/// </summary>
/// <remarks>
/// Layout: magic, format version, the program's assembly name, its assemblies (simple name, MVID); the roots (each migrated
/// or dropped static by declaring type and name, then each unit's state by name); then the bodies of the objects the roots
/// reached, in the order they were first met (a FIFO on both sides: deep structures never recurse), except objects written
/// inline, their fields at once, up to <see cref="InlineDepth"/> deep. Types are defined
/// where first used (a type id of 0 is followed by its definition, and the next id names it from then on), so the type table
/// is written in the same single pass; a type's definition carries its field layout. The last four bytes are the trailer:
/// how many objects have an id (the reader sizes its table of objects by it).
/// </remarks>
internal static class StateStreamFormat
{
    public const uint Magic = 0x544C4F4D; // "MOLT"
    /// <summary>2: values whose declared type is a primitive or an enum are raw (no tag), strings are UTF-8 (UTF-16 only when not well-formed).</summary>
    public const ushort Version = 2;

    // Value tags.
    public const byte Null = 0;
    public const byte Ref = 1;          // id of an object already met
    public const byte Object = 2;       // new object (class, or a boxed struct in a reference position) by its fields; body later
    public const byte String = 3;       // new string, inline
    public const byte PrimitiveArray = 4; // new array of primitives, raw bytes inline
    public const byte Array = 5;        // new array of references or structs; elements later
    public const byte HashCollection = 6; // new hash or sorted collection with its comparer; entries later, inserted once filled
    public const byte Singleton = 7;    // a well-known object of the receiver's own
    public const byte TypeRef = 8;      // a System.Type
    public const byte Socket = 9;       // a socket: an index into the side list of descriptors
    public const byte Primitive = 10;   // a primitive value, inline
    public const byte Struct = 11;      // a struct in a value position, its fields inline
    public const byte Enum = 12;        // an enum value, inline
    public const byte WeakReference = 13; // a weak reference (WeakReference, WeakReference<T>); its target later
    public const byte InlineObject = 14;  // new object (class, or a boxed struct) by its fields, which follow at once

    /// <summary>
    /// How deep objects are written inline (their fields right after them, where both sides still have them in cache) before
    /// the writer falls back to the FIFO of bodies: deep structures (a long linked list) never recurse deeper than this.
    /// </summary>
    public const int InlineDepth = 24;

    // Type definition kinds.
    public const byte NamedType = 1;
    public const byte ArrayType = 2;

    // Singletons.
    public const byte DefaultEqualityComparer = 1;
    public const byte DefaultComparer = 2;
    public const byte DBNullValue = 3;

    /// <summary>The well-known objects without a type argument, by their index (shifted past the kinds above).</summary>
    public static readonly object[] WellKnown =
    [
        StringComparer.Ordinal, StringComparer.OrdinalIgnoreCase, StringComparer.InvariantCulture, StringComparer.InvariantCultureIgnoreCase,
        ReferenceEqualityComparer.Instance, DBNull.Value,
    ];

    public const byte FirstWellKnown = 16;

    /// <summary>The framework collections that hash or sort their entries: written as entries and comparer, rebuilt by insertion.</summary>
    private static readonly Type[] Collections =
    [
        typeof(Dictionary<,>), typeof(HashSet<>), typeof(ConcurrentDictionary<,>), typeof(SortedDictionary<,>), typeof(SortedSet<>), typeof(SortedList<,>),
    ];

    /// <summary>The framework hash or sorted collection a type is or derives from, else null.</summary>
    public static Type? CollectionBase(Type type)
    {
        for (var t = type; t is not null; t = t.BaseType)
        {
            if (t.IsGenericType && System.Array.IndexOf(Collections, t.GetGenericTypeDefinition()) >= 0)
            {
                return t;
            }
        }
        return null;
    }

    public static bool IsSet(Type collection) => collection.GetGenericTypeDefinition() is var d && (d == typeof(HashSet<>) || d == typeof(SortedSet<>));

    /// <summary>The comparer argument of the collection's constructor: an equality comparer for hashes, a comparer for sorted ones.</summary>
    public static ConstructorInfo ComparerConstructor(Type collection)
    {
        var key = collection.GetGenericArguments()[0];
        var d = collection.GetGenericTypeDefinition();
        var comparer = d == typeof(SortedDictionary<,>) || d == typeof(SortedSet<>) || d == typeof(SortedList<,>)
            ? typeof(IComparer<>).MakeGenericType(key) : typeof(IEqualityComparer<>).MakeGenericType(key);
        return collection.GetConstructor([comparer]) ?? throw new InvalidOperationException($"{collection} has no constructor taking a {comparer}");
    }

    public static object? ComparerOf(object collection, Type collectionBase) =>
        collectionBase.GetProperty("Comparer")!.GetValue(collection);

    /// <summary>Instance fields of a type, base classes first (the order of the layout).</summary>
    public static List<FieldInfo> Fields(Type type) => TypeFacts.InstanceFields(type);

    /// <summary>How a field's layout entry reads: declaring type, name, field type.</summary>
    public static string Describe(FieldInfo field) => $"{field.DeclaringType} {field.Name}: {field.FieldType}";

    /// <summary>Whether a position holds a value inline (a struct field, a struct array's element) rather than a reference.</summary>
    /// <remarks>
    /// A <c>T?</c> position too: its value is read boxed as a <c>T</c>, and a box stored into it is copied at once, so it must
    /// be filled when stored (a boxed object's fields come later).
    /// </remarks>
    public static bool IsInline(Type declared) => declared.IsValueType;

    /// <summary>
    /// How a value whose declared type (a field's, an element's, a key's) is known on both sides is written: raw, without tag or
    /// type, when that type is a primitive or an enum (its type code; an enum's is its underlying type's); else
    /// <see cref="TypeCode.Empty"/>: a tagged value. Native-sized integers are tagged, so that a non-zero one is refused.
    /// </summary>
    public static TypeCode RawCode(Type declared) =>
        (declared.IsPrimitive || declared.IsEnum) && System.Type.GetTypeCode(declared) is var code && code is >= TypeCode.Boolean and <= TypeCode.Double
            ? code : TypeCode.Empty;

    /// <summary>Whether a collection's keys hash the same whatever the stream's order: strings, primitives and enums (their hash reads no other object).</summary>
    public static bool IsSelfContainedKey(Type key) => key == typeof(string) || RawCode(key) != TypeCode.Empty;

    public static bool IsWeakReference(Type type) =>
        type == typeof(System.WeakReference) || type.IsGenericType && type.GetGenericTypeDefinition() == typeof(WeakReference<>);

    public static object? TargetOf(object weak)
    {
        if (weak is System.WeakReference plain)
        {
            return plain.Target;
        }
        object?[] target = [null];
        return weak.GetType().GetMethod("TryGetTarget")!.Invoke(weak, target) is true ? target[0] : null;
    }

    public static IEnumerable DictionaryEntries(object dictionary) => (IDictionary)dictionary;
}

/// <summary>The stream could not be read: another format, another build of the program, or a type whose layout changed.</summary>
internal sealed class StateStreamException(string message) : Exception(message);

/// <summary>A written state stream: its bytes, and the sockets it refers to by index (passed beside it: SCM_RIGHTS between processes).</summary>
internal sealed record StateStream(byte[] Bytes, IReadOnlyList<System.Net.Sockets.Socket> Sockets);
