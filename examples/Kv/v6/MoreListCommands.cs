namespace Kv;

/// <summary>The commands of lists that release 6 adds: LINDEX, LSET, LINSERT, LREM, LTRIM, LPOS, LPUSHX, RPUSHX.</summary>
internal static partial class Commands
{
    /// <summary>Executes a list command added in release 6; false when the name is none of them.</summary>
    private static bool ExecuteMoreListCommand(Connection c, ReadOnlySpan<char> name, long now)
    {
        switch (name)
        {
            case "LINDEX": if (Arity(c, 3, "lindex")) LIndex(c, now); break;
            case "LSET": if (Arity(c, 4, "lset")) LSet(c, now); break;
            case "LINSERT": if (Arity(c, 5, "linsert")) LInsert(c, now); break;
            case "LREM": if (Arity(c, 4, "lrem")) LRem(c, now); break;
            case "LTRIM": if (Arity(c, 4, "ltrim")) LTrim(c, now); break;
            case "LPOS": if (Arity(c, -3, "lpos")) LPos(c, now); break;
            case "LPUSHX": if (Arity(c, -3, "lpushx")) PushExisting(c, head: true, now); break;
            case "RPUSHX": if (Arity(c, -3, "rpushx")) PushExisting(c, head: false, now); break;
            default:
                return false;
        }
        return true;
    }

    /// <summary>The node at <paramref name="index"/> (negative from the tail), walked from the nearer end; null when out of range.</summary>
    private static LinkedListNode<byte[]>? NodeAt(ListValue list, long index)
    {
        var count = list.Items.Count;
        if (index < 0)
        {
            index += count;
        }
        if (index < 0 || index >= count)
        {
            return null;
        }
        if (index < count / 2)
        {
            var node = list.Items.First!;
            for (var i = 0; i < index; i++) node = node.Next!;
            return node;
        }
        var fromTail = list.Items.Last!;
        for (var i = count - 1; i > index; i--) fromTail = fromTail.Previous!;
        return fromTail;
    }

    private static void LIndex(Connection c, long now)
    {
        if (!TryFind<ListValue>(c, c.Key(1), now, out var list))
        {
            return;
        }
        if (list is null)
        {
            c.Output.Null();
            return;
        }
        if (!Number.TryParseInt64(c.Arg(2), out var index))
        {
            c.Output.Error(NotInteger);
            return;
        }
        if (NodeAt(list, index) is { } node)
        {
            c.Output.Bulk(node.Value);
        }
        else
        {
            c.Output.Null();
        }
    }

    private static void LSet(Connection c, long now)
    {
        if (!TryFind<ListValue>(c, c.Key(1), now, out var list))
        {
            return;
        }
        if (list is null)
        {
            c.Output.Error("ERR no such key");
            return;
        }
        if (!Number.TryParseInt64(c.Arg(2), out var index))
        {
            c.Output.Error(NotInteger);
            return;
        }
        if (NodeAt(list, index) is not { } node)
        {
            c.Output.Error("ERR index out of range");
            return;
        }
        node.Value = c.Value(3);
        c.Output.Ok();
    }

    /// <summary>LINSERT key BEFORE|AFTER pivot element: the new length, -1 when the pivot is not there, 0 when the key is missing.</summary>
    private static void LInsert(Connection c, long now)
    {
        var before = c.Is(2, "BEFORE");
        if (!before && !c.Is(2, "AFTER"))
        {
            c.Output.Error(SyntaxError);
            return;
        }
        var key = c.Key(1);
        if (!TryFind<ListValue>(c, key, now, out var list))
        {
            return;
        }
        if (list is null)
        {
            c.Output.Integer(0);
            return;
        }
        var pivot = c.Arg(3);
        for (var node = list.Items.First; node is not null; node = node.Next)
        {
            if (pivot.SequenceEqual(node.Value))
            {
                if (before)
                {
                    list.Items.AddBefore(node, c.Value(4));
                }
                else
                {
                    list.Items.AddAfter(node, c.Value(4));
                }
                c.Output.Integer(list.Items.Count);
                ServeBlocked(key, now);
                return;
            }
        }
        c.Output.Integer(-1);
    }

    /// <summary>LREM key count element: removes the first |count| equal elements from the head (count &gt; 0), the tail (&lt; 0), or all (0).</summary>
    private static void LRem(Connection c, long now)
    {
        if (!Number.TryParseInt64(c.Arg(2), out var count))
        {
            c.Output.Error(NotInteger);
            return;
        }
        var key = c.Key(1);
        if (!TryFind<ListValue>(c, key, now, out var list))
        {
            return;
        }
        var element = c.Arg(3);
        var removed = 0L;
        var limit = count is 0 or long.MinValue ? long.MaxValue : Math.Abs(count);
        var fromTail = count < 0;
        var node = fromTail ? list?.Items.Last : list?.Items.First;
        while (node is not null && removed < limit)
        {
            var next = fromTail ? node.Previous : node.Next;
            if (element.SequenceEqual(node.Value))
            {
                list!.Items.Remove(node);
                removed++;
            }
            node = next;
        }
        if (list is not null && list.Items.Count == 0)
        {
            Store.Remove(key);
        }
        c.Output.Integer(removed);
    }

    /// <summary>LTRIM key start stop: keeps the range (inclusive, negative from the end); an empty range removes the key.</summary>
    private static void LTrim(Connection c, long now)
    {
        if (!Number.TryParseInt64(c.Arg(2), out var start) || !Number.TryParseInt64(c.Arg(3), out var end))
        {
            c.Output.Error(NotInteger);
            return;
        }
        var key = c.Key(1);
        if (!TryFind<ListValue>(c, key, now, out var list))
        {
            return;
        }
        if (list is not null)
        {
            long length = list.Items.Count;
            if (start < 0) start = length + start;
            if (end < 0) end = length + end;
            if (start < 0) start = 0;
            long fromHead, fromTail;
            if (start > end || start >= length)
            {
                fromHead = length;
                fromTail = 0;
            }
            else
            {
                if (end >= length) end = length - 1;
                fromHead = start;
                fromTail = length - end - 1;
            }
            for (var i = 0; i < fromHead; i++) list.Items.RemoveFirst();
            for (var i = 0; i < fromTail; i++) list.Items.RemoveLast();
            if (list.Items.Count == 0)
            {
                Store.Remove(key);
            }
        }
        c.Output.Ok();
    }

    /// <summary>LPOS key element [RANK rank] [COUNT num] [MAXLEN len]: the positions (from the head) of matching elements.</summary>
    private static void LPos(Connection c, long now)
    {
        long rank = 1, count = 0, maxLen = 0;
        var counted = false;
        for (var i = 3; i < c.ArgCount; i++)
        {
            var isRank = c.Is(i, "RANK");
            var isCount = c.Is(i, "COUNT");
            var isMaxLen = c.Is(i, "MAXLEN");
            if (!(isRank || isCount || isMaxLen) || i + 1 == c.ArgCount)
            {
                c.Output.Error(SyntaxError);
                return;
            }
            if (!Number.TryParseInt64(c.Arg(++i), out var amount))
            {
                c.Output.Error(NotInteger);
                return;
            }
            if (isRank)
            {
                if (amount == 0)
                {
                    c.Output.Error("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list");
                    return;
                }
                rank = amount;
            }
            else if (isCount)
            {
                if (amount < 0)
                {
                    c.Output.Error("ERR COUNT can't be negative");
                    return;
                }
                count = amount;
                counted = true;
            }
            else
            {
                if (amount < 0)
                {
                    c.Output.Error("ERR MAXLEN can't be negative");
                    return;
                }
                maxLen = amount;
            }
        }
        if (!TryFind<ListValue>(c, c.Key(1), now, out var list))
        {
            return;
        }
        var fromTail = rank < 0;
        // Redis negates a negative rank; -2^63 stays negative there, so that its first match counts: rank 1 from the tail.
        var skip = rank == long.MinValue ? 0 : Math.Abs(rank) - 1;
        var element = c.Arg(2);
        var found = new List<long>();
        if (list is not null)
        {
            var length = list.Items.Count;
            var node = fromTail ? list.Items.Last : list.Items.First;
            for (long seen = 0; node is not null && (maxLen == 0 || seen < maxLen); seen++)
            {
                if (element.SequenceEqual(node.Value))
                {
                    if (skip > 0)
                    {
                        skip--;
                    }
                    else
                    {
                        found.Add(fromTail ? length - 1 - seen : seen);
                        if (!counted || (count != 0 && found.Count == count))
                        {
                            break;
                        }
                    }
                }
                node = fromTail ? node.Previous : node.Next;
            }
        }
        if (!counted)
        {
            if (found.Count == 0)
            {
                c.Output.Null();
            }
            else
            {
                c.Output.Integer(found[0]);
            }
            return;
        }
        c.Output.ArrayHeader(found.Count);
        foreach (var position in found)
        {
            c.Output.Integer(position);
        }
    }

    /// <summary>
    /// LPUSHX / RPUSHX key element [element ...]: pushes only to an existing list; its length, 0 when missing. Clients
    /// wait only on missing lists, so none waits on this one; it serves them all the same, as every push does.
    /// </summary>
    private static void PushExisting(Connection c, bool head, long now)
    {
        var key = c.Key(1);
        if (!TryFind<ListValue>(c, key, now, out var list))
        {
            return;
        }
        if (list is null)
        {
            c.Output.Integer(0);
            return;
        }
        for (var i = 2; i < c.ArgCount; i++)
        {
            PushTo(key, list, c.Value(i), head);
        }
        c.Output.Integer(list.Items.Count);
        ServeBlocked(key, now);
    }
}
