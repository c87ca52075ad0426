using System.Numerics;
using System.Runtime.CompilerServices;

namespace Molt.Hosting.Transfer.Stream;

/// <summary>
/// The writer's object identities: each object met gets the next id, in the order met (the reader's order of creation).
/// Open addressing over the objects' identity hash codes, linear probing, each slot holding the object, its id and its hash
/// code together (one cache line touched per probe); no entry objects, no interface calls (a
/// <see cref="Dictionary{TKey,TValue}"/> with a reference comparer took most of the writer's time).
/// </summary>
/// <remarks>
/// A slot is the top bits of the scrambled hash code (Fibonacci hashing), so doubling the table sends slot <c>i</c> to
/// <c>2i</c> or <c>2i+1</c>: growing walks both tables in order, from the kept hash codes, without touching the objects
/// again. The writer also reserves room ahead when it meets a large collection (<see cref="Reserve"/>).
/// </remarks>
internal sealed class IdentityMap
{
    private const int InitialBits = 16;
    private Slot[] _slots = new Slot[1 << InitialBits];
    private int _shift = 64 - InitialBits;

    private struct Slot
    {
        public object? Key;
        public int Id;
        public uint Hash;
    }

    /// <summary>How many objects have an id: the next id.</summary>
    public int Count { get; private set; }

    /// <summary>The object's id; a new object gets the next one (<paramref name="added"/> set).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int GetOrAdd(object key, out bool added)
    {
        var slots = _slots;
        var mask = slots.Length - 1;
        var hash = (uint)RuntimeHelpers.GetHashCode(key);
        var index = Index(hash, _shift);
        while (true)
        {
            ref var slot = ref slots[index];
            if (slot.Key is null)
            {
                break;
            }
            if (ReferenceEquals(slot.Key, key))
            {
                added = false;
                return slot.Id;
            }
            index = (index + 1) & mask;
        }
        added = true;
        var id = Count++;
        ref var free = ref slots[index];
        free.Key = key;
        free.Id = id;
        free.Hash = hash;
        if (Count > slots.Length >> 1)
        {
            Grow(slots.Length * 2);
        }
        return id;
    }

    /// <summary>Makes room for <paramref name="more"/> objects beyond those met, the table at most half full.</summary>
    public void Reserve(long more)
    {
        var wanted = (Count + Math.Min(more, 1 << 28)) * 2;
        if (wanted > _slots.Length)
        {
            Grow((int)Math.Min(BitOperations.RoundUpToPowerOf2((ulong)wanted), 1 << 30));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Index(uint hash, int shift) => (int)((ulong)hash * 0x9E3779B97F4A7C15UL >> shift);

    private void Grow(int size)
    {
        var old = _slots;
        var slots = new Slot[size];
        var shift = 64 - BitOperations.Log2((uint)size);
        var mask = size - 1;
        foreach (ref var slot in old.AsSpan())
        {
            if (slot.Key is not null)
            {
                var index = Index(slot.Hash, shift);
                while (slots[index].Key is not null)
                {
                    index = (index + 1) & mask;
                }
                slots[index] = slot;
            }
        }
        _slots = slots;
        _shift = shift;
    }
}
