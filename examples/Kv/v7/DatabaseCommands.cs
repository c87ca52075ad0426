namespace Kv;

/// <summary>Release 7's databases as the code every release shares sees them: the sixteen of its store.</summary>
internal static partial class Databases
{
    static partial void CountDatabases(ref int count) => count = Store.DatabaseCount;

    static partial void SelectedDatabase(ref int index) => index = Store.SelectedIndex;

    static partial void SelectDatabase(int index) => Store.Select(index);
}

/// <summary>The commands between databases that release 7 adds: MOVE and SWAPDB.</summary>
internal static partial class Commands
{
    /// <summary>A database number argument as Redis reads it; false with the error answered when it is none or out of range.</summary>
    private static bool TryParseDatabase(Connection c, int index, string notANumber, out int db)
    {
        db = 0;
        if (!Number.TryParseInt64(c.Arg(index), out var value))
        {
            c.Output.Error(notANumber);
            return false;
        }
        if (value < 0 || value >= Databases.Count)
        {
            c.Output.Error("ERR DB index is out of range");
            return false;
        }
        db = (int)value;
        return true;
    }

    /// <summary>
    /// MOVE key db: the entry itself moves, with its deadline and access statistics; 0 when the key is missing or the
    /// target database has it. A list that lands on a key clients of the target database are blocked on serves them.
    /// </summary>
    private static void Move(Connection c, long now)
    {
        if (!TryParseDatabase(c, 2, NotInteger, out var target))
        {
            return;
        }
        if (target == c.Db)
        {
            c.Output.Error("ERR source and destination objects are the same");
            return;
        }
        var key = c.Key(1);
        var entry = Store.Find(key, now);
        if (entry is null)
        {
            c.Output.Integer(0);
            return;
        }
        Databases.Select(target);
        try
        {
            if (Store.Peek(key, now) is not null)
            {
                c.Output.Integer(0);
                return;
            }
            Store.Put(key, entry);
            Databases.Select(c.Db);
            Store.Remove(key);
            Databases.Select(target);
            c.Output.Integer(1);
            Transactions.Touch(key); // The command loop touches the key in the client's database; Redis touches both.
            ServeBlocked(key, now);
        }
        finally
        {
            Databases.Select(c.Db);
        }
    }

    /// <summary>
    /// SWAPDB index1 index2: the two databases exchange their keys; clients that selected one see the other's. As in Redis,
    /// a watch on a key that exists on either side is touched, and clients blocked on a key that is now a list are served.
    /// </summary>
    private static void SwapDb(Connection c, long now)
    {
        if (!TryParseDatabase(c, 1, "ERR invalid first DB index", out var first)
            || !TryParseDatabase(c, 2, "ERR invalid second DB index", out var second))
        {
            return;
        }
        if (Transactions.AnyWatched)
        {
            TouchWatchedAcrossSwap(first, second, now);
            TouchWatchedAcrossSwap(second, first, now);
        }
        Store.Swap(first, second);
        c.Output.Ok();
        foreach (var index in first == second ? [first] : new[] { first, second })
        {
            Databases.Select(index);
            foreach (var key in Blocking.KeysWaitedOnIn(index))
            {
                ServeBlocked(key, now);
            }
        }
        Databases.Select(c.Db);
    }

    /// <summary>Touches the watches on keys of <paramref name="watched"/> that exist there or in <paramref name="other"/>, before the swap.</summary>
    private static void TouchWatchedAcrossSwap(int watched, int other, long now)
    {
        Transactions.TouchWatchedIn(watched, key =>
        {
            Databases.Select(watched);
            var exists = Store.Peek(key, now) is not null;
            Databases.Select(other);
            return exists || Store.Peek(key, now) is not null;
        });
    }
}
