namespace Kv;

/// <summary>SCAN: walks the keyspace with a cursor.</summary>
internal static partial class Commands
{
    /// <summary>SCAN cursor [MATCH pattern] [COUNT count] [TYPE type].</summary>
    private static void Scan(Connection c, long now)
    {
        if (!Number.TryParseCursor(c.Arg(1), out var cursor))
        {
            c.Output.Error("ERR invalid cursor");
            return;
        }
        string? pattern = null;
        string? type = null;
        long count = 10;
        for (var i = 2; i < c.ArgCount; i++)
        {
            if (c.Is(i, "MATCH") && i + 1 < c.ArgCount)
            {
                pattern = c.Key(++i);
            }
            else if (c.Is(i, "TYPE") && i + 1 < c.ArgCount)
            {
                type = c.Key(++i).ToLowerInvariant();
            }
            else if (c.Is(i, "COUNT") && i + 1 < c.ArgCount)
            {
                if (!Number.TryParseInt64(c.Arg(++i), out count))
                {
                    c.Output.Error(NotInteger);
                    return;
                }
                if (count < 1)
                {
                    c.Output.Error(SyntaxError);
                    return;
                }
            }
            else
            {
                c.Output.Error(SyntaxError);
                return;
            }
        }
        var snapshot = Store.ScanKeys(cursor, out var id);
        if (snapshot is null)
        {
            c.Output.Error("ERR invalid cursor");
            return;
        }
        var position = (int)(cursor & uint.MaxValue);
        var end = (int)Math.Min(snapshot.Length, position + count);
        var found = new List<string>();
        for (var i = position; i < end; i++)
        {
            var key = snapshot[i];
            if (Store.Find(key, now) is { } entry && (pattern is null || Glob.IsMatch(pattern, key))
                && (type is null || entry.Value.TypeName == type))
            {
                found.Add(key);
            }
        }
        c.Output.ArrayHeader(2);
        if (end >= snapshot.Length)
        {
            Store.EndScan(id);
            c.Output.BulkInteger(0);
        }
        else
        {
            c.Output.BulkInteger(((ulong)id << 32) | (uint)end);
        }
        c.Output.ArrayHeader(found.Count);
        foreach (var key in found)
        {
            c.Output.Bulk(key);
        }
    }
}
