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
/// <remarks>
/// With a parallelism above 1, the elements of a large array or hash collection are split into chunks, each transferred
/// and drained by a worker (a <see cref="StateTransfer"/> of its own: its work list, counts, caches and deferred
/// insertions) on up to that many threads; the identity map is then taken table by table under a lock, and copiers that
/// run the program's code (transformers, initializers that call methods) run one at a time. The workers' counts,
/// warnings and deferred insertions are merged in chunk order; the first failing chunk's failure is the transfer's.
/// </remarks>
internal sealed class StateTransfer : IOldState
{
    /// <summary>
    /// Fewer elements than this are transferred by the thread that meets them: splitting costs more than it saves. Likewise,
    /// fewer collections waiting to be refilled than a 64th of it are refilled one after another.
    /// </summary>
    internal const int ParallelMinimum = 4096;

    /// <summary>How many chunks each thread gets (for balance: chunks differ in what they reach), each of a quarter of <see cref="ParallelMinimum"/> at least.</summary>
    private const int ChunksPerThread = 8;

    private readonly int _splitMinimum;

    private readonly TransferPlan _plan;
    private readonly StateTransfer _root;
    private readonly IdentityMap _newOf;
    private readonly int _parallelism;
    private readonly Stack<(ReferenceCopier Copier, object Old, object New)> _work = new();
    private readonly Queue<(object Owner, Action Insert, bool Concurrent)> _deferred = new();
    private readonly Dictionary<(Type, string), FieldInfo?> _fields = [];

    /// <summary>What runs one at a time while workers run: the plan's copier cache, and copiers that run the program's code.</summary>
    private readonly object _serial;

    /// <summary>A worker's objects passed by reference that the ledger may record, recorded by the root in chunk order.</summary>
    private readonly List<object>? _passedByWorker;

    /// <param name="plan">The plan: type pairs, copiers, transformers.</param>
    /// <param name="watchSharedState">Whether to record the framework objects passed by reference, for a rollback.</param>
    /// <param name="parallelism">How many threads may transfer at once: 1 for a sequential transfer.</param>
    /// <param name="splitMinimum">The fewest elements split across threads (<see cref="ParallelMinimum"/>; tests lower it).</param>
    public StateTransfer(TransferPlan plan, bool watchSharedState = true, int parallelism = 1, int splitMinimum = ParallelMinimum)
    {
        _plan = plan;
        _splitMinimum = Math.Max(2, splitMinimum);
        _root = this;
        _parallelism = Math.Max(1, parallelism);
        // One table for a sequential transfer; for a parallel one, enough that workers rarely meet on one.
        _newOf = new IdentityMap(_parallelism == 1 ? 1 : 64 * _parallelism);
        _serial = new object();
        SharedObjects = watchSharedState ? new() : null;
        StaticsRead = [];
    }

    /// <summary>A worker of <paramref name="root"/>'s parallel transfer.</summary>
    private StateTransfer(StateTransfer root)
    {
        _plan = root._plan;
        _root = root;
        _parallelism = 1;
        _newOf = root._newOf;
        _serial = root._serial;
        _passedByWorker = root.SharedObjects is null ? null : [];
        StaticsRead = root.StaticsRead; // Changed only by transformers, which run one at a time.
        _draining = true;
    }

    private bool IsWorker => !ReferenceEquals(_root, this);

    /// <summary>
    /// Holds the garbage collector off while the transfer runs, when the runtime can promise room for the new state up front:
    /// every object a transfer allocates stays alive, so a collection during it only copies the new state from generation to
    /// generation (measured: most of a transfer's time). Dispose at the end of the transfer. Past the room promised, or when
    /// the runtime cannot promise it, collections run as usual.
    /// </summary>
    public static IDisposable HoldCollections() => new CollectionsHeld();

    private sealed class CollectionsHeld : IDisposable
    {
        private readonly bool _held;

        public CollectionsHeld()
        {
            // The new state is about as large as the old one, which is within what the heap holds now.
            var room = Math.Min(2 * GC.GetTotalMemory(false) + (32L << 20), GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4);
            try
            {
                _held = GC.TryStartNoGCRegion(room, disallowFullBlockingGC: true);
            }
            catch (ArgumentOutOfRangeException)
            {
                // More than the runtime can ever promise: collections run as usual.
            }
            catch (InvalidOperationException)
            {
                // Already held (by the program, say).
            }
        }

        public void Dispose()
        {
            if (_held && System.Runtime.GCSettings.LatencyMode == System.Runtime.GCLatencyMode.NoGCRegion)
            {
                try
                {
                    GC.EndNoGCRegion();
                }
                catch (InvalidOperationException)
                {
                    // The transfer allocated more than promised, and a collection ended the region.
                }
            }
        }
    }

    /// <summary>Whether this transfer may run on several threads.</summary>
    internal bool Parallel => _root._parallelism > 1;

    /// <summary>Whether <see cref="ForEachChunk"/> would split <paramref name="count"/> elements across threads.</summary>
    internal bool Splits(int count) => !IsWorker && _parallelism > 1 && count >= _splitMinimum;

    /// <summary>The old static fields that transformers read: their state was taken over by the new version's code.</summary>
    public HashSet<FieldInfo> StaticsRead { get; }
    private Type? _lastType;
    private TypeCopier? _lastCopier;
    private bool _draining;

    public TypeMap Map => _plan.Map;

    /// <summary>
    /// Where the old statics' values come from: null for the live old version's fields, else a state stream's values (the old
    /// version loaded anew, whose statics stay unwritten and whose static constructors do not run).
    /// </summary>
    internal IOldStatics? OldStatics
    {
        get => IsWorker ? _root.OldStatics : _oldStatics;
        init => _oldStatics = value;
    }

    private readonly IOldStatics? _oldStatics;

    /// <summary>An old static's value, from <see cref="OldStatics"/>.</summary>
    internal object? ReadOldStatic(FieldInfo field) => OldStatics is not { } statics ? field.GetValue(null) : statics.Read(field);

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
            if (_passedByWorker is { } passed)
            {
                if (Updating.SharedStateLedger.MayRecord(old))
                {
                    passed.Add(old);
                }
            }
            else
            {
                SharedObjects?.Record(old);
            }
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
        if (array is null)
        {
            return;
        }
        if (_passedByWorker is { } passed)
        {
            passed.Add(array);
        }
        else
        {
            SharedObjects?.Record(array);
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
    public Updating.SharedStateLedger? SharedObjects { get; }

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
                copier = CopierFor(type);
                _lastType = type;
                _lastCopier = copier;
            }
            return IsWorker && !copier.Concurrent ? TransferSerially(copier, old) : copier.Transfer(old, this);
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
            cache.Copier = CopierFor(type);
            cache.Type = type;
        }
        var copier = cache.Copier!;
        return IsWorker && !copier.Concurrent ? TransferSerially(copier, old) : copier.Transfer(old, this);
    }

    /// <summary>The plan's copier for a type: the plan builds them on first use, one thread at a time.</summary>
    private TypeCopier CopierFor(Type type)
    {
        if (!IsWorker)
        {
            return _plan.CopierFor(type);
        }
        lock (_serial)
        {
            return _plan.CopierFor(type);
        }
    }

    /// <summary>A worker's transfer by a copier that may run the program's code: one at a time, as in a sequential transfer.</summary>
    private object TransferSerially(TypeCopier copier, object old)
    {
        lock (_serial)
        {
            return copier.Transfer(old, this);
        }
    }

    /// <summary>
    /// Transfers <c>olds[i]</c> into <c>news[i]</c> for <c>i</c> in <c>[from, to)</c> (the same array, in place, or another of a
    /// compatible element type), with a copier cache of the loop's own. A large collection's elements are scattered over the
    /// heap and so are their identity-map slots, each a cache miss: the loop asks for the old object a few elements ahead, and
    /// for its slot a few elements later, so that the loads overlap instead of waiting one after another.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void TransferElements(object?[] olds, object?[] news, int from, int to)
    {
        var cache = default(CopierCache);
        for (var i = from; i < to; i++)
        {
            PrefetchAhead(olds, i, to, cache.Type, cache.Copier);
            news[i] = TransferObject(olds[i], ref cache);
        }
    }

    /// <summary>
    /// In a loop over <paramref name="olds"/> at <paramref name="i"/>: asks for an old object ahead, and for the identity-map slot
    /// of one less far ahead when it is of the type the loop's copier cache holds (a hint only: nothing is planned or thrown here).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void PrefetchAhead(object?[] olds, int i, int to, Type? cachedType, TypeCopier? cachedCopier)
    {
        const int ObjectsAhead = 16;
        const int SlotsAhead = 8;
        if (i + ObjectsAhead < to)
        {
            Prefetch(olds[i + ObjectsAhead]);
        }
        if (i + SlotsAhead < to && olds[i + SlotsAhead] is { } later && cachedCopier is ReferenceCopier && ReferenceEquals(later.GetType(), cachedType))
        {
            var hash = RuntimeHelpers.GetHashCode(later);
            _newOf.TableOf(hash).Prefetch(hash);
        }
    }

    /// <summary><see cref="PrefetchAhead(object?[], int, int, Type?, TypeCopier?)"/> for a loop that calls <see cref="TransferObject(object?)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void PrefetchAheadOfTransfer(object?[] olds, int i, int to) => PrefetchAhead(olds, i, to, _lastType, _lastCopier);

    /// <summary>Asks the processor to load an object's header (a hint: never blocks, never faults, even if the object has moved).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Prefetch(object? old)
    {
        if (old is not null && System.Runtime.Intrinsics.X86.Sse.IsSupported)
        {
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(*(void**)Unsafe.AsPointer(ref old));
        }
    }

    /// <summary>Makes room for about <paramref name="count"/> more objects (a collection's elements) at once, instead of growing step by step.</summary>
    public void Expect(int count)
    {
        if (!IsWorker)
        {
            _newOf.Expect(count);
        }
        _work.EnsureCapacity(_work.Count + count);
    }

    /// <summary>
    /// Runs <paramref name="body"/> over the elements <c>[0, count)</c> of a collection being filled: at once on this thread,
    /// or, in a parallel transfer and for many elements, in chunks on the transfer's threads, each chunk with a worker that
    /// also fills everything its elements reach. Returns once every chunk is done; throws the first failing chunk's failure.
    /// </summary>
    /// <param name="count">How many elements.</param>
    /// <param name="body">Transfers the elements <c>[from, to)</c> with the given transfer (this one, or a worker).</param>
    internal void ForEachChunk(int count, Action<StateTransfer, int, int> body)
    {
        if (!Splits(count))
        {
            body(this, 0, count);
            return;
        }
        var chunks = Math.Clamp(count / Math.Max(1, _splitMinimum / 4), 1, _parallelism * ChunksPerThread);
        var workers = new StateTransfer?[chunks];
        var failures = new Exception?[chunks];
        var next = -1;
        var failed = 0;
        _newOf.Expect(count);
        _newOf.Concurrent = true;
        try
        {
            System.Threading.Tasks.Parallel.For(0, _parallelism, new ParallelOptions { MaxDegreeOfParallelism = _parallelism }, _ =>
            {
                int chunk;
                while (Volatile.Read(ref failed) == 0 && (chunk = Interlocked.Increment(ref next)) < chunks)
                {
                    var worker = workers[chunk] = new StateTransfer(this);
                    try
                    {
                        body(worker, (int)((long)count * chunk / chunks), (int)((long)count * (chunk + 1) / chunks));
                        worker.DrainWork();
                    }
                    catch (Exception e)
                    {
                        failures[chunk] = e;
                        Volatile.Write(ref failed, 1);
                    }
                }
            });
        }
        finally
        {
            _newOf.Concurrent = false;
            foreach (var worker in workers)
            {
                if (worker is not null)
                {
                    Merge(worker);
                }
            }
        }
        if (failures.FirstOrDefault(f => f is not null) is { } failure)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
    }

    /// <summary>Takes over what a worker did: its counts, warnings, passed objects (into the ledger) and deferred insertions.</summary>
    private void Merge(StateTransfer worker)
    {
        ObjectsRebuilt += worker.ObjectsRebuilt;
        ReferencesPassed += worker.ReferencesPassed;
        Warnings.AddRange(worker.Warnings);
        if (worker._passedByWorker is { } passed && SharedObjects is { } ledger)
        {
            foreach (var shared in passed)
            {
                ledger.Record(shared);
            }
        }
        foreach (var deferred in worker._deferred)
        {
            _deferred.Enqueue(deferred);
        }
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void DrainWork()
    {
        while (true)
        {
            while (_work.TryPop(out var item))
            {
                try
                {
                    if (IsWorker && !item.Copier.Concurrent)
                    {
                        lock (_serial)
                        {
                            item.Copier.Fill(item.Old, item.New, this);
                        }
                    }
                    else
                    {
                        item.Copier.Fill(item.Old, item.New, this);
                    }
                }
                catch (Exception e) when (e is not StateTransferException)
                {
                    throw new StateTransferException($"copying it failed: {e.Message}", item.Old, e);
                }
            }
            // A worker leaves its insertions to the root: their keys may be objects another worker has not filled yet.
            if (IsWorker || _deferred.Count == 0)
            {
                return;
            }
            if (_parallelism > 1 && _deferred.Count >= Math.Max(2, _splitMinimum / 64))
            {
                InsertInParallel();
                continue;
            }
            var deferred = _deferred.Dequeue();
            Insert(deferred.Owner, deferred.Insert);
        }
    }

    private static void Insert(object owner, Action insert)
    {
        try
        {
            insert();
        }
        catch (Exception e) when (e is not StateTransferException)
        {
            throw new StateTransferException($"rebuilding the collection failed: {e.Message}", owner, e);
        }
    }

    /// <summary>
    /// The insertions waiting, each into a collection of its own: those that run only framework code side by side on the
    /// transfer's threads, the others one at a time. The first failing one in the order they were deferred fails the transfer.
    /// </summary>
    private void InsertInParallel()
    {
        var pending = _deferred.ToArray();
        _deferred.Clear();
        var failures = new Exception?[pending.Length];
        System.Threading.Tasks.Parallel.For(0, pending.Length, new ParallelOptions { MaxDegreeOfParallelism = _parallelism }, i =>
        {
            try
            {
                if (pending[i].Concurrent)
                {
                    Insert(pending[i].Owner, pending[i].Insert);
                }
                else
                {
                    lock (_serial)
                    {
                        Insert(pending[i].Owner, pending[i].Insert);
                    }
                }
            }
            catch (Exception e)
            {
                failures[i] = e;
            }
        });
        if (failures.FirstOrDefault(f => f is not null) is { } failure)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
    }

    internal void Warn(string warning) => Warnings.Add(warning);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal bool TryGetNew(object old, out object created)
    {
        var hash = RuntimeHelpers.GetHashCode(old);
        var table = _newOf.TableOf(hash);
        if (!_newOf.Concurrent)
        {
            return table.TryGet(old, hash, out created!);
        }
        IdentityMap.Enter(table);
        try
        {
            return table.TryGet(old, hash, out created!);
        }
        finally
        {
            IdentityMap.Exit(table);
        }
    }

    /// <summary>
    /// The new object of an old one that a <see cref="ReferenceCopier"/> rebuilds: the one already made, or one allocated now,
    /// recorded in the identity map and pushed on the work list to be filled. One lookup in the identity map when the
    /// allocation transfers nothing (it is the largest table of a big transfer, and each lookup a cache miss).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal object Rebuild(object old, ReferenceCopier copier, bool allocatesAlone)
    {
        var hash = RuntimeHelpers.GetHashCode(old);
        var table = _newOf.TableOf(hash);
        var concurrent = _newOf.Concurrent;
        if (!allocatesAlone)
        {
            // The allocation transfers other objects first (a custom comparer): the map may change meanwhile, so two lookups;
            // two workers may then both allocate, and the first one's object is the one kept.
            if (TryGetNew(old, out var known))
            {
                return known;
            }
            var allocated = copier.AllocateFor(old, this);
            if (concurrent)
            {
                IdentityMap.Enter(table);
            }
            try
            {
                ref var added = ref table.SlotFor(old, hash, out var exists);
                if (exists)
                {
                    return added!;
                }
                added = allocated;
            }
            finally
            {
                if (concurrent)
                {
                    IdentityMap.Exit(table);
                }
            }
            return Registered(old, allocated, copier);
        }
        object created;
        if (concurrent)
        {
            IdentityMap.Enter(table);
        }
        try
        {
            ref var slot = ref table.SlotFor(old, hash, out var exists);
            if (exists)
            {
                return slot!;
            }
            try
            {
                created = slot = copier.AllocateFor(old, this);
            }
            catch
            {
                table.Remove(old, hash);
                throw;
            }
        }
        finally
        {
            if (concurrent)
            {
                IdentityMap.Exit(table);
            }
        }
        return Registered(old, created, copier);
    }

    /// <summary>Records an old object as its own new object, while it is checked (see <see cref="Copiers.OpenSlotsCopier"/>).</summary>
    internal void MapToItself(object old) => Set(old, old);

    private object Set(object old, object created, bool keepFirst = false)
    {
        var hash = RuntimeHelpers.GetHashCode(old);
        var table = _newOf.TableOf(hash);
        var concurrent = _newOf.Concurrent;
        if (concurrent)
        {
            IdentityMap.Enter(table);
        }
        try
        {
            ref var slot = ref table.SlotFor(old, hash, out var exists);
            if (!exists || !keepFirst)
            {
                slot = created;
            }
            return slot!;
        }
        finally
        {
            if (concurrent)
            {
                IdentityMap.Exit(table);
            }
        }
    }

    /// <summary>Removes an old object from the identity map (its check is over, or its new object could not be allocated).</summary>
    internal void Forget(object old)
    {
        var hash = RuntimeHelpers.GetHashCode(old);
        var table = _newOf.TableOf(hash);
        var concurrent = _newOf.Concurrent;
        if (concurrent)
        {
            IdentityMap.Enter(table);
        }
        try
        {
            table.Remove(old, hash);
        }
        finally
        {
            if (concurrent)
            {
                IdentityMap.Exit(table);
            }
        }
    }

    /// <summary>
    /// How deep fills may nest on the stack (<see cref="TypeCopier.FillsAtOnce"/>): an object is filled as soon as it is
    /// allocated, while it and its old object are in the cache, rather than pushed on the work list and read again later;
    /// past this depth it waits on the work list, so that deep structures never recurse further.
    /// </summary>
    private const int MaxFillDepth = 8;
    private int _fillDepth;

    /// <summary>Records a new object, already in its slot, that still has to be filled: filled now if its copier allows, else later.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal object Registered(object old, object created, ReferenceCopier copier)
    {
        if (copier.FillsAtOnce && _fillDepth < MaxFillDepth)
        {
            ObjectsRebuilt++;
            _fillDepth++;
            try
            {
                copier.Fill(old, created, this);
            }
            catch (Exception e) when (e is not StateTransferException)
            {
                // What the work list says of a fill that failed (see DrainWork).
                throw new StateTransferException($"copying it failed: {e.Message}", old, e);
            }
            finally
            {
                _fillDepth--;
            }
            return created;
        }
        ObjectsRebuilt++;
        _work.Push((copier, old, created));
        return created;
    }

    /// <summary>Records a new object built whole (by a factory transformer); the first one recorded is the one kept.</summary>
    internal object RegisterBuilt(object old, object created)
    {
        ObjectsRebuilt++;
        return Set(old, created, keepFirst: true);
    }

    /// <summary>
    /// Runs an insertion once every object allocated so far is filled (hash codes need filled keys). An insertion transfers
    /// nothing; with <paramref name="concurrent"/> it runs only framework code, and may run beside others on another thread.
    /// </summary>
    internal void Defer(object owner, Action insert, bool concurrent = false) => _deferred.Enqueue((owner, insert, concurrent));

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
