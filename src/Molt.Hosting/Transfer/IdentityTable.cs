using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Molt.Hosting.Transfer;

/// <summary>
/// The transfer's identity map: each old object to its new one. Open addressing with linear probing over one array of
/// old/new pairs, keyed by the old object's identity hash code (what <see cref="ReferenceEqualityComparer"/> uses): no
/// interface call and no bucket indirection per lookup, and a probe reads one cache line. It is the largest table of a
/// big transfer and each lookup a cache miss, so density is what counts.
/// </summary>
/// <remarks>
/// Not thread-safe: a parallel transfer splits the map into tables (<see cref="IdentityMap"/>), each taken under its own lock.
/// </remarks>
internal sealed class IdentityTable
{
    private struct Pair
    {
        public object? Old;
        public object? New;
    }

    private Pair[] _pairs;
    private int _count;
    private int _shift; // 32 - log2(capacity): the index is the top bits of the mixed hash.
    private int _growAt;

    /// <summary>Held by a parallel transfer's worker while it reads or changes this table (0 free, 1 taken).</summary>
    internal int Taken;

    public IdentityTable(int capacity = 16) => Resize(Math.Max(16, (int)BitOperations.RoundUpToPowerOf2((uint)capacity)));

    public int Count => _count;

    /// <summary>Fibonacci hashing: the identity hash has about 26 good bits, spread here over the index's bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int IndexOf(int hash) => (int)(((uint)hash * 0x9E3779B9u) >> _shift);

    /// <summary>The new object's slot for an old object, added empty when it has none (the caller fills it before the next call).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public ref object? SlotFor(object old, int hash, out bool exists)
    {
        if (_count >= _growAt)
        {
            Resize(_pairs.Length * 2);
        }
        var pairs = _pairs;
        var mask = pairs.Length - 1;
        for (var i = IndexOf(hash); ; i = (i + 1) & mask)
        {
            ref var pair = ref pairs[i];
            if (pair.Old is null)
            {
                pair.Old = old;
                _count++;
                exists = false;
                return ref pair.New;
            }
            if (ReferenceEquals(pair.Old, old))
            {
                exists = true;
                return ref pair.New;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryGet(object old, int hash, out object? created)
    {
        var pairs = _pairs;
        var mask = pairs.Length - 1;
        for (var i = IndexOf(hash); ; i = (i + 1) & mask)
        {
            ref var pair = ref pairs[i];
            if (ReferenceEquals(pair.Old, old))
            {
                created = pair.New;
                return true;
            }
            if (pair.Old is null)
            {
                created = null;
                return false;
            }
        }
    }

    /// <summary>Asks the processor to load the pair where an old object of this hash is looked up first (a hint: never blocks, never faults).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void Prefetch(int hash)
    {
        if (System.Runtime.Intrinsics.X86.Sse.IsSupported)
        {
            var pairs = _pairs;
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(Unsafe.AsPointer(ref pairs[IndexOf(hash) & (pairs.Length - 1)]));
        }
    }

    /// <summary>Removes an old object's pair (backward-shift deletion: the pairs after it that probed past it move up).</summary>
    public void Remove(object old, int hash)
    {
        var pairs = _pairs;
        var mask = pairs.Length - 1;
        var i = IndexOf(hash);
        while (!ReferenceEquals(pairs[i].Old, old))
        {
            if (pairs[i].Old is null)
            {
                return;
            }
            i = (i + 1) & mask;
        }
        var hole = i;
        for (var j = (hole + 1) & mask; pairs[j].Old is { } next; j = (j + 1) & mask)
        {
            var home = IndexOf(RuntimeHelpers.GetHashCode(next));
            // The pair at j may move into the hole when its home is not cyclically within (hole, j].
            if (((j - home) & mask) >= ((j - hole) & mask))
            {
                pairs[hole] = pairs[j];
                hole = j;
            }
        }
        pairs[hole] = default;
        _count--;
    }

    /// <summary>Makes room for <paramref name="more"/> pairs more without growing one step at a time.</summary>
    public void Expect(int more)
    {
        var needed = (long)_count + more;
        if (needed > _growAt)
        {
            Resize((int)Math.Min(1 << 30, BitOperations.RoundUpToPowerOf2((ulong)(needed * 2))));
        }
    }

    [MemberNotNull(nameof(_pairs))]
    private void Resize(int capacity)
    {
        var old = _pairs;
        _pairs = new Pair[capacity];
        _shift = 32 - BitOperations.Log2((uint)capacity);
        _growAt = capacity / 2; // Half full at most: linear probing's runs stay short.
        if (old is null)
        {
            return;
        }
        var mask = capacity - 1;
        foreach (var pair in old)
        {
            if (pair.Old is { } key)
            {
                var i = IndexOf(RuntimeHelpers.GetHashCode(key));
                while (_pairs[i].Old is not null)
                {
                    i = (i + 1) & mask;
                }
                _pairs[i] = pair;
            }
        }
    }
}

/// <summary>
/// The identity map of a transfer: one <see cref="IdentityTable"/> for a sequential transfer; for a parallel one, many, each
/// for the old objects whose identity hash ends in its index, taken under a lock of its own while workers run, so that two
/// workers rarely wait for each other and never rebuild one old object twice.
/// </summary>
internal sealed class IdentityMap
{
    private readonly IdentityTable[] _tables;
    private readonly int _mask;

    public IdentityMap(int tables)
    {
        tables = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, tables));
        _tables = [.. Enumerable.Range(0, tables).Select(_ => new IdentityTable())];
        _mask = tables - 1;
    }

    /// <summary>Whether workers run: every table is then read and changed under its lock only.</summary>
    public bool Concurrent { get; set; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public IdentityTable TableOf(int hash) => _tables[hash & _mask];

    /// <summary>Makes room for about <paramref name="more"/> old objects more, spread over the tables (only while no worker runs).</summary>
    public void Expect(int more)
    {
        foreach (var table in _tables)
        {
            table.Expect(more / _tables.Length + (more > 0 ? 1 : 0));
        }
    }

    /// <summary>Takes a table's lock (a spin lock: it is held for a lookup and an allocation, never while waiting for anything else).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Enter(IdentityTable table)
    {
        if (Interlocked.CompareExchange(ref table.Taken, 1, 0) != 0)
        {
            EnterContended(table);
        }
    }

    private static void EnterContended(IdentityTable table)
    {
        var spin = default(SpinWait);
        while (Volatile.Read(ref table.Taken) != 0 || Interlocked.CompareExchange(ref table.Taken, 1, 0) != 0)
        {
            // Never Sleep(1): on a machine with fewer free cores than workers the holder may be waiting for this core.
            spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Exit(IdentityTable table) => Volatile.Write(ref table.Taken, 0);
}
