namespace Kv;

/// <summary>The commands of lists and hashes.</summary>
internal static partial class Commands
{
    /// <summary>Executes a command of lists or hashes; false when the name is none of them.</summary>
    private static bool ExecuteListOrHashCommand(Connection c, ReadOnlySpan<char> name, long now)
    {
        switch (name)
        {
            case "LPUSH": if (Arity(c, -3, "lpush")) Push(c, head: true, now); break;
            case "RPUSH": if (Arity(c, -3, "rpush")) Push(c, head: false, now); break;
            case "LPOP": if (Arity(c, -2, "lpop")) Pop(c, head: true, "lpop", now); break;
            case "RPOP": if (Arity(c, -2, "rpop")) Pop(c, head: false, "rpop", now); break;
            case "BLPOP": if (Arity(c, -3, "blpop")) BlockingPop(c, head: true, now); break;
            case "BRPOP": if (Arity(c, -3, "brpop")) BlockingPop(c, head: false, now); break;
            case "LRANGE": if (Arity(c, 4, "lrange")) LRange(c, now); break;
            case "LLEN": if (Arity(c, 2, "llen")) LLen(c, now); break;
            case "HSET": HSet(c, now); break;
            case "HGET": if (Arity(c, 3, "hget")) HGet(c, now); break;
            case "HDEL": if (Arity(c, -3, "hdel")) HDel(c, now); break;
            case "HGETALL": if (Arity(c, 2, "hgetall")) HGetAll(c, now); break;
            case "HLEN": if (Arity(c, 2, "hlen")) HLen(c, now); break;
            default:
                return false;
        }
        return true;
    }

    /// <summary>The key's value as a <typeparamref name="T"/>; false (with WRONGTYPE answered) when it is another type.</summary>
    private static bool TryFind<T>(Connection c, string key, long now, out T? value)
        where T : Value
    {
        var entry = Store.Find(key, now);
        value = entry?.Value as T;
        if (entry is not null && value is null)
        {
            c.Output.Error(WrongType);
            return false;
        }
        return true;
    }

    private static void Push(Connection c, bool head, long now)
    {
        var key = c.Key(1);
        if (!TryFind<ListValue>(c, key, now, out var list))
        {
            return;
        }
        if (list is null)
        {
            list = new ListValue();
            Store.Put(key, new Entry(list));
        }
        for (var i = 2; i < c.ArgCount; i++)
        {
            if (head)
            {
                list.Items.AddFirst(c.Value(i));
            }
            else
            {
                list.Items.AddLast(c.Value(i));
            }
        }
        c.Output.Integer(list.Items.Count);
        ServeBlocked(key, list);
    }

    /// <summary>After a push, as Redis does once the command is done: the clients blocked on the key, longest waiting first, take its elements.</summary>
    private static void ServeBlocked(string key, ListValue list)
    {
        var waiting = Blocking.WaitingOn(key);
        while (waiting is { Count: > 0 } && list.Items.Count > 0)
        {
            var client = waiting[0];
            var node = client.Blocked!.FromHead ? list.Items.First! : list.Items.Last!;
            list.Items.Remove(node);
            Blocking.Serve(client, key, node.Value);
        }
        if (list.Items.Count == 0)
        {
            Store.Remove(key);
        }
    }

    /// <summary>
    /// BLPOP / BRPOP key [key ...] timeout: pops from the first non-empty list, in the order given; when all are empty the
    /// client blocks until a push serves it or the timeout passes (seconds, fractions allowed, 0 for ever).
    /// </summary>
    private static void BlockingPop(Connection c, bool head, long now)
    {
        if (!Blocking.TryParseTimeout(c, c.Arg(c.ArgCount - 1), now, out var deadline))
        {
            return;
        }
        var keys = new string[c.ArgCount - 2];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = c.Key(i + 1);
            if (!TryFind<ListValue>(c, keys[i], now, out var list))
            {
                return;
            }
            if (list is not null)
            {
                var node = head ? list.Items.First! : list.Items.Last!;
                list.Items.Remove(node);
                if (list.Items.Count == 0)
                {
                    Store.Remove(keys[i]);
                }
                c.Output.ArrayHeader(2);
                c.Output.Bulk(keys[i]);
                c.Output.Bulk(node.Value);
                return;
            }
        }
        Blocking.Block(c, new BlockedPop(keys, head, deadline));
    }

    /// <summary>LPOP / RPOP key [count].</summary>
    private static void Pop(Connection c, bool head, string name, long now)
    {
        if (c.ArgCount > 3)
        {
            c.Output.Error($"ERR wrong number of arguments for '{name}' command");
            return;
        }
        long count = 1;
        if (c.ArgCount == 3 && (!Number.TryParseInt64(c.Arg(2), out count) || count < 0))
        {
            c.Output.Error("ERR value is out of range, must be positive");
            return;
        }
        var key = c.Key(1);
        if (!TryFind<ListValue>(c, key, now, out var list))
        {
            return;
        }
        if (list is null)
        {
            if (c.ArgCount == 3)
            {
                c.Output.NullArray();
            }
            else
            {
                c.Output.Null();
            }
            return;
        }
        var popped = (int)Math.Min(count, list.Items.Count);
        if (c.ArgCount == 3)
        {
            c.Output.ArrayHeader(popped);
        }
        for (var i = 0; i < popped; i++)
        {
            var node = head ? list.Items.First! : list.Items.Last!;
            list.Items.Remove(node);
            c.Output.Bulk(node.Value);
        }
        if (list.Items.Count == 0)
        {
            Store.Remove(key);
        }
    }

    private static void LRange(Connection c, long now)
    {
        if (!Number.TryParseInt64(c.Arg(2), out var start) || !Number.TryParseInt64(c.Arg(3), out var stop))
        {
            c.Output.Error(NotInteger);
            return;
        }
        if (!TryFind<ListValue>(c, c.Key(1), now, out var list))
        {
            return;
        }
        var length = list?.Items.Count ?? 0;
        if (start < 0)
        {
            start = Math.Max(0, length + start);
        }
        if (stop < 0)
        {
            stop = length + stop;
        }
        stop = Math.Min(stop, length - 1);
        if (list is null || start > stop)
        {
            c.Output.ArrayHeader(0);
            return;
        }
        c.Output.ArrayHeader((int)(stop - start + 1));
        var node = list.Items.First;
        for (var i = 0; i < start; i++)
        {
            node = node!.Next;
        }
        for (var i = start; i <= stop; i++)
        {
            c.Output.Bulk(node!.Value);
            node = node.Next;
        }
    }

    private static void LLen(Connection c, long now)
    {
        if (TryFind<ListValue>(c, c.Key(1), now, out var list))
        {
            c.Output.Integer(list?.Items.Count ?? 0);
        }
    }

    /// <summary>HSET key field value [field value ...]: answers how many fields are new.</summary>
    private static void HSet(Connection c, long now)
    {
        if (c.ArgCount < 4 || c.ArgCount % 2 != 0)
        {
            c.Output.Error("ERR wrong number of arguments for 'hset' command");
            return;
        }
        var key = c.Key(1);
        if (!TryFind<HashValue>(c, key, now, out var hash))
        {
            return;
        }
        if (hash is null)
        {
            hash = new HashValue();
            Store.Put(key, new Entry(hash));
        }
        var added = 0;
        for (var i = 2; i < c.ArgCount; i += 2)
        {
            var field = c.Key(i);
            if (!hash.Fields.ContainsKey(field))
            {
                added++;
            }
            hash.Fields[field] = c.Value(i + 1);
        }
        c.Output.Integer(added);
    }

    private static void HGet(Connection c, long now)
    {
        if (!TryFind<HashValue>(c, c.Key(1), now, out var hash))
        {
            return;
        }
        if (hash is not null && hash.Fields.TryGetValue(c.Key(2), out var value))
        {
            c.Output.Bulk(value);
        }
        else
        {
            c.Output.Null();
        }
    }

    private static void HDel(Connection c, long now)
    {
        var key = c.Key(1);
        if (!TryFind<HashValue>(c, key, now, out var hash))
        {
            return;
        }
        var removed = 0;
        for (var i = 2; hash is not null && i < c.ArgCount; i++)
        {
            if (hash.Fields.Remove(c.Key(i)))
            {
                removed++;
            }
        }
        if (hash is not null && hash.Fields.Count == 0)
        {
            Store.Remove(key);
        }
        c.Output.Integer(removed);
    }

    private static void HGetAll(Connection c, long now)
    {
        if (!TryFind<HashValue>(c, c.Key(1), now, out var hash))
        {
            return;
        }
        c.Output.ArrayHeader((hash?.Fields.Count ?? 0) * 2);
        foreach (var (field, value) in hash?.Fields ?? [])
        {
            c.Output.Bulk(field);
            c.Output.Bulk(value);
        }
    }

    private static void HLen(Connection c, long now)
    {
        if (TryFind<HashValue>(c, c.Key(1), now, out var hash))
        {
            c.Output.Integer(hash?.Fields.Count ?? 0);
        }
    }
}
