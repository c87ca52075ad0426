namespace Kv;

/// <summary>The commands on keys of any type: DEL/UNLINK, EXISTS, EXPIRE/PEXPIRE, TTL/PTTL, PERSIST.</summary>
internal static partial class Commands
{
    private static void Del(Connection c, long now)
    {
        var removed = 0;
        for (var i = 1; i < c.ArgCount; i++)
        {
            var key = c.Key(i);
            if (Store.Peek(key, now) is not null && Store.Remove(key))
            {
                removed++;
            }
        }
        c.Output.Integer(removed);
    }

    private static void Exists(Connection c, long now)
    {
        var found = 0;
        for (var i = 1; i < c.ArgCount; i++)
        {
            if (Store.Peek(c.Key(i), now) is not null)
            {
                found++;
            }
        }
        c.Output.Integer(found);
    }

    /// <summary>EXPIRE / PEXPIRE key amount [NX|XX|GT|LT].</summary>
    private static void Expire(Connection c, long unit, string name, long now)
    {
        if (!Number.TryParseInt64(c.Arg(2), out var amount))
        {
            c.Output.Error(NotInteger);
            return;
        }
        if (!ExpiryOptions(c, out var options))
        {
            return;
        }
        if (amount > long.MaxValue / unit || amount < long.MinValue / unit
            || (amount > 0 && amount * unit > long.MaxValue - now))
        {
            c.Output.Error($"ERR invalid expire time in '{name}' command");
            return;
        }
        SetExpiry(c, now + amount * unit, options, now);
    }

    /// <summary>The NX, XX, GT and LT options of EXPIRE and its kin, from the fourth argument on; false, answered, when they are wrong.</summary>
    private static bool ExpiryOptions(Connection c, out (bool Nx, bool Xx, bool Gt, bool Lt) options)
    {
        options = default;
        for (var i = 3; i < c.ArgCount; i++)
        {
            if (c.Is(i, "NX")) options.Nx = true;
            else if (c.Is(i, "XX")) options.Xx = true;
            else if (c.Is(i, "GT")) options.Gt = true;
            else if (c.Is(i, "LT")) options.Lt = true;
            else
            {
                c.Output.Error($"ERR Unsupported option {Printable(c.Arg(i))}");
                return false;
            }
        }
        if (options.Nx && (options.Xx || options.Gt || options.Lt))
        {
            c.Output.Error("ERR NX and XX, GT or LT options at the same time are not compatible");
            return false;
        }
        if (options.Gt && options.Lt)
        {
            c.Output.Error("ERR GT and LT options at the same time are not compatible");
            return false;
        }
        return true;
    }

    /// <summary>Gives the key (argument 1) the deadline unless the options forbid it; one already past removes the key. Answers 1 or 0.</summary>
    private static void SetExpiry(Connection c, long deadline, (bool Nx, bool Xx, bool Gt, bool Lt) options, long now)
    {
        var key = c.Key(1);
        var entry = Store.Find(key, now);
        if (entry is null)
        {
            c.Output.Integer(0);
            return;
        }
        var current = entry.Deadline;
        // No deadline counts as an infinite one for GT and LT, as in Redis.
        if ((options.Nx && current != 0) || (options.Xx && current == 0) || (options.Gt && (current == 0 || deadline <= current))
            || (options.Lt && current != 0 && deadline >= current))
        {
            c.Output.Integer(0);
            return;
        }
        if (deadline <= now)
        {
            Store.Remove(key);
        }
        else
        {
            Store.SetDeadline(key, entry, deadline);
        }
        c.Output.Integer(1);
    }

    private static void Ttl(Connection c, bool inSeconds, long now)
    {
        var entry = Store.Peek(c.Key(1), now);
        if (entry is null)
        {
            c.Output.Integer(-2);
        }
        else if (entry.Deadline == 0)
        {
            c.Output.Integer(-1);
        }
        else
        {
            var left = entry.Deadline - now;
            c.Output.Integer(inSeconds ? (left + 500) / 1000 : left);
        }
    }

    private static void Persist(Connection c, long now)
    {
        var key = c.Key(1);
        var entry = Store.Find(key, now);
        if (entry is null || entry.Deadline == 0)
        {
            c.Output.Integer(0);
            return;
        }
        Store.SetDeadline(key, entry, 0);
        c.Output.Integer(1);
    }
}
