using Molt;

namespace Kv;

/// <summary>
/// The update from a release of one database (Kv.State 5.0.0, kv 5 and 6): its keyspace becomes database 0, and the check
/// that nothing was lost.
/// </summary>
internal static partial class Store
{
    /// <summary>Whether this update brought the keyspace of a release of one database, for the state check.</summary>
    [NotMigrated]
    private static bool fromOneDatabase;

    /// <summary>
    /// Releases 4 to 6 held one database, in static shards and an expiry index of <c>Store</c>: they become database 0's
    /// (the shards' entries already rebuilt as this release's; the index, of framework types, the same object), and the
    /// other fifteen databases start empty.
    /// </summary>
    [AfterTransfer]
    private static void IntoDatabaseZero(OldVersion old)
    {
        var statics = old.Statics("Kv.Store");
        if (!statics.Has("Shards"))
        {
            return; // Already in databases.
        }
        var zero = Databases[0];
        zero.Shards = statics.Get<Shard[]>("Shards");
        zero.ExpiryIndex = statics.Get<SortedDictionary<long, HashSet<string>>>("ExpiryIndex");
        zero.IndexedKeys = statics.Get<int>("indexedKeys");
        fromOneDatabase = true;
    }

    [StateCheck(Description = "every key is in the shard its hash names, and in each database every key with a deadline is in its expiry index; from a release of one database, the other databases are empty")]
    private static void DatabasesAgree()
    {
        if (fromOneDatabase)
        {
            for (var i = 1; i < DatabaseCount; i++)
            {
                if (Databases[i].Count != 0)
                {
                    throw new InvalidOperationException($"Database {i} holds {Databases[i].Count} keys; the old keyspace had one database.");
                }
            }
        }
        for (var i = 0; i < DatabaseCount; i++)
        {
            var database = Databases[i];
            var withDeadline = 0;
            foreach (var shard in database.Shards)
            {
                foreach (var (key, entry) in shard.Keys)
                {
                    if (!ReferenceEquals(database.ShardOf(key), shard))
                    {
                        throw new InvalidOperationException($"Key '{key}' of database {i} is not in the shard its hash names.");
                    }
                    if (entry.Deadline == 0)
                    {
                        continue;
                    }
                    withDeadline++;
                    if (!database.ExpiryIndex.TryGetValue(entry.Deadline, out var due) || !due.Contains(key))
                    {
                        throw new InvalidOperationException($"Key '{key}' of database {i} has a deadline but is not in its expiry index.");
                    }
                }
            }
            if (withDeadline != database.IndexedKeys)
            {
                throw new InvalidOperationException($"Database {i}'s expiry index has {database.IndexedKeys} keys; {withDeadline} keys have a deadline.");
            }
        }
    }
}
