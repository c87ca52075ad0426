using Molt;

namespace Kv;

/// <summary>The update from release 3: its one dictionary dealt into the shards, and the check that nothing was lost.</summary>
internal static partial class Store
{
    /// <summary>How many keys the release before sharding had, for the state check; -1 when not restructured by this update.</summary>
    [NotMigrated]
    private static int keysBeforeRestructuring = -1;

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
        // Release 3's active expiry worked from a set of the keys with a deadline and the part of it a pass had yet to
        // visit; the deadline index built below replaces both, so they are read only to say they are dealt with.
        _ = statics.Get<HashSet<string>>("WithDeadline");
        _ = statics.Get<Queue<string>>("ExpiryWork");
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
}
