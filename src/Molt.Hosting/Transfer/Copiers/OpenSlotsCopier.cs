using System.Runtime.CompilerServices;

namespace Molt.Hosting.Transfer.Copiers;

/// <summary>
/// A framework object that would pass by reference but has open slots: it passes when every slot's value crosses as
/// itself (the common case: one comparer check for a dictionary of a million entries). When a slot holds an object of
/// the old version (a comparer of the program's type), a hash collection is rebuilt with the slot's new object and its
/// elements inserted again; any other framework object is refused, with the path to what it holds.
/// </summary>
/// <param name="type">The framework type.</param>
/// <param name="slots">Its open slots.</param>
/// <param name="elements">For a container of carriers (a Dictionary&lt;string, HashSet&lt;string&gt;&gt;), the check of its elements.</param>
internal sealed class OpenSlotsCopier(Type type, OpenSlots.Slot[] slots, ElementsCheckCopier? elements = null) : TypeCopier
{
    /// <summary>How deep checks may nest before each checked object is recorded (framework objects rarely nest more than a few).</summary>
    private const int GuardedDepth = 16;

    private ReferenceCopier? _rebuild;
    private bool _rebuildKnown;

    /// <summary>Per slot, the last value that crossed as itself: comparers are mostly shared, so most checks end at a reference comparison.</summary>
    private readonly object?[] _passed = new object?[slots.Length];

    private readonly bool _isLazy = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Lazy<>);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override object Transfer(object old, StateTransfer transfer)
    {
        if (type.IsValueType)
        {
            return Checked(old, transfer) is { } held ? throw CannotRebuild(held) : transfer.Pass(old);
        }
        object? changed;
        // Deep in framework objects (a cycle, perhaps: a timer whose state is its cancellation source), each checked object is
        // recorded as passing while its slots are checked, so that the way back to it ends there. Shallower, nothing is
        // recorded: a framework object that passes (most do) costs its slot reads only.
        var guarded = transfer.CheckDepth >= GuardedDepth;
        if (guarded)
        {
            if (transfer.TryGetNew(old, out var known))
            {
                return known;
            }
            transfer.MapToItself(old);
        }
        transfer.CheckDepth++;
        try
        {
            changed = Check(old, transfer);
        }
        finally
        {
            transfer.CheckDepth--;
            if (guarded)
            {
                transfer.Forget(old);
            }
        }
        if (changed is null)
        {
            return elements is null || ElementsCheckCopier.AllCrossAsThemselves(old, transfer) ? transfer.Pass(old) : elements.Rebuild(old, transfer);
        }
        if (!_rebuildKnown)
        {
            _rebuild = (ReferenceCopier?)HashCollectionCopier.TryCreate(type, type) ?? ImmutableCopier.TryCreate(type, type) ?? (ReferenceCopier?)PriorityQueueCopier.TryCreate(type, type);
            _rebuildKnown = true;
        }
        if (_rebuild is not null)
        {
            return _rebuild.Transfer(old, transfer);
        }
        throw CannotRebuild(changed);
    }

    private StateTransferException CannotRebuild(object held) => new(
        $"it is held by a {TypeFacts.Describe(type)}, a framework object that would pass by reference, and Molt cannot rebuild one around " +
        "the new version's object: the old version's code would run on (hold it in a field of the program's own, or rebuild the framework object " +
        "in an [AfterTransfer] step)", held);

    /// <summary>The first slot value that does not cross as itself (the old object), or null when all do.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private object? Check(object old, StateTransfer transfer)
    {
        for (var i = 0; i < slots.Length; i++)
        {
            var value = slots[i].Read(old);
            if (value is null || ReferenceEquals(value, _passed[i]))
            {
                continue;
            }
            object? transferred;
            try
            {
                transferred = transfer.TransferObject(value);
            }
            catch (StateTransferException e) when (_isLazy && value is Delegate && ReferenceEquals(e.Offender, value))
            {
                throw new StateTransferException($"it is the factory of a {TypeFacts.Describe(type)} not yet evaluated ({Carriers.Describe((Delegate)value)}), " +
                    "old code that would run when the new version reads its Value (evaluate it before the update, mark the static [NotMigrated], " +
                    "or compute the field with a transformer)", value, e.InnerException);
            }
            if (!ReferenceEquals(transferred, value))
            {
                return value;
            }
            _passed[i] = value;
        }
        return null;
    }

    /// <summary><see cref="Check"/> of a boxed value, within the check depth.</summary>
    private object? Checked(object old, StateTransfer transfer)
    {
        transfer.CheckDepth++;
        try
        {
            return Check(old, transfer);
        }
        finally
        {
            transfer.CheckDepth--;
        }
    }
}
