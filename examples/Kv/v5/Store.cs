using System.Diagnostics;
using Molt;

namespace Kv;

/// <summary>A key's value, deadline and access statistics.</summary>
internal sealed class Entry(Value value)
{
    /// <summary>The value: a string, a list or a hash.</summary>
    public Value Value = value;

    /// <summary>When the key expires, in Unix milliseconds; 0 when it does not.</summary>
    public long Deadline;

    /// <summary>
    /// When the key was last read or written, in Unix milliseconds (OBJECT IDLETIME). A key that comes from an
    /// earlier release, which kept no such time, counts as accessed at the update.
    /// </summary>
    public long LastAccess = Clock.NowMs;

    /// <summary>How many times the key was read or written (OBJECT FREQ); keys from an earlier release start at 0.</summary>
    public long AccessCount;

    /// <summary>Records an access by a command.</summary>
    public void Touch(long now)
    {
        LastAccess = now;
        AccessCount++;
    }
}

/// <summary>One part of the keyspace: the keys whose hash falls on it.</summary>
internal sealed class Shard
{
    /// <summary>The keys of this shard.</summary>
    public Dictionary<string, Entry> Keys = [];
}

/// <summary>
/// The keyspace, in <see cref="ShardCount"/> shards by a stable hash of the key, and an index of the keys with a
/// deadline ordered by deadline, which active expiry takes from the front. Every access goes through
/// <see cref="Gate"/>: commands run one at a time, as in Redis, and the lock is never held across an await.
/// </summary>
internal static class Store
{
    /// <summary>How many shards the keyspace has.</summary>
    public const int ShardCount = 16;

    /// <summary>Guards the keyspace and the scan cursors.</summary>
    public static readonly Lock Gate = new();

    private static readonly Shard[] Shards = NewShards();

    /// <summary>The keys with a deadline, by deadline (a set per deadline: keys often share one).</summary>
    private static readonly SortedDictionary<long, HashSet<string>> ExpiryIndex = [];

    private static int indexedKeys;

    /// <summary>The key lists that SCAN cursors walk, by cursor id (the cursor's high 32 bits).</summary>
    private static readonly Dictionary<uint, string[]> ScanSnapshots = [];

    private static uint lastScanId;

    /// <summary>How many keys the release before sharding had, for the state check; -1 when not restructured by this update.</summary>
    [NotMigrated]
    private static int keysBeforeRestructuring = -1;

    /// <summary>How many keys there are (expired ones not yet removed included, as in Redis).</summary>
    public static int Count
    {
        get
        {
            var count = 0;
            foreach (var shard in Shards)
            {
                count += shard.Keys.Count;
            }
            return count;
        }
    }

    /// <summary>How many keys have a deadline.</summary>
    public static int ExpiresCount => indexedKeys;

    /// <summary>
    /// Release 3 held the whole keyspace in one dictionary and its keys with a deadline in a set: its entries
    /// (already rebuilt as this release's) are dealt into the shards, and the expiry index is built from their deadlines.
    /// </summary>
    [AfterTransfer]
    private static void Restructure(OldVersion old)
    {
        var statics = old.Statics("Kv.Store");
        if (!statics.Has("Keys"))
        {
            return; // Already sharded.
        }
        var keys = statics.Get<Dictionary<string, Entry>>("Keys");
        keysBeforeRestructuring = keys.Count;
        foreach (var (key, entry) in keys)
        {
            ShardOf(key).Keys.Add(key, entry);
            if (entry.Deadline != 0)
            {
                Index(key, entry.Deadline);
            }
        }
    }

    [StateCheck(Description = "the shards hold every key of the old keyspace, and every key with a deadline is in the expiry index")]
    private static void ShardsAndIndexAgree()
    {
        if (keysBeforeRestructuring >= 0 && Count != keysBeforeRestructuring)
        {
            throw new InvalidOperationException($"The shards hold {Count} keys; the old keyspace had {keysBeforeRestructuring}.");
        }
        var withDeadline = 0;
        foreach (var shard in Shards)
        {
            foreach (var (key, entry) in shard.Keys)
            {
                if (entry.Deadline == 0)
                {
                    continue;
                }
                withDeadline++;
                if (!ExpiryIndex.TryGetValue(entry.Deadline, out var due) || !due.Contains(key))
                {
                    throw new InvalidOperationException($"Key '{key}' has a deadline but is not in the expiry index.");
                }
            }
        }
        if (withDeadline != indexedKeys)
        {
            throw new InvalidOperationException($"The expiry index has {indexedKeys} keys; {withDeadline} keys have a deadline.");
        }
    }

    private static Shard[] NewShards()
    {
        var shards = new Shard[ShardCount];
        for (var i = 0; i < shards.Length; i++)
        {
            shards[i] = new Shard();
        }
        return shards;
    }

    /// <summary>The shard of a key: FNV-1a over its chars, the same in every process (unlike string.GetHashCode).</summary>
    private static Shard ShardOf(string key)
    {
        var hash = 2166136261u;
        foreach (var ch in key)
        {
            hash = (hash ^ ch) * 16777619u;
        }
        return Shards[hash % ShardCount];
    }

    private static void Index(string key, long deadline)
    {
        if (!ExpiryIndex.TryGetValue(deadline, out var due))
        {
            ExpiryIndex.Add(deadline, due = []);
        }
        if (due.Add(key))
        {
            indexedKeys++;
        }
    }

    private static void Unindex(string key, long deadline)
    {
        if (ExpiryIndex.TryGetValue(deadline, out var due) && due.Remove(key))
        {
            indexedKeys--;
            if (due.Count == 0)
            {
                ExpiryIndex.Remove(deadline);
            }
        }
    }

    /// <summary>The entry of a live key, as a command reads or writes it: the access is recorded.</summary>
    public static Entry? Find(string key, long now)
    {
        var entry = Peek(key, now);
        entry?.Touch(now);
        return entry;
    }

    /// <summary>The entry of a live key, looked at without counting as an access (TTL, TYPE, OBJECT); an expired key is removed on the way (lazy expiry).</summary>
    public static Entry? Peek(string key, long now)
    {
        var shard = ShardOf(key);
        if (!shard.Keys.TryGetValue(key, out var entry))
        {
            return null;
        }
        if (entry.Deadline != 0 && entry.Deadline <= now)
        {
            shard.Keys.Remove(key);
            Unindex(key, entry.Deadline);
            return null;
        }
        return entry;
    }

    /// <summary>Sets a key to an entry, replacing any.</summary>
    public static void Put(string key, Entry entry)
    {
        var shard = ShardOf(key);
        if (shard.Keys.TryGetValue(key, out var replaced) && replaced.Deadline != 0)
        {
            Unindex(key, replaced.Deadline);
        }
        shard.Keys[key] = entry;
        if (entry.Deadline != 0)
        {
            Index(key, entry.Deadline);
        }
    }

    /// <summary>Removes a key; false when there was none.</summary>
    public static bool Remove(string key)
    {
        if (!ShardOf(key).Keys.Remove(key, out var entry))
        {
            return false;
        }
        if (entry.Deadline != 0)
        {
            Unindex(key, entry.Deadline);
        }
        return true;
    }

    /// <summary>Sets or clears (0) the deadline of a key's entry.</summary>
    public static void SetDeadline(string key, Entry entry, long deadline)
    {
        if (entry.Deadline != 0)
        {
            Unindex(key, entry.Deadline);
        }
        entry.Deadline = deadline;
        if (deadline != 0)
        {
            Index(key, deadline);
        }
    }

    /// <summary>Removes every key.</summary>
    public static void Clear()
    {
        foreach (var shard in Shards)
        {
            shard.Keys.Clear();
        }
        ExpiryIndex.Clear();
        indexedKeys = 0;
    }

    /// <summary>The live keys matching a pattern (KEYS).</summary>
    public static List<string> Matching(string pattern, long now)
    {
        var all = pattern == "*";
        var keys = new List<string>();
        foreach (var shard in Shards)
        {
            foreach (var (key, entry) in shard.Keys)
            {
                if ((entry.Deadline == 0 || entry.Deadline > now) && (all || Glob.IsMatch(pattern, key)))
                {
                    keys.Add(key);
                }
            }
        }
        return keys;
    }

    /// <summary>
    /// The keys a SCAN cursor walks. Cursor 0 takes a snapshot of the key names; the cursor is its id and a
    /// position in it, so that every key present for the whole scan is returned once, whatever changes meanwhile.
    /// </summary>
    public static string[]? ScanKeys(ulong cursor, out uint id)
    {
        if (cursor == 0)
        {
            id = ++lastScanId == 0 ? ++lastScanId : lastScanId;
            var snapshot = new string[Count];
            var at = 0;
            foreach (var shard in Shards)
            {
                shard.Keys.Keys.CopyTo(snapshot, at);
                at += shard.Keys.Count;
            }
            ScanSnapshots[id] = snapshot;
            // Scans abandoned half way are forgotten: the 16 most recent are kept.
            ScanSnapshots.Remove(id - 16);
            return snapshot;
        }
        id = (uint)(cursor >> 32);
        return ScanSnapshots.GetValueOrDefault(id);
    }

    /// <summary>Forgets a finished scan.</summary>
    public static void EndScan(uint id) => ScanSnapshots.Remove(id);

    /// <summary>
    /// A round of active expiry: removes the keys at the front of the expiry index whose deadline has passed,
    /// about a millisecond's work a round at most.
    /// </summary>
    public static int ExpireCycle(long now)
    {
        var started = Stopwatch.GetTimestamp();
        var removed = 0;
        while (ExpiryIndex.Count > 0 && Stopwatch.GetElapsedTime(started).TotalMilliseconds < 1)
        {
            var (deadline, due) = ExpiryIndex.First();
            if (deadline > now)
            {
                break;
            }
            foreach (var key in due)
            {
                ShardOf(key).Keys.Remove(key);
                removed++;
            }
            indexedKeys -= due.Count;
            ExpiryIndex.Remove(deadline);
        }
        return removed;
    }
}
