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
            case "LMPOP": if (Arity(c, -4, "lmpop")) MultiPop(c, now); break;
            case "BLMPOP": if (Arity(c, -5, "blmpop")) BlockingMultiPop(c, now); break;
            case "LMOVE": if (Arity(c, 5, "lmove")) LMove(c, now); break;
            case "RPOPLPUSH": if (Arity(c, 3, "rpoplpush")) Move(c, fromHead: false, toHead: true, now); break;
            case "BLMOVE": if (Arity(c, 6, "blmove")) BlockingLMove(c, now); break;
            case "BRPOPLPUSH": if (Arity(c, 4, "brpoplpush")) BlockingMove(c, fromHead: false, toHead: true, c.Arg(3), now); break;
            case "LRANGE": if (Arity(c, 4, "lrange")) LRange(c, now); break;
            case "LLEN": if (Arity(c, 2, "llen")) LLen(c, now); break;
            case "HSET": if (Arity(c, -4, "hset")) HSet(c, now); break;
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
        ServeBlocked(key, now);
    }

    /// <summary>
    /// After a command that pushed to <paramref name="key"/>, as Redis does once the command is done: the clients blocked
    /// on it, longest waiting first, take its elements. A client blocked in a move pushes its element to its destination,
    /// whose own blocked clients are served next (Redis's ready keys, in the order they became ready).
    /// </summary>
    private static void ServeBlocked(string key, long now)
    {
        if (Blocking.WaitingOn(key) is null)
        {
            return;
        }
        var ready = new Queue<string>();
        ready.Enqueue(key);
        while (ready.TryDequeue(out var next))
        {
            var waiting = Blocking.WaitingOn(next);
            if (waiting is null || Store.Find(next, now)?.Value is not ListValue list)
            {
                continue;
            }
            while (waiting.Count > 0 && list.Items.Count > 0)
            {
                var client = waiting[0];
                var pop = client.Blocked!;
                if (pop.Destination is null)
                {
                    var elements = new byte[pop.Count == 0 ? 1 : (int)Math.Min(pop.Count, list.Items.Count)][];
                    for (var i = 0; i < elements.Length; i++)
                    {
                        elements[i] = Take(list, pop.FromHead);
                    }
                    Blocking.Serve(client, next, elements);
                    continue;
                }
                var destination = Store.Find(pop.Destination, now)?.Value;
                if (destination is not (null or ListValue))
                {
                    Blocking.Refuse(client, next, WrongType); // Redis answers it so and unblocks it; the element stays.
                    continue;
                }
                var element = Take(list, pop.FromHead);
                PushTo(pop.Destination, destination as ListValue, element, pop.ToHead);
                Blocking.Serve(client, next, [element]);
                if (pop.Destination != next)
                {
                    ready.Enqueue(pop.Destination);
                }
            }
            if (list.Items.Count == 0)
            {
                Store.Remove(next);
            }
        }
    }

    /// <summary>Removes and returns the element at the list's head or tail (the list is not empty).</summary>
    private static byte[] Take(ListValue list, bool fromHead)
    {
        var node = fromHead ? list.Items.First! : list.Items.Last!;
        list.Items.Remove(node);
        return node.Value;
    }

    /// <summary>Pushes <paramref name="element"/> to the list <paramref name="key"/>, found by the caller (null: missing, then created).</summary>
    private static void PushTo(string key, ListValue? list, byte[] element, bool toHead)
    {
        if (list is null)
        {
            list = new ListValue();
            Store.Put(key, new Entry(list));
        }
        if (toHead)
        {
            list.Items.AddFirst(element);
        }
        else
        {
            list.Items.AddLast(element);
        }
    }

    /// <summary>LEFT or RIGHT (any case): true for LEFT; false with a syntax error answered when it is neither.</summary>
    private static bool TryParseEnd(Connection c, int index, out bool head)
    {
        head = c.Is(index, "LEFT");
        if (head || c.Is(index, "RIGHT"))
        {
            return true;
        }
        c.Output.Error(SyntaxError);
        return false;
    }

    /// <summary>LMOVE source destination LEFT|RIGHT LEFT|RIGHT.</summary>
    private static void LMove(Connection c, long now)
    {
        if (TryParseEnd(c, 3, out var fromHead) && TryParseEnd(c, 4, out var toHead))
        {
            Move(c, fromHead, toHead, now);
        }
    }

    /// <summary>
    /// LMOVE / RPOPLPUSH source destination: pops from the source and pushes to the destination (the same list rotates),
    /// answering the element, or nil when the source is missing; then serves the clients blocked on the destination.
    /// </summary>
    private static void Move(Connection c, bool fromHead, bool toHead, long now)
    {
        var source = c.Key(1);
        if (TryFind<ListValue>(c, source, now, out var list))
        {
            if (list is null)
            {
                c.Output.Null();
            }
            else
            {
                MoveFrom(c, source, list, fromHead, toHead, now);
            }
        }
    }

    /// <summary>The move of a source list found non-empty: checks the destination's type, moves one element, answers it.</summary>
    private static void MoveFrom(Connection c, string source, ListValue list, bool fromHead, bool toHead, long now)
    {
        var destination = c.Key(2);
        if (!TryFind<ListValue>(c, destination, now, out var target))
        {
            return;
        }
        var element = Take(list, fromHead);
        PushTo(destination, target, element, toHead);
        if (list.Items.Count == 0)
        {
            Store.Remove(source);
        }
        c.Output.Bulk(element);
        ServeBlocked(destination, now);
    }

    /// <summary>BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout.</summary>
    private static void BlockingLMove(Connection c, long now)
    {
        if (TryParseEnd(c, 3, out var fromHead) && TryParseEnd(c, 4, out var toHead))
        {
            BlockingMove(c, fromHead, toHead, c.Arg(5), now);
        }
    }

    /// <summary>
    /// BLMOVE / BRPOPLPUSH: LMOVE when the source is a list; when it is missing the client blocks until a push to it serves
    /// the move (whatever the destination is then: a destination that is not a list is answered WRONGTYPE) or the timeout passes.
    /// </summary>
    private static void BlockingMove(Connection c, bool fromHead, bool toHead, ReadOnlySpan<byte> timeout, long now)
    {
        if (!Blocking.TryParseTimeout(c, timeout, now, out var deadline))
        {
            return;
        }
        var source = c.Key(1);
        if (!TryFind<ListValue>(c, source, now, out var list))
        {
            return;
        }
        if (list is not null)
        {
            MoveFrom(c, source, list, fromHead, toHead, now);
            return;
        }
        Blocking.Block(c, new BlockedPop([source], fromHead, deadline, destination: c.Key(2), toHead: toHead));
    }

    /// <summary>
    /// Parses LMPOP's <c>numkeys key [key ...] LEFT|RIGHT [COUNT count]</c> from argument <paramref name="numKeysIndex"/> on,
    /// in Redis's order and with its errors; false with the error answered.
    /// </summary>
    private static bool TryParseMultiPop(Connection c, int numKeysIndex, out string[] keys, out bool fromHead, out long count)
    {
        keys = [];
        fromHead = false;
        count = 1;
        if (!Number.TryParseInt64(c.Arg(numKeysIndex), out var numKeys) || numKeys < 1)
        {
            c.Output.Error("ERR numkeys should be greater than 0");
            return false;
        }
        if (numKeys >= c.ArgCount - numKeysIndex - 1)
        {
            c.Output.Error(SyntaxError); // The keys leave no room for LEFT|RIGHT.
            return false;
        }
        var endIndex = numKeysIndex + 1 + (int)numKeys;
        if (!TryParseEnd(c, endIndex, out fromHead))
        {
            return false;
        }
        var counted = false;
        for (var i = endIndex + 1; i < c.ArgCount; i++)
        {
            if (counted || !c.Is(i, "COUNT") || i + 1 == c.ArgCount)
            {
                c.Output.Error(SyntaxError);
                return false;
            }
            i++;
            if (!Number.TryParseInt64(c.Arg(i), out count) || count < 1)
            {
                c.Output.Error("ERR count should be greater than 0");
                return false;
            }
            counted = true;
        }
        keys = new string[numKeys];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = c.Key(numKeysIndex + 1 + i);
        }
        return true;
    }

    /// <summary>
    /// Pops up to <paramref name="count"/> elements from the first list of <paramref name="keys"/>, in order, answering
    /// [key, [elements]], or WRONGTYPE for a key of another type before it; false when all are missing (nothing answered).
    /// </summary>
    private static bool TryPopFirst(Connection c, string[] keys, bool fromHead, long count, long now)
    {
        foreach (var key in keys)
        {
            if (!TryFind<ListValue>(c, key, now, out var list))
            {
                return true;
            }
            if (list is not null)
            {
                var popped = (int)Math.Min(count, list.Items.Count);
                c.Output.ArrayHeader(2);
                c.Output.Bulk(key);
                c.Output.ArrayHeader(popped);
                for (var i = 0; i < popped; i++)
                {
                    c.Output.Bulk(Take(list, fromHead));
                }
                if (list.Items.Count == 0)
                {
                    Store.Remove(key);
                }
                return true;
            }
        }
        return false;
    }

    /// <summary>LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]: nil when every list is missing.</summary>
    private static void MultiPop(Connection c, long now)
    {
        if (TryParseMultiPop(c, 1, out var keys, out var fromHead, out var count) && !TryPopFirst(c, keys, fromHead, count, now))
        {
            c.Output.NullArray();
        }
    }

    /// <summary>BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]: LMPOP, or blocks while every list is missing.</summary>
    private static void BlockingMultiPop(Connection c, long now)
    {
        if (TryParseMultiPop(c, 2, out var keys, out var fromHead, out var count)
            && Blocking.TryParseTimeout(c, c.Arg(1), now, out var deadline)
            && !TryPopFirst(c, keys, fromHead, count, now))
        {
            Blocking.Block(c, new BlockedPop(keys, fromHead, deadline, count: count));
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
        c.Output.MapHeader(hash?.Fields.Count ?? 0);
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
