using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Molt.Hosting.Transfer.Copiers;
using Molt.Hosting.Transfer.Stream;

namespace Molt.Hosting.Transfer;

/// <summary>
/// One transfer of a program's state into a new version: an identity map (an old object reached twice is
/// rebuilt once, and cycles close), a work list of objects allocated but not yet filled (so that deep
/// structures never recurse), and deferred insertions into rebuilt hash collections. It only reads the
/// old objects: on a rollback the old version goes on with them untouched.
/// </summary>
internal sealed class StateTransfer(TransferPlan plan, bool watchSharedState = true) : IOldState
{
    private readonly Dictionary<object, object> _newOf = new(ReferenceEqualityComparer.Instance);
    private readonly Stack<(ReferenceCopier Copier, object Old, object New)> _work = new();
    private readonly Queue<(object Owner, Action Insert)> _deferred = new();
    private readonly Dictionary<(Type, string), FieldInfo?> _fields = [];

    /// <summary>The old static fields that transformers read: their state was taken over by the new version's code.</summary>
    public HashSet<FieldInfo> StaticsRead { get; } = [];
    private Type? _lastType;
    private TypeCopier? _lastCopier;
    private bool _draining;

    public TypeMap Map => plan.Map;

    /// <summary>
    /// Where the old statics' values come from: null for the live old version's fields, else a state stream's values (the old
    /// version loaded anew, whose statics stay unwritten and whose static constructors do not run).
    /// </summary>
    internal IOldStatics? OldStatics { get; init; }

    /// <summary>An old static's value, from <see cref="OldStatics"/>.</summary>
    internal object? ReadOldStatic(FieldInfo field) => OldStatics is null ? field.GetValue(null) : OldStatics.Read(field);

    /// <summary>What the operator should know about this transfer that did not fail it.</summary>
    public List<string> Warnings { get; } = [];

    /// <summary>
    /// How many checks of what a framework object holds are under way, one within another (<see cref="Copiers.OpenSlotsCopier"/>,
    /// <see cref="Copiers.ElementsCheckCopier"/>): what they reach is only checked, not passed to the new version on its own.
    /// </summary>
    internal int CheckDepth { get; set; }

    /// <summary>The containers whose elements are being checked, one within another: one that holds itself (through its elements) is not checked again.</summary>
    internal HashSet<object> Checking { get; } = new(ReferenceEqualityComparer.Instance);

    /// <summary>Passes a framework object to the new version as it is: counted, and recorded for a rollback unless it was only checked.</summary>
    internal object Pass(object old)
    {
        if (CheckDepth == 0)
        {
            ReferencesPassed++;
            // Shared from now on by both versions: recorded, so that a rollback can tell whether the new version changed it.
            SharedObjects?.Record(old);
        }
        return old;
    }

    /// <summary>
    /// Records an array that a compiled copy passes as it is (a <c>byte[]</c> field, copied directly, never through
    /// <see cref="TransferObject(object?)"/>): shared by both versions from now on, so a rollback can put it back.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void ShareArray(object? array)
    {
        if (array is not null && SharedObjects is { } ledger)
        {
            ledger.Record(array);
        }
    }

    /// <summary>Objects rebuilt as the new version's types.</summary>
    public long ObjectsRebuilt { get; set; }

    /// <summary>References to framework objects passed to the new version as they are.</summary>
    public long ReferencesPassed { get; set; }

    /// <summary>
    /// The framework objects passed by reference that the new version could change before the commit, with their mutation
    /// counters: shared by both versions, so a rollback checks that the old version gets them back as they were. Null for a
    /// trial transfer (molt check), whose results nobody runs on.
    /// </summary>
    public Updating.SharedStateLedger? SharedObjects { get; } = watchSharedState ? new() : null;

    /// <summary>
    /// Set while the after-transfer steps run: what a step reads from the old version is then completed (filled in,
    /// hash collections rebuilt) before the step sees it. A step that iterated a dictionary it just read would
    /// otherwise find it empty. Transformers that run during a drain still get objects that may not be filled in.
    /// </summary>
    public bool CompleteReads { get; set; }

    /// <summary>
    /// The new version's object for an old one. Called by compiled copiers for every field that is not a
    /// plain value, so it is the inner loop of the transfer: a type check against the last type seen first.
    /// </summary>
    /// <remarks>
    /// The transfer's loops run once per update, for too short a time for tiered compilation to replace
    /// their first, unoptimized code: they and the methods they call are compiled optimized at once.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public object? TransferObject(object? old)
    {
        if (old is null)
        {
            return null;
        }
        var type = old.GetType();
        TypeCopier copier;
        try
        {
            if (ReferenceEquals(type, _lastType))
            {
                copier = _lastCopier!;
            }
            else
            {
                copier = plan.CopierFor(type);
                _lastType = type;
                _lastCopier = copier;
            }
            return copier.Transfer(old, this);
        }
        catch (Exception e) when (e is not StateTransferException)
        {
            // Planning or allocating failed (a type the copiers cannot construct, say): name the object, so the update rolls back with its path.
            throw new StateTransferException($"copying it failed: {e.GetType().Name}: {e.Message}", old, e);
        }
    }

    /// <summary>
    /// <see cref="TransferObject(object?)"/> with a copier cache of the caller's own: a collection's keys
    /// and values alternate between types, and would miss the transfer's cache of the last type every time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public object? TransferObject(object? old, ref CopierCache cache)
    {
        if (old is null)
        {
            return null;
        }
        var type = old.GetType();
        if (!ReferenceEquals(type, cache.Type))
        {
            cache.Copier = plan.CopierFor(type);
            cache.Type = type;
        }
        return cache.Copier!.Transfer(old, this);
    }

    /// <summary>Makes room for about <paramref name="count"/> more objects (a collection's elements) at once, instead of growing step by step.</summary>
    public void Expect(int count)
    {
        _newOf.EnsureCapacity(_newOf.Count + count);
        _work.EnsureCapacity(_work.Count + count);
    }

    /// <summary>Transfers everything still waiting: objects to fill, then hash collections to fill, until both are done.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Drain()
    {
        _draining = true;
        try
        {
            DrainWork();
        }
        finally
        {
            _draining = false;
        }
    }

    private void DrainWork()
    {
        while (true)
        {
            while (_work.TryPop(out var item))
            {
                try
                {
                    item.Copier.Fill(item.Old, item.New, this);
                }
                catch (Exception e) when (e is not StateTransferException)
                {
                    throw new StateTransferException($"copying it failed: {e.Message}", item.Old, e);
                }
            }
            if (!_deferred.TryDequeue(out var deferred))
            {
                return;
            }
            try
            {
                deferred.Insert();
            }
            catch (Exception e) when (e is not StateTransferException)
            {
                throw new StateTransferException($"rebuilding the collection failed: {e.Message}", deferred.Owner, e);
            }
        }
    }

    internal void Warn(string warning) => Warnings.Add(warning);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal bool TryGetNew(object old, out object created) => _newOf.TryGetValue(old, out created!);

    /// <summary>Records a new object that still has to be filled.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal object Register(object old, object created, ReferenceCopier copier)
    {
        _newOf.Add(old, created);
        ObjectsRebuilt++;
        _work.Push((copier, old, created));
        return created;
    }

    /// <summary>The identity map's slot for an old object, added empty when it has none (then fill it, then call <see cref="Registered"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal ref object? SlotFor(object old, out bool exists) => ref CollectionsMarshal.GetValueRefOrAddDefault(_newOf, old, out exists);

    /// <summary>Removes the slot of an old object whose new object could not be allocated.</summary>
    internal void Forget(object old) => _newOf.Remove(old);

    /// <summary>Records a new object, already in its slot, that still has to be filled.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal object Registered(object old, object created, ReferenceCopier copier)
    {
        ObjectsRebuilt++;
        _work.Push((copier, old, created));
        return created;
    }

    /// <summary>Records a new object built whole (by a factory transformer).</summary>
    internal object RegisterBuilt(object old, object created)
    {
        _newOf.TryAdd(old, created);
        ObjectsRebuilt++;
        return _newOf[old];
    }

    /// <summary>Runs an insertion once every object allocated so far is filled (hash codes need filled keys).</summary>
    internal void Defer(object owner, Action insert) => _deferred.Enqueue((owner, insert));

    internal OldObject View(object old) => new(this, old.GetType(), old);

    /// <summary>
    /// Says which field's value no longer fits its new field, after a compiled copy failed a cast: an object whose class no
    /// longer derives from the field's type or implements its interface. Runs only on that failure path (by reflection); the
    /// field's old value is the offender, so the update's path names its holder.
    /// </summary>
    internal Exception ExplainMisfit(IEnumerable<FieldCopy> copies, object? oldInstance, Exception cause)
    {
        foreach (var copy in copies.Where(c => c.Kind is Conversion.Transfer or Conversion.WrapNullable))
        {
            var value = copy.Old.IsStatic ? ReadOldStatic(copy.Old) : copy.Old.GetValue(oldInstance);
            var created = TransferObject(value);
            if (created is not null && !copy.New.FieldType.IsInstanceOfType(created))
            {
                return new StateTransferException($"it becomes a {TypeFacts.Describe(created.GetType())}, which the new version's " +
                    $"{(copy.New.IsStatic ? "static " : "")}{TypeFacts.Describe(copy.New.DeclaringType!)}.{TypeFacts.LogicalName(copy.New)} " +
                    $"({TypeFacts.Describe(copy.New.FieldType)}) cannot hold: the new version changed the class's base or interfaces " +
                    "(add a [TransformField] or [TransformType] method)", value, cause);
            }
        }
        return cause;
    }

    /// <summary>Sets the added fields' initial values on a new object, naming the fields when an initializer throws.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void RunInitializers(FieldPlan plan, object old, Action<object> initialize, object created)
    {
        try
        {
            initialize(created);
        }
        catch (Exception e)
        {
            throw new StateTransferException(
                $"the initializer of a field that {TypeFacts.Describe(plan.NewType)} added ({string.Join(", ", plan.Added.Select(TypeFacts.LogicalName))}) " +
                $"threw {e.GetType().Name}: {e.Message} (compute the field with [TransformField] instead)", old, e);
        }
    }

    /// <summary>
    /// Counts the copies that run inline, inside another one (a class that became a struct is copied where it is met, not
    /// from the work list): an old object that reaches itself through them would otherwise recurse until the stack overflowed.
    /// </summary>
    internal InlineCopy EnterInlineCopy(object old)
    {
        if (++_inlineDepth > MaxInlineDepth)
        {
            _inlineDepth = 0;
            throw new StateTransferException($"it reaches itself through classes that became structs ({TypeFacts.Describe(old.GetType())}), " +
                "and a struct cannot contain itself: use a [TransformType] factory", old);
        }
        return new InlineCopy(this);
    }

    private const int MaxInlineDepth = 256;
    private int _inlineDepth;

    /// <summary>Leaves an inline copy (see <see cref="EnterInlineCopy"/>).</summary>
    internal readonly struct InlineCopy(StateTransfer transfer) : IDisposable
    {
        public void Dispose() => transfer._inlineDepth = Math.Max(0, transfer._inlineDepth - 1);
    }

    /// <summary>Runs one of the new version's transformers, naming it when it throws.</summary>
    internal void RunTransformer(MethodInfo transformer, object old, Action run)
    {
        try
        {
            run();
        }
        catch (Exception e) when (e is not StateTransferException)
        {
            throw new StateTransferException(
                $"transformer {transformer.DeclaringType?.Name}.{transformer.Name} threw {e.GetType().Name}: {e.Message}", old, e);
        }
    }

    // ---- IOldState: what transformers read ----------------------------------------------------

    // Asked once per old object by a transformer (OldObject.Has): computed once per type, not by reflection each time.
    IReadOnlyList<string> IOldState.FieldNames(Type oldType, bool statics)
    {
        if (!_fieldNames.TryGetValue((oldType, statics), out var names))
        {
            names = Array.AsReadOnly((statics ? TypeFacts.StaticFields(oldType) : TypeFacts.InstanceFields(oldType)).Select(TypeFacts.LogicalName).Distinct().ToArray());
            _fieldNames[(oldType, statics)] = names;
        }
        return names;
    }

    private readonly Dictionary<(Type, bool), IReadOnlyList<string>> _fieldNames = [];

    object? IOldState.Read(Type oldType, object? instance, string field)
    {
        if (!_fields.TryGetValue((oldType, field), out var info))
        {
            var fields = instance is null ? TypeFacts.StaticFields(oldType) : TypeFacts.InstanceFields(oldType);
            info = fields.LastOrDefault(f => TypeFacts.LogicalName(f) == field);
            _fields[(oldType, field)] = info;
        }
        if (info is null)
        {
            throw new KeyNotFoundException($"The old version's {TypeFacts.Describe(oldType)} has no {(instance is null ? "static " : "")}field or auto-property '{field}'.");
        }
        if (instance is null)
        {
            StaticsRead.Add(info);
            return ReadOldStatic(info);
        }
        return info.GetValue(instance);
    }

    Type? IOldState.FindOldType(string fullName) => Map.Old.FindType(fullName);

    object? IOldState.NewOf(object? old)
    {
        var created = TransferObject(old);
        if (CompleteReads && !_draining)
        {
            Drain();
        }
        return created;
    }
}

/// <summary>The copier for the last type seen at one place that transfers objects.</summary>
internal struct CopierCache
{
    public Type? Type;
    public TypeCopier? Copier;
}
