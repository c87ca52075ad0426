using System.Collections.Concurrent;
using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.CompilerServices;
using Molt.Hosting.Transfer;

namespace Molt.Hosting.Updating;

/// <summary>
/// The framework collections that one update's transfer passed to the new version by reference: until the commit they
/// are the old version's, and a rollback gives them back as they were. Each is recorded as it is passed:
/// <list type="bullet">
/// <item>An array-backed collection (<c>List</c>, <c>Dictionary</c>, <c>HashSet</c>, <c>Queue</c>, <c>Stack</c>,
/// <c>SortedList</c>, <c>PriorityQueue</c>) is snapshotted — its fields, and a copy of its internal arrays — while the
/// update's snapshots stay within <see cref="SnapshotBudgetBytes"/>; a rollback puts every snapshot back (a few field
/// writes each: the copies become the collection's arrays), whatever the new version did to it.</item>
/// <item>Any other (past the budget, or node-based: <c>LinkedList</c>, <c>SortedSet</c>, <c>SortedDictionary</c>) gets a
/// fingerprint of its counts (its numeric fields: counts, mutation counter, free list; the lengths of its arrays); a
/// rollback that finds one changed cannot undo it, and says so. A fingerprint sees an entry added or removed, a list element set, a collection cleared;
/// it does not see a dictionary's value replaced under an existing key, which moves none of those fields.</item>
/// </list>
/// The transfer passes an object by reference each time it reaches it (it keeps no identity map of those): one reached
/// twice is recorded twice, and a rollback restores its first snapshot.
/// The cost is bounded whatever the size of the state: a snapshot copies at most the budget per update, a fingerprint
/// reads a few fields. Arrays passed by reference (a byte[] value) are copied within the same budget and put back; past it
/// they are not watched. Nested collections (a List inside a shared Dictionary) are not recorded: the transfer never
/// visits them, and watching them would cost a pass over them in the pause (docs/architecture.md, "Why the old state is
/// safe on rollback").
/// </summary>
internal sealed class SharedStateLedger
{
    /// <summary>
    /// How many bytes of internal arrays one update may copy to undo the new version's changes: a copy of that size did not
    /// show in the pause here (2.2-2.8 ms with it, 2.3-5.2 ms without, on a shared 2-core machine), where 4 MiB added about 4 ms.
    /// </summary>
    public const long SnapshotBudgetBytes = 1L << 20;

    /// <summary>Per framework type: how to snapshot, restore and fingerprint it, or null when it is not recorded. Framework types are never unloaded.</summary>
    private static readonly ConcurrentDictionary<Type, Shape?> Shapes = new();

    /// <summary>What a snapshot costs beyond its arrays (the collection's copy, the arrays' headers), charged to the budget so that a million empty collections do not each get one.</summary>
    private const long SnapshotOverheadBytes = 64;

    private readonly List<(object Shared, object Snapshot)> _snapshots = [];
    private readonly List<(Array Shared, Array Snapshot)> _arrays = [];
    private readonly List<(object Shared, long Fingerprint)> _fingerprints = [];
    private readonly List<(Action<object?> Write, object? Value)> _statics = [];
    private long _budgetLeft = SnapshotBudgetBytes;

    // The shapes of the last two types seen: shared collections often alternate between two types (a dictionary and a list in each object).
    private Type? _lastType;
    private Shape? _lastShape;
    private Type? _otherType;
    private Shape? _otherShape;

    /// <summary>
    /// Whether <see cref="Record"/> may keep anything of an object: an array, or an object of a generic class (the collections
    /// it watches). A parallel transfer's workers keep only those, for the root to record in order.
    /// </summary>
    public static bool MayRecord(object shared) => shared is Array || shared.GetType() is { IsGenericType: true, IsValueType: false };

    /// <summary>Records an object passed by reference, when it is a collection the new version could change.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Record(object shared)
    {
        if (shared is Array array)
        {
            RecordArray(array);
            return;
        }
        var type = shared.GetType();
        if (!ReferenceEquals(type, _lastType))
        {
            (_otherType, _otherShape, _lastType, _lastShape) =
                (_lastType, _lastShape, type, ReferenceEquals(type, _otherType) ? _otherShape : ShapeOf(type));
        }
        if (_lastShape is not { } shape)
        {
            return;
        }
        if (shape.Snapshot is not null && _budgetLeft > 0)
        {
            var bytes = shape.ArrayBytes!(shared) + SnapshotOverheadBytes;
            if (bytes <= _budgetLeft)
            {
                _budgetLeft -= bytes;
                _snapshots.Add((shared, shape.Snapshot(shared)));
                return;
            }
        }
        _fingerprints.Add((shared, shape.Fingerprint(shared)));
    }

    /// <summary>
    /// Gives a static field of a shared library (the same field in both versions) a new value, recording the old one for a
    /// rollback. Written by compiled code: a <c>static readonly</c> field is written too, as the statics copy writes them.
    /// </summary>
    public void RewriteStatic(FieldInfo field, object? old, object? value)
    {
        var write = StaticWriter(field);
        _statics.Add((write, old));
        write(value);
    }

    private static Action<object?> StaticWriter(FieldInfo field)
    {
        var method = new System.Reflection.Emit.DynamicMethod($"molt write {field.DeclaringType?.Name}.{field.Name}", null, [typeof(object)],
            typeof(SharedStateLedger).Module, skipVisibility: true);
        var il = method.GetILGenerator();
        il.Emit(System.Reflection.Emit.OpCodes.Ldarg_0);
        il.Emit(field.FieldType.IsValueType ? System.Reflection.Emit.OpCodes.Unbox_Any : System.Reflection.Emit.OpCodes.Castclass, field.FieldType);
        il.Emit(System.Reflection.Emit.OpCodes.Stsfld, field);
        il.Emit(System.Reflection.Emit.OpCodes.Ret);
        return method.CreateDelegate<Action<object?>>();
    }

    /// <summary>
    /// A type's shape: a framework type's from the process-wide cache; a collectible one's (a shared library's type, a collection
    /// of them) from this ledger's own, so that no static cache keeps a library's code loaded once no version uses it.
    /// </summary>
    private Shape? ShapeOf(Type type)
    {
        if (!type.Assembly.IsCollectible && !(type.IsGenericType && type.GetGenericArguments().Any(a => a.Assembly.IsCollectible || a.IsGenericType)))
        {
            return Shapes.GetOrAdd(type, Shape.Of);
        }
        _collectibleShapes ??= [];
        if (!_collectibleShapes.TryGetValue(type, out var shape))
        {
            _collectibleShapes[type] = shape = Shape.Of(type);
        }
        return shape;
    }

    private Dictionary<Type, Shape?>? _collectibleShapes;

    /// <summary>
    /// An array passed by reference (a <c>byte[]</c> value, a buffer) is copied while the budget lasts, and put back on a
    /// rollback; past the budget it is not watched: nothing short of reading every byte would see a change made in place.
    /// </summary>
    private void RecordArray(Array array)
    {
        if (_budgetLeft <= 0 || array.Rank != 1)
        {
            return;
        }
        var element = array.GetType().GetElementType()!;
        var bytes = (element.IsPrimitive ? Buffer.ByteLength(array) : (long)array.Length * IntPtr.Size) + SnapshotOverheadBytes;
        if (bytes > _budgetLeft)
        {
            return; // A smaller one may still fit.
        }
        _budgetLeft -= bytes;
        _arrays.Add((array, (Array)array.Clone()));
    }

    /// <summary>
    /// Gives the old version back what it shared: every snapshotted collection and array as it was when passed. Returns the other
    /// recorded collections that changed since they were passed, which cannot be undone.
    /// </summary>
    public List<object> Restore()
    {
        // A shared library's statics given the new version's objects get the old ones back.
        for (var i = _statics.Count - 1; i >= 0; i--)
        {
            _statics[i].Write(_statics[i].Value);
        }
        _statics.Clear();
        // A collection reached twice was recorded twice, maybe the second time after a transformer changed it: the last
        // snapshot goes back first, so that the first one, taken before any change, is what stays.
        var restored = new HashSet<object>(ReferenceEqualityComparer.Instance);
        for (var i = _snapshots.Count - 1; i >= 0; i--)
        {
            var (shared, snapshot) = _snapshots[i];
            ShapeOf(shared.GetType())!.Restore!(shared, snapshot);
            restored.Add(shared);
        }
        _snapshots.Clear();
        for (var i = _arrays.Count - 1; i >= 0; i--)
        {
            var (shared, snapshot) = _arrays[i];
            Array.Copy(snapshot, shared, snapshot.Length);
        }
        _arrays.Clear();
        var changed = new HashSet<object>(ReferenceEqualityComparer.Instance);
        foreach (var (shared, fingerprint) in _fingerprints)
        {
            // Fingerprinted again once the budget ran out, maybe after a change: restored anyway.
            if (!restored.Contains(shared) && ShapeOf(shared.GetType())!.Fingerprint(shared) != fingerprint)
            {
                changed.Add(shared);
            }
        }
        return [.. changed];
    }

    /// <summary>Compiled accessors of one collection type.</summary>
    private sealed class Shape
    {
        /// <summary>Collections whose whole state is their fields and their internal arrays: a copy of those is a snapshot.</summary>
        private static readonly HashSet<Type> ArrayBacked =
        [
            typeof(List<>), typeof(Dictionary<,>), typeof(HashSet<>), typeof(Queue<>), typeof(Stack<>), typeof(SortedList<,>), typeof(PriorityQueue<,>),
        ];

        /// <summary>Collections made of nodes: a snapshot would copy every node; a fingerprint watches them.</summary>
        private static readonly HashSet<Type> NodeBased = [typeof(LinkedList<>), typeof(SortedSet<>), typeof(SortedDictionary<,>)];

        private Shape(Func<object, long> fingerprint) => Fingerprint = fingerprint;

        public Func<object, long> Fingerprint { get; }

        public Func<object, object>? Snapshot { get; private init; }

        public Action<object, object>? Restore { get; private init; }

        public Func<object, long>? ArrayBytes { get; private init; }

        public static Shape? Of(Type type)
        {
            if (!type.IsGenericType || type.IsValueType)
            {
                return null;
            }
            var definition = type.GetGenericTypeDefinition();
            if (ArrayBacked.Contains(definition))
            {
                var fields = TypeFacts.InstanceFields(type);
                return new Shape(CompileFingerprint(type, fields))
                {
                    Snapshot = CompileSnapshot(type, fields),
                    Restore = CompileRestore(type, fields),
                    ArrayBytes = CompileArrayBytes(type, fields),
                };
            }
            return NodeBased.Contains(definition) ? new Shape(CompileFingerprint(type, TypeFacts.InstanceFields(type))) : null;
        }

        private static DynamicMethod New(string what, Type type, Type returnType, Type[] parameters) =>
            new($"molt {what} of {type.Name}", returnType, parameters, typeof(SharedStateLedger).Module, skipVisibility: true);

        // A shallow copy (object.MemberwiseClone), then each internal array copied: the collection's state as it is now.
        private static Func<object, object> CompileSnapshot(Type type, List<FieldInfo> fields)
        {
            var method = New("snapshot", type, typeof(object), [typeof(object)]);
            var il = method.GetILGenerator();
            var copy = il.DeclareLocal(type);
            il.Emit(OpCodes.Ldarg_0);
            il.Emit(OpCodes.Call, typeof(object).GetMethod("MemberwiseClone", BindingFlags.Instance | BindingFlags.NonPublic)!);
            il.Emit(OpCodes.Castclass, type);
            il.Emit(OpCodes.Stloc, copy);
            foreach (var field in fields.Where(f => f.FieldType.IsArray))
            {
                var isNull = il.DefineLabel();
                var done = il.DefineLabel();
                il.Emit(OpCodes.Ldloc, copy);
                il.Emit(OpCodes.Ldloc, copy);
                il.Emit(OpCodes.Ldfld, field);
                il.Emit(OpCodes.Dup);
                il.Emit(OpCodes.Brfalse, isNull);
                il.Emit(OpCodes.Callvirt, typeof(Array).GetMethod(nameof(Array.Clone))!);
                il.Emit(OpCodes.Castclass, field.FieldType);
                il.Emit(OpCodes.Stfld, field);
                il.Emit(OpCodes.Br, done);
                il.MarkLabel(isNull);
                il.Emit(OpCodes.Pop);
                il.Emit(OpCodes.Pop);
                il.MarkLabel(done);
            }
            il.Emit(OpCodes.Ldloc, copy);
            il.Emit(OpCodes.Ret);
            return method.CreateDelegate<Func<object, object>>();
        }

        // Every field written back from the snapshot: the snapshot's array copies become the collection's arrays.
        private static Action<object, object> CompileRestore(Type type, List<FieldInfo> fields)
        {
            var method = New("restore", type, typeof(void), [typeof(object), typeof(object)]);
            var il = method.GetILGenerator();
            foreach (var field in fields)
            {
                il.Emit(OpCodes.Ldarg_0);
                il.Emit(OpCodes.Castclass, type);
                il.Emit(OpCodes.Ldarg_1);
                il.Emit(OpCodes.Castclass, type);
                il.Emit(OpCodes.Ldfld, field);
                il.Emit(OpCodes.Stfld, field);
            }
            il.Emit(OpCodes.Ret);
            return method.CreateDelegate<Action<object, object>>();
        }

        // The bytes a snapshot copies: each internal array's length times its element's size.
        private static Func<object, long> CompileArrayBytes(Type type, List<FieldInfo> fields)
        {
            var method = New("array bytes", type, typeof(long), [typeof(object)]);
            var il = method.GetILGenerator();
            il.Emit(OpCodes.Ldc_I8, 0L);
            foreach (var field in fields.Where(f => f.FieldType.IsArray))
            {
                var isNull = il.DefineLabel();
                var done = il.DefineLabel();
                il.Emit(OpCodes.Ldarg_0);
                il.Emit(OpCodes.Castclass, type);
                il.Emit(OpCodes.Ldfld, field);
                il.Emit(OpCodes.Dup);
                il.Emit(OpCodes.Brfalse, isNull);
                il.Emit(OpCodes.Ldlen);
                il.Emit(OpCodes.Conv_I8);
                il.Emit(OpCodes.Ldc_I8, (long)ElementSize(field.FieldType.GetElementType()!));
                il.Emit(OpCodes.Mul);
                il.Emit(OpCodes.Add);
                il.Emit(OpCodes.Br, done);
                il.MarkLabel(isNull);
                il.Emit(OpCodes.Pop);
                il.MarkLabel(done);
            }
            il.Emit(OpCodes.Ret);
            return method.CreateDelegate<Func<object, long>>();
        }

        /// <summary>
        /// A number that changes when the collection's counts do: its numeric fields (counts, mutation counter, free list,
        /// head and tail) and the lengths of its arrays (a resize); for a wrapper (SortedDictionary), those of the collection it
        /// wraps. Read, not hashed: no object's header is touched.
        /// </summary>
        private static Func<object, long> CompileFingerprint(Type type, List<FieldInfo> fields)
        {
            var method = New("fingerprint", type, typeof(long), [typeof(object)]);
            var il = method.GetILGenerator();
            var target = il.DeclareLocal(typeof(object));
            il.Emit(OpCodes.Ldc_I8, 17L);
            foreach (var field in fields)
            {
                EmitMix(il, type, field, il => il.Emit(OpCodes.Ldarg_0));
                if (IsNodeBased(field.FieldType))
                {
                    // The set a SortedDictionary wraps: its own fields are where the changes show.
                    var isNull = il.DefineLabel();
                    var done = il.DefineLabel();
                    il.Emit(OpCodes.Ldarg_0);
                    il.Emit(OpCodes.Castclass, type);
                    il.Emit(OpCodes.Ldfld, field);
                    il.Emit(OpCodes.Stloc, target);
                    il.Emit(OpCodes.Ldloc, target);
                    il.Emit(OpCodes.Brfalse, isNull);
                    foreach (var inner in TypeFacts.InstanceFields(field.FieldType))
                    {
                        EmitMix(il, field.FieldType, inner, il => il.Emit(OpCodes.Ldloc, target));
                    }
                    il.Emit(OpCodes.Br, done);
                    il.MarkLabel(isNull);
                    il.MarkLabel(done);
                }
            }
            il.Emit(OpCodes.Ret);
            return method.CreateDelegate<Func<object, long>>();
        }

        // hash = hash * 31 + (the field's value, or the length of the array it holds)
        private static void EmitMix(ILGenerator il, Type owner, FieldInfo field, Action<ILGenerator> loadOwner)
        {
            var kind = field.FieldType;
            if (kind.IsValueType ? !(kind.IsPrimitive || kind.IsEnum) : !kind.IsArray)
            {
                return; // Counts are numbers; a comparer or a cached view is not one.
            }
            il.Emit(OpCodes.Ldc_I8, 31L);
            il.Emit(OpCodes.Mul);
            loadOwner(il);
            il.Emit(OpCodes.Castclass, owner);
            il.Emit(OpCodes.Ldfld, field);
            if (kind.IsValueType)
            {
                var underlying = kind.IsEnum ? Enum.GetUnderlyingType(kind) : kind;
                il.Emit(underlying == typeof(ulong) || underlying == typeof(nuint) || underlying == typeof(uint) || underlying == typeof(ushort)
                    || underlying == typeof(byte) || underlying == typeof(char) || underlying == typeof(bool) ? OpCodes.Conv_U8 : OpCodes.Conv_I8);
            }
            else
            {
                // An array's length, -1 for none.
                var isNull = il.DefineLabel();
                var done = il.DefineLabel();
                il.Emit(OpCodes.Dup);
                il.Emit(OpCodes.Brfalse, isNull);
                il.Emit(OpCodes.Ldlen);
                il.Emit(OpCodes.Conv_I8);
                il.Emit(OpCodes.Br, done);
                il.MarkLabel(isNull);
                il.Emit(OpCodes.Pop);
                il.Emit(OpCodes.Ldc_I8, -1L);
                il.MarkLabel(done);
            }
            il.Emit(OpCodes.Add);
        }

        /// <summary>A node-based collection, or a type derived from one (the TreeSet inside a SortedDictionary).</summary>
        private static bool IsNodeBased(Type type)
        {
            for (var t = type; t is not null && !t.IsValueType; t = t.BaseType)
            {
                if (t.IsGenericType && NodeBased.Contains(t.GetGenericTypeDefinition()))
                {
                    return true;
                }
            }
            return false;
        }

        private static int ElementSize(Type element) =>
            (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(element).Invoke(null, null)!;
    }
}
