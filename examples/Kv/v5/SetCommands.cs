namespace Kv;

/// <summary>The commands of sets (new in release 5).</summary>
internal static partial class Commands
{
    /// <summary>Executes a command of sets; false when the name is none of them.</summary>
    private static bool ExecuteSetCommand(Connection c, ReadOnlySpan<char> name, long now)
    {
        switch (name)
        {
            case "SADD": if (Arity(c, -3, "sadd")) SAdd(c, now); break;
            case "SREM": if (Arity(c, -3, "srem")) SRem(c, now); break;
            case "SMEMBERS": if (Arity(c, 2, "smembers")) SMembers(c, now); break;
            case "SISMEMBER": if (Arity(c, 3, "sismember")) SIsMember(c, now); break;
            case "SCARD": if (Arity(c, 2, "scard")) SCard(c, now); break;
            default:
                return false;
        }
        return true;
    }

    private static void SAdd(Connection c, long now)
    {
        var key = c.Key(1);
        if (!TryFind<SetValue>(c, key, now, out var set))
        {
            return;
        }
        if (set is null)
        {
            set = new SetValue();
            Store.Put(key, new Entry(set));
        }
        var added = 0;
        for (var i = 2; i < c.ArgCount; i++)
        {
            if (set.Members.Add(c.Key(i)))
            {
                added++;
            }
        }
        c.Output.Integer(added);
    }

    private static void SRem(Connection c, long now)
    {
        var key = c.Key(1);
        if (!TryFind<SetValue>(c, key, now, out var set))
        {
            return;
        }
        var removed = 0;
        for (var i = 2; set is not null && i < c.ArgCount; i++)
        {
            if (set.Members.Remove(c.Key(i)))
            {
                removed++;
            }
        }
        if (set is not null && set.Members.Count == 0)
        {
            Store.Remove(key);
        }
        c.Output.Integer(removed);
    }

    private static void SMembers(Connection c, long now)
    {
        if (!TryFind<SetValue>(c, c.Key(1), now, out var set))
        {
            return;
        }
        c.Output.SetHeader(set?.Members.Count ?? 0);
        foreach (var member in set?.Members ?? [])
        {
            c.Output.Bulk(member);
        }
    }

    private static void SIsMember(Connection c, long now)
    {
        if (TryFind<SetValue>(c, c.Key(1), now, out var set))
        {
            c.Output.Integer(set is not null && set.Members.Contains(c.Key(2)) ? 1 : 0);
        }
    }

    private static void SCard(Connection c, long now)
    {
        if (TryFind<SetValue>(c, c.Key(1), now, out var set))
        {
            c.Output.Integer(set?.Members.Count ?? 0);
        }
    }
}
