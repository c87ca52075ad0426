using System.Diagnostics;

namespace Kv;

/// <summary>
/// The keyspace. Every access goes through <see cref="Gate"/>: commands run one at a time, as in Redis, and
/// the lock is never held across an await.
/// </summary>
internal static partial class Store
{
    /// <summary>Guards the keyspace and the scan cursors.</summary>
    public static readonly Lock Gate = new();

    private static readonly Dictionary<string, Entry> Keys = [];

    /// <summary>The keys that have a deadline, for active expiry.</summary>
    private static readonly HashSet<string> WithDeadline = [];

    /// <summary>The keys with a deadline that the expire unit has yet to look at in its current pass.</summary>
    private static readonly Queue<string> ExpiryWork = new();

    /// <summary>How many keys there are (expired ones not yet removed included, as in Redis).</summary>
    public static int Count => Keys.Count;

    /// <summary>How many keys have a deadline.</summary>
    public static int ExpiresCount => WithDeadline.Count;

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
        if (!Keys.TryGetValue(key, out var entry))
        {
            return null;
        }
        if (entry.Deadline != 0 && entry.Deadline <= now)
        {
            Remove(key);
            return null;
        }
        return entry;
    }

    /// <summary>Sets a key to an entry, replacing any.</summary>
    public static void Put(string key, Entry entry)
    {
        Keys[key] = entry;
        if (entry.Deadline != 0)
        {
            WithDeadline.Add(key);
        }
        else
        {
            WithDeadline.Remove(key);
        }
    }

    /// <summary>Removes a key; false when there was none.</summary>
    public static bool Remove(string key)
    {
        if (!Keys.Remove(key, out var entry))
        {
            return false;
        }
        if (entry.Deadline != 0)
        {
            WithDeadline.Remove(key);
        }
        return true;
    }

    /// <summary>Sets or clears (0) the deadline of a key's entry.</summary>
    public static void SetDeadline(string key, Entry entry, long deadline)
    {
        entry.Deadline = deadline;
        if (deadline != 0)
        {
            WithDeadline.Add(key);
        }
        else
        {
            WithDeadline.Remove(key);
        }
    }

    /// <summary>Removes every key.</summary>
    public static void Clear()
    {
        Keys.Clear();
        WithDeadline.Clear();
        ExpiryWork.Clear();
    }

    /// <summary>The live keys matching a pattern (KEYS).</summary>
    public static List<string> Matching(string pattern, long now)
    {
        var all = pattern == "*";
        var keys = new List<string>();
        foreach (var (key, entry) in Keys)
        {
            if ((entry.Deadline == 0 || entry.Deadline > now) && (all || Glob.IsMatch(pattern, key)))
            {
                keys.Add(key);
            }
        }
        return keys;
    }

    /// <summary>The names of every key, for a SCAN snapshot.</summary>
    private static string[] KeyNames() => Keys.Keys.ToArray();

    /// <summary>
    /// A round of active expiry: looks at the keys with a deadline, a bounded number (about a millisecond's
    /// work) a round, taking up its pass where the previous round left it.
    /// </summary>
    public static int ExpireCycle(long now)
    {
        if (ExpiryWork.Count == 0)
        {
            foreach (var key in WithDeadline)
            {
                ExpiryWork.Enqueue(key);
            }
        }
        var started = Stopwatch.GetTimestamp();
        var removed = 0;
        for (var looked = 1; ExpiryWork.TryDequeue(out var key); looked++)
        {
            if (Keys.TryGetValue(key, out var entry) && entry.Deadline != 0 && entry.Deadline <= now)
            {
                Remove(key);
                removed++;
            }
            if (looked % 256 == 0 && Stopwatch.GetElapsedTime(started).TotalMilliseconds >= 1)
            {
                break;
            }
        }
        return removed;
    }
}
