namespace Kv;

/// <summary>
/// The commands on keys that release 6 adds: RENAME, RENAMENX, COPY, RANDOMKEY, EXPIREAT, PEXPIREAT, EXPIRETIME,
/// PEXPIRETIME, and TIME.
/// </summary>
internal static partial class Commands
{
    /// <summary>Executes a key command added in release 6; false when the name is none of them.</summary>
    private static bool ExecuteMoreKeyCommand(Connection c, ReadOnlySpan<char> name, long now)
    {
        switch (name)
        {
            case "RENAME": if (Arity(c, 3, "rename")) Rename(c, onlyIfNew: false, now); break;
            case "RENAMENX": if (Arity(c, 3, "renamenx")) Rename(c, onlyIfNew: true, now); break;
            case "COPY": if (Arity(c, -3, "copy")) Copy(c, now); break;
            case "RANDOMKEY": if (Arity(c, 1, "randomkey")) RandomKey(c, now); break;
            case "EXPIREAT": if (Arity(c, -3, "expireat")) ExpireAt(c, 1000, "expireat", now); break;
            case "PEXPIREAT": if (Arity(c, -3, "pexpireat")) ExpireAt(c, 1, "pexpireat", now); break;
            case "EXPIRETIME": if (Arity(c, 2, "expiretime")) ExpireTime(c, inSeconds: true, now); break;
            case "PEXPIRETIME": if (Arity(c, 2, "pexpiretime")) ExpireTime(c, inSeconds: false, now); break;
            case "TIME": if (Arity(c, 1, "time")) Time(c); break;
            default:
                return false;
        }
        return true;
    }

    /// <summary>
    /// RENAME / RENAMENX source destination: the entry itself moves, with its deadline and access statistics; a list
    /// that lands on a key clients are blocked on serves them, as a push does.
    /// </summary>
    private static void Rename(Connection c, bool onlyIfNew, long now)
    {
        string source = c.Key(1), destination = c.Key(2);
        var entry = Store.Find(source, now);
        if (entry is null)
        {
            c.Output.Error("ERR no such key");
            return;
        }
        if (source == destination)
        {
            if (onlyIfNew) c.Output.Integer(0);
            else c.Output.Ok();
            return;
        }
        if (onlyIfNew && Store.Peek(destination, now) is not null)
        {
            c.Output.Integer(0);
            return;
        }
        Store.Remove(source);
        Store.Put(destination, entry);
        if (onlyIfNew) c.Output.Integer(1);
        else c.Output.Ok();
        ServeBlocked(destination, now);
    }

    /// <summary>
    /// COPY source destination [DB db] [REPLACE]: 1 when copied (value and deadline), 0 when the source is missing or the
    /// destination exists without REPLACE. A database past the release's (<see cref="Databases.Count"/>) is out of range, as SELECT says.
    /// </summary>
    private static void Copy(Connection c, long now)
    {
        var replace = false;
        var target = c.Db;
        for (var i = 3; i < c.ArgCount; i++)
        {
            if (c.Is(i, "REPLACE"))
            {
                replace = true;
            }
            else if (c.Is(i, "DB") && i + 1 < c.ArgCount)
            {
                if (!Number.TryParseInt64(c.Arg(++i), out var db))
                {
                    c.Output.Error(NotInteger);
                    return;
                }
                if (db < 0 || db >= Databases.Count)
                {
                    c.Output.Error("ERR DB index is out of range");
                    return;
                }
                target = (int)db;
            }
            else
            {
                c.Output.Error(SyntaxError);
                return;
            }
        }
        string source = c.Key(1), destination = c.Key(2);
        if (source == destination && target == c.Db)
        {
            c.Output.Error("ERR source and destination objects are the same");
            return;
        }
        var entry = Store.Find(source, now);
        Databases.Select(target);
        try
        {
            if (entry is null || (!replace && Store.Peek(destination, now) is not null))
            {
                c.Output.Integer(0);
                return;
            }
            Store.Put(destination, new Entry(CopyOf(entry.Value)) { Deadline = entry.Deadline });
            c.Output.Integer(1);
            if (target != c.Db)
            {
                Transactions.Touch(destination); // The command loop touches the keys it names in the client's database only.
            }
            ServeBlocked(destination, now);
        }
        finally
        {
            Databases.Select(c.Db);
        }
    }

    /// <summary>A value of its own: no later write to one shows in the other. Elements are never changed in place, so they are shared; a string's bytes are (SETRANGE, SETBIT), so they are copied.</summary>
    private static Value CopyOf(Value value) => value switch
    {
        StringValue s => new StringValue(s.Bytes.ToArray()),
        ListValue l => new ListValue { Items = new LinkedList<byte[]>(l.Items) },
        HashValue h => new HashValue { Fields = new Dictionary<string, byte[]>(h.Fields) },
        SetValue s => new SetValue { Members = new HashSet<string>(s.Members) },
        _ => throw new InvalidOperationException($"COPY of an unknown type {value.GetType()}"),
    };

    private static void RandomKey(Connection c, long now)
    {
        var keys = Store.Matching("*", now);
        if (keys.Count == 0)
        {
            c.Output.Null();
        }
        else
        {
            c.Output.Bulk(keys[Random.Shared.Next(keys.Count)]);
        }
    }

    /// <summary>EXPIREAT / PEXPIREAT key timestamp [NX|XX|GT|LT]: as EXPIRE, the deadline given as a moment; one past removes the key.</summary>
    private static void ExpireAt(Connection c, long unit, string name, long now)
    {
        // Redis reads the options before the timestamp.
        if (!ExpiryOptions(c, out var options))
        {
            return;
        }
        if (!Number.TryParseInt64(c.Arg(2), out var moment))
        {
            c.Output.Error(NotInteger);
            return;
        }
        if (moment > long.MaxValue / unit || moment < long.MinValue / unit)
        {
            c.Output.Error($"ERR invalid expire time in '{name}' command");
            return;
        }
        SetExpiry(c, moment * unit, options, now);
    }

    /// <summary>EXPIRETIME / PEXPIRETIME key: the deadline as a Unix time (seconds rounded, as Redis does), -1 for none, -2 for no key.</summary>
    private static void ExpireTime(Connection c, bool inSeconds, long now)
    {
        var entry = Store.Peek(c.Key(1), now);
        c.Output.Integer(entry is null ? -2 : entry.Deadline == 0 ? -1 : inSeconds ? (entry.Deadline + 500) / 1000 : entry.Deadline);
    }

    /// <summary>TIME: the server's clock, [Unix seconds, microseconds], as bulk strings.</summary>
    private static void Time(Connection c)
    {
        var micros = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / 10;
        c.Output.ArrayHeader(2);
        c.Output.BulkInteger((ulong)(micros / 1_000_000));
        c.Output.BulkInteger((ulong)(micros % 1_000_000));
    }
}
