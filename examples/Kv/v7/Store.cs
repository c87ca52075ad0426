using System.Diagnostics;

namespace Kv;

/// <summary>One part of a database: the keys whose hash falls on it.</summary>
internal sealed class Shard
{
    /// <summary>The keys of this shard.</summary>
    public Dictionary<string, Entry> Keys = [];
}

/// <summary>
/// One of the keyspace's databases (SELECT 0-15): its keys in <see cref="Store.ShardCount"/> shards by a stable hash of the
/// key, and an index of its keys with a deadline ordered by deadline, which active expiry takes from the front.
/// </summary>
internal sealed class Database
{
    /// <summary>The shards of this database's keys.</summary>
    public Shard[] Shards = NewShards();

    /// <summary>This database's keys with a deadline, by deadline (a set per deadline: keys often share one).</summary>
    public SortedDictionary<long, HashSet<string>> ExpiryIndex = [];

    /// <summary>How many keys <see cref="ExpiryIndex"/> holds.</summary>
    public int IndexedKeys;

    /// <summary>How many keys there are (expired ones not yet removed included, as in Redis).</summary>
    public int Count
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

    private static Shard[] NewShards()
    {
        var shards = new Shard[Store.ShardCount];
        for (var i = 0; i < shards.Length; i++)
        {
            shards[i] = new Shard();
        }
        return shards;
    }

    /// <summary>The shard of a key: FNV-1a over its chars, the same in every process (unlike string.GetHashCode).</summary>
    public Shard ShardOf(string key)
    {
        var hash = 2166136261u;
        foreach (var ch in key)
        {
            hash = (hash ^ ch) * 16777619u;
        }
        return Shards[hash % Store.ShardCount];
    }

    public void Index(string key, long deadline)
    {
        if (!ExpiryIndex.TryGetValue(deadline, out var due))
        {
            ExpiryIndex.Add(deadline, due = []);
        }
        if (due.Add(key))
        {
            IndexedKeys++;
        }
    }

    public void Unindex(string key, long deadline)
    {
        if (ExpiryIndex.TryGetValue(deadline, out var due) && due.Remove(key))
        {
            IndexedKeys--;
            if (due.Count == 0)
            {
                ExpiryIndex.Remove(deadline);
            }
        }
    }

    /// <summary>The entry of a live key; an expired key is removed on the way (lazy expiry).</summary>
    public Entry? Peek(string key, long now)
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
    public void Put(string key, Entry entry)
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
    public bool Remove(string key)
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

    /// <summary>Removes every key.</summary>
    public void Clear()
    {
        foreach (var shard in Shards)
        {
            shard.Keys.Clear();
        }
        ExpiryIndex.Clear();
        IndexedKeys = 0;
    }

    /// <summary>The live keys matching a pattern (KEYS).</summary>
    public List<string> Matching(string pattern, long now)
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

    /// <summary>The names of every key, for a SCAN snapshot.</summary>
    public string[] KeyNames()
    {
        var names = new string[Count];
        var at = 0;
        foreach (var shard in Shards)
        {
            shard.Keys.Keys.CopyTo(names, at);
            at += shard.Keys.Count;
        }
        return names;
    }

    /// <summary>Removes the keys at the front of the expiry index whose deadline has passed, until <paramref name="budgetEnds"/> (a <see cref="Stopwatch"/> timestamp).</summary>
    public int ExpireDue(long now, long budgetEnds)
    {
        var removed = 0;
        while (ExpiryIndex.Count > 0 && Stopwatch.GetTimestamp() < budgetEnds)
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
            IndexedKeys -= due.Count;
            ExpiryIndex.Remove(deadline);
        }
        return removed;
    }
}

/// <summary>
/// The keyspace: <see cref="DatabaseCount"/> databases, of which commands read and write the selected one (the command
/// loop selects the connection's before each command, as Redis's clients each have their own). Every access goes through
/// <see cref="Gate"/>: commands run one at a time, as in Redis, and the lock is never held across an await.
/// </summary>
internal static partial class Store
{
    /// <summary>How many databases there are (SELECT 0 to 15), as Redis's default configuration has.</summary>
    public const int DatabaseCount = 16;

    /// <summary>How many shards each database has.</summary>
    public const int ShardCount = 16;

    /// <summary>Guards the keyspace and the scan cursors.</summary>
    public static readonly Lock Gate = new();

    /// <summary>The databases, by number: SWAPDB exchanges two of them.</summary>
    private static readonly Database[] Databases = NewDatabases();

    /// <summary>The number of the database commands read and write.</summary>
    private static int selectedIndex;

    /// <summary>The database active expiry starts its next round at.</summary>
    private static int expiryStart;

    /// <summary>The database commands read and write.</summary>
    private static Database Selected => Databases[selectedIndex];

    /// <summary>The number of the database commands read and write (SELECT).</summary>
    public static int SelectedIndex => selectedIndex;

    /// <summary>How many keys the selected database has (expired ones not yet removed included, as in Redis).</summary>
    public static int Count => Selected.Count;

    /// <summary>How many keys of the selected database have a deadline.</summary>
    public static int ExpiresCount => Selected.IndexedKeys;

    private static Database[] NewDatabases()
    {
        var databases = new Database[DatabaseCount];
        for (var i = 0; i < databases.Length; i++)
        {
            databases[i] = new Database();
        }
        return databases;
    }

    /// <summary>Makes database <paramref name="index"/> (0 to <see cref="DatabaseCount"/> - 1) the one commands read and write.</summary>
    public static void Select(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, DatabaseCount);
        selectedIndex = index;
    }

    /// <summary>How many keys database <paramref name="index"/> has, and how many of them have a deadline (INFO keyspace).</summary>
    public static (int Keys, int Expires) CountIn(int index) => (Databases[index].Count, Databases[index].IndexedKeys);

    /// <summary>Exchanges the contents of two databases (SWAPDB): clients that selected one see the other's keys.</summary>
    public static void Swap(int first, int second) =>
        (Databases[first], Databases[second]) = (Databases[second], Databases[first]);

    /// <summary>Removes every key of every database (FLUSHALL).</summary>
    public static void ClearAll()
    {
        foreach (var database in Databases)
        {
            database.Clear();
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
    public static Entry? Peek(string key, long now) => Selected.Peek(key, now);

    /// <summary>Sets a key to an entry, replacing any.</summary>
    public static void Put(string key, Entry entry) => Selected.Put(key, entry);

    /// <summary>Removes a key; false when there was none.</summary>
    public static bool Remove(string key) => Selected.Remove(key);

    /// <summary>Sets or clears (0) the deadline of a key's entry.</summary>
    public static void SetDeadline(string key, Entry entry, long deadline)
    {
        var database = Selected;
        if (entry.Deadline != 0)
        {
            database.Unindex(key, entry.Deadline);
        }
        entry.Deadline = deadline;
        if (deadline != 0)
        {
            database.Index(key, deadline);
        }
    }

    /// <summary>Removes every key of the selected database (FLUSHDB).</summary>
    public static void Clear() => Selected.Clear();

    /// <summary>The live keys of the selected database matching a pattern (KEYS).</summary>
    public static List<string> Matching(string pattern, long now) => Selected.Matching(pattern, now);

    /// <summary>The names of every key of the selected database, for a SCAN snapshot.</summary>
    private static string[] KeyNames() => Selected.KeyNames();

    /// <summary>
    /// A round of active expiry over every database: removes the keys at the front of each expiry index whose deadline
    /// has passed, about a millisecond's work a round at most.
    /// </summary>
    public static int ExpireCycle(long now)
    {
        var budgetEnds = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 1000;
        var removed = 0;
        // Each round starts at the next database, so that one with many due keys does not starve the others.
        expiryStart = (expiryStart + 1) % DatabaseCount;
        for (var i = 0; i < DatabaseCount; i++)
        {
            removed += Databases[(expiryStart + i) % DatabaseCount].ExpireDue(now, budgetEnds);
        }
        return removed;
    }
}
