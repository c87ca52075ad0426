namespace Kv;

/// <summary>
/// The commands of hashes that release 6 adds: HMGET, HMSET, HINCRBY, HINCRBYFLOAT, HEXISTS, HKEYS, HVALS, HSETNX,
/// HSTRLEN, HRANDFIELD, and HSCAN (in <c>ElementScan.cs</c>).
/// </summary>
internal static partial class Commands
{
    /// <summary>
    /// The most elements a negative HRANDFIELD or SRANDMEMBER count answers: Redis answers any count, so that
    /// <c>HRANDFIELD h -9223372036854775807</c> stops it for good; kv refuses a count beyond this instead.
    /// </summary>
    private const long MaxRandomReply = 10_000_000;

    /// <summary>Executes a hash command added in release 6; false when the name is none of them.</summary>
    private static bool ExecuteMoreHashCommand(Connection c, ReadOnlySpan<char> name, long now)
    {
        switch (name)
        {
            case "HMGET": if (Arity(c, -3, "hmget")) HMGet(c, now); break;
            case "HMSET": if (Arity(c, -4, "hmset")) HMSet(c, now); break;
            case "HINCRBY": if (Arity(c, 4, "hincrby")) HIncrBy(c, now); break;
            case "HINCRBYFLOAT": if (Arity(c, 4, "hincrbyfloat")) HIncrByFloat(c, now); break;
            case "HEXISTS": if (Arity(c, 3, "hexists")) HExists(c, now); break;
            case "HKEYS": if (Arity(c, 2, "hkeys")) HKeysOrValues(c, keys: true, now); break;
            case "HVALS": if (Arity(c, 2, "hvals")) HKeysOrValues(c, keys: false, now); break;
            case "HSETNX": if (Arity(c, 4, "hsetnx")) HSetNx(c, now); break;
            case "HSTRLEN": if (Arity(c, 3, "hstrlen")) HStrLen(c, now); break;
            case "HRANDFIELD": if (Arity(c, -2, "hrandfield")) HRandField(c, now); break;
            case "HSCAN": if (Arity(c, -3, "hscan")) ElementScan(c, ofHash: true, now); break;
            default:
                return false;
        }
        return true;
    }

    /// <summary>The hash of <paramref name="key"/>, created empty when missing; null with WRONGTYPE answered.</summary>
    private static HashValue? FindOrCreateHash(Connection c, string key, long now)
    {
        if (!TryFind<HashValue>(c, key, now, out var hash))
        {
            return null;
        }
        return hash ?? NewHash(key);
    }

    /// <summary>A new empty hash at <paramref name="key"/>, which is missing.</summary>
    private static HashValue NewHash(string key)
    {
        var hash = new HashValue();
        Store.Put(key, new Entry(hash));
        return hash;
    }

    private static void HMGet(Connection c, long now)
    {
        if (!TryFind<HashValue>(c, c.Key(1), now, out var hash))
        {
            return;
        }
        c.Output.ArrayHeader(c.ArgCount - 2);
        for (var i = 2; i < c.ArgCount; i++)
        {
            if (hash is not null && hash.Fields.TryGetValue(c.Key(i), out var value))
            {
                c.Output.Bulk(value);
            }
            else
            {
                c.Output.Null();
            }
        }
    }

    private static void HMSet(Connection c, long now)
    {
        if (c.ArgCount % 2 != 0)
        {
            c.Output.Error("ERR wrong number of arguments for 'hmset' command");
            return;
        }
        if (FindOrCreateHash(c, c.Key(1), now) is not { } hash)
        {
            return;
        }
        for (var i = 2; i < c.ArgCount; i += 2)
        {
            hash.Fields[c.Key(i)] = c.Value(i + 1);
        }
        c.Output.Ok();
    }

    private static void HIncrBy(Connection c, long now)
    {
        if (!Number.TryParseInt64(c.Arg(3), out var delta))
        {
            c.Output.Error(NotInteger);
            return;
        }
        var key = c.Key(1);
        if (!TryFind<HashValue>(c, key, now, out var hash))
        {
            return;
        }
        var field = c.Key(2);
        long value = 0;
        if (hash is not null && hash.Fields.TryGetValue(field, out var current) && !Number.TryParseInt64(current, out value))
        {
            c.Output.Error("ERR hash value is not an integer");
            return;
        }
        if ((delta > 0 && value > long.MaxValue - delta) || (delta < 0 && value < long.MinValue - delta))
        {
            c.Output.Error("ERR increment or decrement would overflow");
            return;
        }
        value += delta;
        (hash ?? NewHash(key)).Fields[field] = Number.Format(value);
        c.Output.Integer(value);
    }

    private static void HIncrByFloat(Connection c, long now)
    {
        if (!RedisFloat.TryParse(c.Arg(3), out var increment))
        {
            c.Output.Error(NotFloat);
            return;
        }
        if (increment.IsInfinite)
        {
            c.Output.Error("ERR value is NaN or Infinity");
            return;
        }
        var key = c.Key(1);
        if (!TryFind<HashValue>(c, key, now, out var hash))
        {
            return;
        }
        var field = c.Key(2);
        var value = FloatValue.Zero;
        if (hash is not null && hash.Fields.TryGetValue(field, out var current) && !RedisFloat.TryParse(current, out value))
        {
            c.Output.Error("ERR hash value is not a float");
            return;
        }
        if (!RedisFloat.TryAdd(value, increment, out var sum))
        {
            c.Output.Error("ERR increment would produce NaN or Infinity");
            return;
        }
        (hash ?? NewHash(key)).Fields[field] = sum;
        c.Output.Bulk(sum);
    }

    private static void HExists(Connection c, long now)
    {
        if (TryFind<HashValue>(c, c.Key(1), now, out var hash))
        {
            c.Output.Integer(hash is not null && hash.Fields.ContainsKey(c.Key(2)) ? 1 : 0);
        }
    }

    /// <summary>HKEYS / HVALS key.</summary>
    private static void HKeysOrValues(Connection c, bool keys, long now)
    {
        if (!TryFind<HashValue>(c, c.Key(1), now, out var hash))
        {
            return;
        }
        c.Output.ArrayHeader(hash?.Fields.Count ?? 0);
        foreach (var (field, value) in hash?.Fields ?? [])
        {
            if (keys)
            {
                c.Output.Bulk(field);
            }
            else
            {
                c.Output.Bulk(value);
            }
        }
    }

    private static void HSetNx(Connection c, long now)
    {
        if (FindOrCreateHash(c, c.Key(1), now) is { } hash)
        {
            c.Output.Integer(hash.Fields.TryAdd(c.Key(2), c.Value(3)) ? 1 : 0);
        }
    }

    private static void HStrLen(Connection c, long now)
    {
        if (TryFind<HashValue>(c, c.Key(1), now, out var hash))
        {
            c.Output.Integer(hash is not null && hash.Fields.TryGetValue(c.Key(2), out var value) ? value.Length : 0);
        }
    }

    /// <summary>
    /// A RANDMEMBER/RANDFIELD count as Redis reads it (an integer from -(2^63-1) to 2^63-1); false with the error answered.
    /// A negative count may repeat elements and is refused beyond <see cref="MaxRandomReply"/>.
    /// </summary>
    private static bool TryParseRandomCount(Connection c, int index, out long count)
    {
        if (!Number.TryParseInt64(c.Arg(index), out count))
        {
            c.Output.Error(NotInteger);
            return false;
        }
        if (count == long.MinValue)
        {
            c.Output.Error($"ERR value is out of range, value must between {-long.MaxValue} and {long.MaxValue}");
            return false;
        }
        if (count < -MaxRandomReply)
        {
            c.Output.Error("ERR value is out of range");
            return false;
        }
        return true;
    }

    /// <summary>
    /// <paramref name="count"/> random picks among <paramref name="size"/> elements, as indexes: distinct (all of them
    /// when the count reaches the size) for a positive count, |count| with repeats for a negative one.
    /// </summary>
    private static int[] RandomPicks(int size, long count)
    {
        if (count < 0)
        {
            var picks = new int[-count];
            for (var i = 0; i < picks.Length; i++)
            {
                picks[i] = Random.Shared.Next(size);
            }
            return picks;
        }
        var order = Enumerable.Range(0, size).ToArray();
        if (count >= size)
        {
            return order;
        }
        // A partial Fisher-Yates shuffle: the first count places of a random permutation.
        for (var i = 0; i < count; i++)
        {
            var j = Random.Shared.Next(i, size);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order[..(int)count];
    }

    /// <summary>HRANDFIELD key [count [WITHVALUES]].</summary>
    private static void HRandField(Connection c, long now)
    {
        long count = 1;
        var withValues = false;
        if (c.ArgCount >= 3)
        {
            if (!TryParseRandomCount(c, 2, out count))
            {
                return;
            }
            withValues = c.ArgCount == 4 && c.Is(3, "WITHVALUES");
            if (c.ArgCount > 4 || (c.ArgCount == 4 && !withValues))
            {
                c.Output.Error(SyntaxError);
                return;
            }
        }
        if (!TryFind<HashValue>(c, c.Key(1), now, out var hash))
        {
            return;
        }
        if (c.ArgCount == 2)
        {
            if (hash is null)
            {
                c.Output.Null();
            }
            else
            {
                c.Output.Bulk(hash.Fields.ElementAt(Random.Shared.Next(hash.Fields.Count)).Key);
            }
            return;
        }
        if (hash is null || count == 0)
        {
            c.Output.ArrayHeader(0);
            return;
        }
        var fields = hash.Fields.ToArray();
        var picks = RandomPicks(fields.Length, count);
        c.Output.ArrayHeader(picks.Length * (withValues ? 2 : 1));
        foreach (var pick in picks)
        {
            c.Output.Bulk(fields[pick].Key);
            if (withValues)
            {
                c.Output.Bulk(fields[pick].Value);
            }
        }
    }
}
