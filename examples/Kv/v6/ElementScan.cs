namespace Kv;

/// <summary>HSCAN and SSCAN: the elements of one hash or set, with SCAN's options.</summary>
internal static partial class Commands
{
    /// <summary>
    /// HSCAN / SSCAN key cursor [MATCH pattern] [COUNT count]. Redis answers a small hash or set (a listpack or an
    /// intset) whole, with cursor 0, whatever the cursor and COUNT; kv answers every hash and set so: every element
    /// present for the whole scan is returned once, as SCAN's guarantee asks, in one reply.
    /// </summary>
    private static void ElementScan(Connection c, bool ofHash, long now)
    {
        if (!IsScanCursor(c.Arg(2)))
        {
            c.Output.Error("ERR invalid cursor");
            return;
        }
        var key = c.Key(1);
        var entry = Store.Find(key, now);
        if (entry is null)
        {
            c.Output.ArrayHeader(2);
            c.Output.BulkInteger(0);
            c.Output.ArrayHeader(0);
            return;
        }
        if (ofHash ? entry.Value is not HashValue : entry.Value is not SetValue)
        {
            c.Output.Error(WrongType);
            return;
        }
        string? pattern = null;
        for (var i = 3; i < c.ArgCount; i++)
        {
            if (c.Is(i, "MATCH") && i + 1 < c.ArgCount)
            {
                pattern = c.Key(++i);
            }
            else if (c.Is(i, "COUNT") && i + 1 < c.ArgCount)
            {
                if (!Number.TryParseInt64(c.Arg(++i), out var count))
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
        c.Output.ArrayHeader(2);
        c.Output.BulkInteger(0);
        if (entry.Value is HashValue hash)
        {
            var found = hash.Fields.Where(f => pattern is null || Glob.IsMatch(pattern, f.Key)).ToList();
            c.Output.ArrayHeader(found.Count * 2);
            foreach (var (field, value) in found)
            {
                c.Output.Bulk(field);
                c.Output.Bulk(value);
            }
        }
        else
        {
            var found = ((SetValue)entry.Value).Members.Where(m => pattern is null || Glob.IsMatch(pattern, m)).ToList();
            c.Output.ArrayHeader(found.Count);
            foreach (var member in found)
            {
                c.Output.Bulk(member);
            }
        }
    }

    /// <summary>A cursor as Redis's <c>strtoul</c> reads it: an optional sign, then decimal digits within 64 bits.</summary>
    private static bool IsScanCursor(ReadOnlySpan<byte> text)
    {
        if (text.Length > 0 && text[0] is (byte)'+' or (byte)'-')
        {
            text = text[1..];
        }
        return Number.TryParseCursor(text, out _);
    }
}
