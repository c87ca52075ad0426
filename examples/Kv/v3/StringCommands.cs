namespace Kv;

/// <summary>The commands of strings: GET, SET, INCR/DECR/INCRBY/DECRBY, MGET, MSET.</summary>
internal static partial class Commands
{
    /// <summary>Redis's error for a command on a key that holds another type.</summary>
    private const string WrongType = "WRONGTYPE Operation against a key holding the wrong kind of value";

    private static void Get(Connection c, long now)
    {
        var entry = Store.Find(c.Key(1), now);
        if (entry is not null && entry.Value is not StringValue)
        {
            c.Output.Error(WrongType);
            return;
        }
        ReplyValue(c, entry);
    }

    /// <summary>SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL].</summary>
    private static void Set(Connection c, long now)
    {
        bool nx = false, xx = false, get = false, keepTtl = false, hasExpiry = false;
        long deadline = 0;
        for (var i = 3; i < c.ArgCount; i++)
        {
            if (c.Is(i, "NX") && !xx)
            {
                nx = true;
            }
            else if (c.Is(i, "XX") && !nx)
            {
                xx = true;
            }
            else if (c.Is(i, "GET"))
            {
                get = true;
            }
            else if (c.Is(i, "KEEPTTL") && !hasExpiry)
            {
                keepTtl = true;
            }
            else if ((c.Is(i, "EX") || c.Is(i, "PX") || c.Is(i, "EXAT") || c.Is(i, "PXAT")) && !hasExpiry && !keepTtl && i + 1 < c.ArgCount)
            {
                hasExpiry = true;
                var unit = c.Is(i, "EX") || c.Is(i, "EXAT") ? 1000 : 1;
                var absolute = c.Is(i, "EXAT") || c.Is(i, "PXAT");
                i++;
                if (!Number.TryParseInt64(c.Arg(i), out var amount))
                {
                    c.Output.Error(NotInteger);
                    return;
                }
                if (amount <= 0 || amount > long.MaxValue / unit || (!absolute && amount * unit > long.MaxValue - now))
                {
                    c.Output.Error("ERR invalid expire time in 'set' command");
                    return;
                }
                deadline = absolute ? amount * unit : now + amount * unit;
            }
            else
            {
                c.Output.Error(SyntaxError);
                return;
            }
        }
        var key = c.Key(1);
        var existing = Store.Find(key, now);
        if (get && existing is not null && existing.Value is not StringValue)
        {
            c.Output.Error(WrongType);
            return;
        }
        if ((nx && existing is not null) || (xx && existing is null))
        {
            if (get)
            {
                ReplyValue(c, existing);
            }
            else
            {
                c.Output.Null();
            }
            return;
        }
        if (keepTtl && existing is not null)
        {
            deadline = existing.Deadline;
        }
        Store.Put(key, new Entry(new StringValue(c.Value(2))) { Deadline = deadline });
        if (get)
        {
            ReplyValue(c, existing);
        }
        else
        {
            c.Output.Ok();
        }
    }

    /// <summary>A string's value, or null for no key or a key of another type (as MGET answers).</summary>
    private static void ReplyValue(Connection c, Entry? entry)
    {
        if (entry?.Value is StringValue value)
        {
            c.Output.Bulk(value.Bytes);
        }
        else
        {
            c.Output.Null();
        }
    }

    private static void IncrByArgument(Connection c, bool negate, long now)
    {
        if (!Number.TryParseInt64(c.Arg(2), out var delta))
        {
            c.Output.Error(NotInteger);
            return;
        }
        if (negate && delta == long.MinValue)
        {
            c.Output.Error("ERR decrement would overflow");
            return;
        }
        IncrBy(c, negate ? -delta : delta, now);
    }

    private static void IncrBy(Connection c, long delta, long now)
    {
        var key = c.Key(1);
        var entry = Store.Find(key, now);
        long value = 0;
        if (entry is not null && entry.Value is not StringValue)
        {
            c.Output.Error(WrongType);
            return;
        }
        if (entry is not null && !Number.TryParseInt64(((StringValue)entry.Value).Bytes, out value))
        {
            c.Output.Error(NotInteger);
            return;
        }
        if ((delta > 0 && value > long.MaxValue - delta) || (delta < 0 && value < long.MinValue - delta))
        {
            c.Output.Error("ERR increment or decrement would overflow");
            return;
        }
        value += delta;
        if (entry is null)
        {
            Store.Put(key, new Entry(new StringValue(Number.Format(value))));
        }
        else
        {
            ((StringValue)entry.Value).Bytes = Number.Format(value); // The deadline stays.
        }
        c.Output.Integer(value);
    }

    private static void MGet(Connection c, long now)
    {
        c.Output.ArrayHeader(c.ArgCount - 1);
        for (var i = 1; i < c.ArgCount; i++)
        {
            ReplyValue(c, Store.Find(c.Key(i), now));
        }
    }

    private static void MSet(Connection c, long now)
    {
        if (c.ArgCount < 3 || c.ArgCount % 2 == 0)
        {
            c.Output.Error("ERR wrong number of arguments for 'mset' command");
            return;
        }
        for (var i = 1; i < c.ArgCount; i += 2)
        {
            Store.Put(c.Key(i), new Entry(new StringValue(c.Value(i + 1))));
        }
        c.Output.Ok();
    }
}
