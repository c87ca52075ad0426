namespace Kv;

/// <summary>
/// The commands of sets that release 6 adds: SPOP, SRANDMEMBER, SMOVE, SMISMEMBER, SINTER, SUNION, SDIFF and their
/// STORE forms, SINTERCARD, and SSCAN (in <c>ElementScan.cs</c>).
/// </summary>
internal static partial class Commands
{
    /// <summary>Executes a set command added in release 6; false when the name is none of them.</summary>
    private static bool ExecuteMoreSetCommand(Connection c, ReadOnlySpan<char> name, long now)
    {
        switch (name)
        {
            case "SPOP": if (Arity(c, -2, "spop")) SPop(c, now); break;
            case "SRANDMEMBER": if (Arity(c, -2, "srandmember")) SRandMember(c, now); break;
            case "SMOVE": if (Arity(c, 4, "smove")) SMove(c, now); break;
            case "SMISMEMBER": if (Arity(c, -3, "smismember")) SMIsMember(c, now); break;
            case "SINTER": if (Arity(c, -2, "sinter")) SetAlgebra(c, SetOperation.Intersection, store: false, now); break;
            case "SUNION": if (Arity(c, -2, "sunion")) SetAlgebra(c, SetOperation.Union, store: false, now); break;
            case "SDIFF": if (Arity(c, -2, "sdiff")) SetAlgebra(c, SetOperation.Difference, store: false, now); break;
            case "SINTERSTORE": if (Arity(c, -3, "sinterstore")) SetAlgebra(c, SetOperation.Intersection, store: true, now); break;
            case "SUNIONSTORE": if (Arity(c, -3, "sunionstore")) SetAlgebra(c, SetOperation.Union, store: true, now); break;
            case "SDIFFSTORE": if (Arity(c, -3, "sdiffstore")) SetAlgebra(c, SetOperation.Difference, store: true, now); break;
            case "SINTERCARD": if (Arity(c, -3, "sintercard")) SInterCard(c, now); break;
            case "SSCAN": if (Arity(c, -3, "sscan")) ElementScan(c, ofHash: false, now); break;
            default:
                return false;
        }
        return true;
    }

    private enum SetOperation
    {
        Intersection,
        Union,
        Difference,
    }

    /// <summary>SPOP key [count]: removes and answers random members; the key goes with its last member.</summary>
    private static void SPop(Connection c, long now)
    {
        if (c.ArgCount > 3)
        {
            c.Output.Error(SyntaxError);
            return;
        }
        long count = 1;
        if (c.ArgCount == 3 && (!Number.TryParseInt64(c.Arg(2), out count) || count < 0))
        {
            c.Output.Error("ERR value is out of range, must be positive");
            return;
        }
        var key = c.Key(1);
        if (!TryFind<SetValue>(c, key, now, out var set))
        {
            return;
        }
        if (set is null)
        {
            if (c.ArgCount == 3)
            {
                c.Output.ArrayHeader(0);
            }
            else
            {
                c.Output.Null();
            }
            return;
        }
        var members = set.Members.ToArray();
        var picks = RandomPicks(members.Length, count);
        if (c.ArgCount == 3)
        {
            c.Output.ArrayHeader(picks.Length);
        }
        foreach (var pick in picks)
        {
            set.Members.Remove(members[pick]);
            c.Output.Bulk(members[pick]);
        }
        if (set.Members.Count == 0)
        {
            Store.Remove(key);
        }
    }

    /// <summary>SRANDMEMBER key [count]: random members, distinct for a positive count, with repeats for a negative one.</summary>
    private static void SRandMember(Connection c, long now)
    {
        if (c.ArgCount > 3)
        {
            c.Output.Error(SyntaxError);
            return;
        }
        long count = 1;
        if (c.ArgCount == 3 && !TryParseRandomCount(c, 2, out count))
        {
            return;
        }
        if (!TryFind<SetValue>(c, c.Key(1), now, out var set))
        {
            return;
        }
        if (c.ArgCount == 2)
        {
            if (set is null)
            {
                c.Output.Null();
            }
            else
            {
                c.Output.Bulk(set.Members.ElementAt(Random.Shared.Next(set.Members.Count)));
            }
            return;
        }
        if (set is null || count == 0)
        {
            c.Output.ArrayHeader(0);
            return;
        }
        var members = set.Members.ToArray();
        var picks = RandomPicks(members.Length, count);
        c.Output.ArrayHeader(picks.Length);
        foreach (var pick in picks)
        {
            c.Output.Bulk(members[pick]);
        }
    }

    /// <summary>SMOVE source destination member: 1 when moved, 0 when the source has no such member.</summary>
    private static void SMove(Connection c, long now)
    {
        string source = c.Key(1), destination = c.Key(2);
        var from = Store.Find(source, now)?.Value;
        var to = Store.Find(destination, now)?.Value;
        if (from is null)
        {
            c.Output.Integer(0);
            return;
        }
        if (from is not SetValue fromSet || to is not (null or SetValue))
        {
            c.Output.Error(WrongType);
            return;
        }
        var member = c.Key(3);
        if (source == destination)
        {
            c.Output.Integer(fromSet.Members.Contains(member) ? 1 : 0);
            return;
        }
        if (!fromSet.Members.Remove(member))
        {
            c.Output.Integer(0);
            return;
        }
        if (fromSet.Members.Count == 0)
        {
            Store.Remove(source);
        }
        if (to is not SetValue toSet)
        {
            toSet = new SetValue();
            Store.Put(destination, new Entry(toSet));
        }
        toSet.Members.Add(member);
        c.Output.Integer(1);
    }

    private static void SMIsMember(Connection c, long now)
    {
        if (!TryFind<SetValue>(c, c.Key(1), now, out var set))
        {
            return;
        }
        c.Output.ArrayHeader(c.ArgCount - 2);
        for (var i = 2; i < c.ArgCount; i++)
        {
            c.Output.Integer(set is not null && set.Members.Contains(c.Key(i)) ? 1 : 0);
        }
    }

    /// <summary>
    /// The sets of keys <paramref name="first"/> to <paramref name="last"/> (null for a missing key), every key's type
    /// checked as Redis 7.0 checks it; null with WRONGTYPE answered.
    /// </summary>
    private static HashSet<string>?[]? FindSets(Connection c, int first, int last, long now)
    {
        var sets = new HashSet<string>?[last - first + 1];
        for (var i = first; i <= last; i++)
        {
            if (!TryFind<SetValue>(c, c.Key(i), now, out var set))
            {
                return null;
            }
            sets[i - first] = set?.Members;
        }
        return sets;
    }

    /// <summary>SINTER / SUNION / SDIFF key [key ...], or their STORE forms with the destination first (its old value, of any type, replaced).</summary>
    private static void SetAlgebra(Connection c, SetOperation operation, bool store, long now)
    {
        var first = store ? 2 : 1;
        if (FindSets(c, first, c.ArgCount - 1, now) is not { } sets)
        {
            return;
        }
        HashSet<string> result;
        if (operation == SetOperation.Union)
        {
            result = [];
            foreach (var set in sets)
            {
                result.UnionWith(set ?? []);
            }
        }
        else if (operation == SetOperation.Difference)
        {
            result = new HashSet<string>(sets[0] ?? []);
            foreach (var set in sets.Skip(1))
            {
                result.ExceptWith(set ?? []);
            }
        }
        else
        {
            result = Intersection(sets, limit: 0);
        }
        if (!store)
        {
            c.Output.ArrayHeader(result.Count);
            foreach (var member in result)
            {
                c.Output.Bulk(member);
            }
            return;
        }
        var destination = c.Key(1);
        Store.Remove(destination);
        if (result.Count > 0)
        {
            Store.Put(destination, new Entry(new SetValue { Members = result }));
        }
        c.Output.Integer(result.Count);
    }

    /// <summary>The members in every set (none when a set is missing), smallest set first; stops at <paramref name="limit"/> members (0: none).</summary>
    private static HashSet<string> Intersection(HashSet<string>?[] sets, long limit)
    {
        var result = new HashSet<string>();
        if (sets.Any(s => s is null))
        {
            return result;
        }
        var ordered = sets.OrderBy(s => s!.Count).ToArray();
        foreach (var member in ordered[0]!)
        {
            if (ordered.Skip(1).All(s => s!.Contains(member)))
            {
                result.Add(member);
                if (limit > 0 && result.Count == limit)
                {
                    break;
                }
            }
        }
        return result;
    }

    /// <summary>SINTERCARD numkeys key [key ...] [LIMIT limit]: how many members the intersection has, counting up to the limit (0: no limit).</summary>
    private static void SInterCard(Connection c, long now)
    {
        if (!Number.TryParseInt64(c.Arg(1), out var numKeys) || numKeys < 1)
        {
            c.Output.Error("ERR numkeys should be greater than 0");
            return;
        }
        if (numKeys > c.ArgCount - 2)
        {
            c.Output.Error("ERR Number of keys can't be greater than number of args");
            return;
        }
        long limit = 0;
        var last = 1 + (int)numKeys;
        for (var i = last + 1; i < c.ArgCount; i++)
        {
            if (!c.Is(i, "LIMIT") || i + 1 == c.ArgCount)
            {
                c.Output.Error(SyntaxError);
                return;
            }
            if (!Number.TryParseInt64(c.Arg(++i), out limit) || limit < 0)
            {
                c.Output.Error("ERR LIMIT can't be negative");
                return;
            }
        }
        if (FindSets(c, 2, last, now) is { } sets)
        {
            c.Output.Integer(Intersection(sets, limit).Count);
        }
    }
}
