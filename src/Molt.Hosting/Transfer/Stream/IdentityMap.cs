using System.Numerics;
using System.Runtime.CompilerServices;

namespace Molt.Hosting.Transfer.Stream;

/// <summary>
/// The writer's object identities: each object met gets the next id, in the order met (the reader's order of creation).
/// </summary>
/// <remarks>
/// <para>
/// Keyed by the objects' addresses, not their identity hash codes: the first <see cref="RuntimeHelpers.GetHashCode(object)"/>
/// of an object calls into the runtime to set it in the object's header (half the writer's time at a million entries, a
/// <see cref="Dictionary{TKey,TValue}"/> with a reference comparer most of it). Open addressing, linear probing from the
/// address's granule (objects met one after another were mostly allocated one after another: neighbouring slots).
/// </para>
/// <para>
/// A garbage collection can move objects, and so change their addresses, at any moment (another thread's allocation
/// suffices). The objects themselves are kept by id (<see cref="_byId"/>, references the collector updates); every lookup
/// reads the collection count before and after, and when it changed the table is rebuilt from the current addresses and the
/// lookup done again. A lookup whose count did not change saw no object move.
/// </para>
/// </remarks>
internal sealed class IdentityMap
{
    private Slot[] _slots = new Slot[1 << 16];
    private object?[] _byId = new object?[1 << 12];

    /// <summary>The collection count the table's addresses are valid for (-1: rebuild before use).</summary>
    private int _collections = -1;

    private struct Slot
    {
        public nint Address;
        public int Id;
    }

    /// <summary>How many objects have an id: the next id.</summary>
    public int Count { get; private set; }

    /// <summary>The object's id; a new object gets the next one (<paramref name="added"/> set).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int GetOrAdd(object key, out bool added)
    {
        // What may allocate (and so collect) first, before any address is read.
        if (Count == _byId.Length)
        {
            Array.Resize(ref _byId, _byId.Length * 2);
        }
        if (Count >= _slots.Length >> 1)
        {
            _slots = new Slot[_slots.Length * 2];
            _collections = -1;
        }
        while (true)
        {
            var collections = GC.CollectionCount(0);
            if (collections != _collections)
            {
                Rebuild();
                _collections = collections;
            }
            var slots = _slots;
            var mask = slots.Length - 1;
            var address = Unsafe.As<object, nint>(ref key);
            var index = Index(address, mask);
            var found = -1;
            while (true)
            {
                ref var slot = ref slots[index];
                if (slot.Address == 0)
                {
                    break;
                }
                if (slot.Address == address)
                {
                    found = slot.Id;
                    break;
                }
                index = (index + 1) & mask;
            }
            if (found < 0)
            {
                _byId[Count] = key;
                slots[index].Address = address;
                slots[index].Id = Count;
            }
            if (GC.CollectionCount(0) != collections)
            {
                // Something moved meanwhile: the table is rebuilt (without a slot just taken, Count not having moved) and the lookup done again.
                continue;
            }
            if (found >= 0)
            {
                added = false;
                return found;
            }
            added = true;
            return Count++;
        }
    }

    /// <summary>Makes room for <paramref name="more"/> objects beyond those met, the table at most half full.</summary>
    public void Reserve(long more)
    {
        var wanted = Count + Math.Min(more, 1 << 28);
        if (wanted * 2 > _slots.Length)
        {
            _slots = new Slot[(int)Math.Min(BitOperations.RoundUpToPowerOf2((ulong)wanted * 2), 1 << 30)];
            _collections = -1;
        }
        if (wanted > _byId.Length)
        {
            Array.Resize(ref _byId, (int)Math.Min(wanted, Array.MaxLength));
        }
    }

    /// <summary>
    /// The address's 16-byte granule, plus a scrambled offset per 64 KiB window: objects near each other in memory stay near
    /// each other in the table (one cache line for several), while windows land anywhere, so that objects a power of two
    /// apart (large arrays, the runtime's aligned regions) do not all come home to the same few slots.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Index(nint address, int mask) =>
        (int)(((ulong)address >> 4) + ((((ulong)address >> 16) * 0x9E3779B97F4A7C15UL) >> 32)) & mask;

    /// <summary>The table from the objects' current addresses.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Rebuild()
    {
        var slots = _slots;
        System.Array.Clear(slots);
        var mask = slots.Length - 1;
        var byId = _byId;
        for (var id = 0; id < Count; id++)
        {
            var item = byId[id]!;
            var address = Unsafe.As<object, nint>(ref item);
            var index = Index(address, mask);
            while (slots[index].Address != 0)
            {
                index = (index + 1) & mask;
            }
            slots[index].Address = address;
            slots[index].Id = id;
        }
    }
}
