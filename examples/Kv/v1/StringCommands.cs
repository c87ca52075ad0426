namespace Kv;

/// <summary>The commands of strings: GET, SET, INCR/DECR/INCRBY/DECRBY, MGET, MSET.</summary>
internal static partial class Commands
{
    private static void Get(Connection c, long now)
    {
        var entry = Store.Find(c.Key(1), now);
        if (entry is null)
        {
            c.Output.Null();
        }
        else
        {
            c.Output.Bulk(entry.Value);
        }
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
            deadline = existing.ExpiresAt;
        }
        Store.Put(key, new Entry { Value = c.Value(2), ExpiresAt = deadline });
        if (get)
        {
            ReplyValue(c, existing);
        }
        else
        {
            c.Output.Ok();
        }
    }

    private static void ReplyValue(Connection c, Entry? entry)
    {
        if (entry is null)
        {
            c.Output.Null();
        }
        else
        {
            c.Output.Bulk(entry.Value);
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
        if (entry is not null && !Number.TryParseInt64(entry.Value, out value))
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
            Store.Put(key, new Entry { Value = Number.Format(value) });
        }
        else
        {
            entry.Value = Number.Format(value); // The deadline stays.
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
            Store.Put(c.Key(i), new Entry { Value = c.Value(i + 1) });
        }
        c.Output.Ok();
    }
}
