namespace Kv;

/// <summary>LCS: the longest common subsequence of two strings, by Redis's dynamic programming and its walk back.</summary>
internal static partial class Commands
{
    /// <summary>LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]; a missing key is an empty string.</summary>
    private static void Lcs(Connection c, long now)
    {
        var first = Store.Find(c.Key(1), now)?.Value;
        var second = Store.Find(c.Key(2), now)?.Value;
        if (first is not (null or StringValue) || second is not (null or StringValue))
        {
            c.Output.Error("ERR The specified keys must contain string values");
            return;
        }
        bool len = false, idx = false, withMatchLen = false;
        long minMatchLen = 0;
        for (var i = 3; i < c.ArgCount; i++)
        {
            if (c.Is(i, "IDX")) idx = true;
            else if (c.Is(i, "LEN")) len = true;
            else if (c.Is(i, "WITHMATCHLEN")) withMatchLen = true;
            else if (c.Is(i, "MINMATCHLEN") && i + 1 < c.ArgCount)
            {
                if (!Number.TryParseInt64(c.Arg(++i), out minMatchLen))
                {
                    c.Output.Error(NotInteger);
                    return;
                }
                minMatchLen = Math.Max(0, minMatchLen);
            }
            else
            {
                c.Output.Error(SyntaxError);
                return;
            }
        }
        if (len && idx)
        {
            c.Output.Error("ERR If you want both the length and indexes, please just use IDX.");
            return;
        }
        var a = (first as StringValue)?.Bytes ?? [];
        var b = (second as StringValue)?.Bytes ?? [];
        if ((long)(a.Length + 1) * (b.Length + 1) * sizeof(uint) > MaxStringLength)
        {
            c.Output.Error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
            return;
        }
        // table[i, j]: the LCS length of a[..i] and b[..j], row by row.
        var width = b.Length + 1;
        var table = new uint[(a.Length + 1) * width];
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                table[i * width + j] = a[i - 1] == b[j - 1]
                    ? table[(i - 1) * width + j - 1] + 1
                    : Math.Max(table[(i - 1) * width + j], table[i * width + j - 1]);
            }
        }
        var length = (int)table[a.Length * width + b.Length];
        if (len)
        {
            c.Output.Integer(length);
            return;
        }
        // Walk back from the end: the common bytes, and (IDX) the ranges matched, last first, as Redis emits them.
        var common = new byte[length];
        var ranges = new List<(int AStart, int AEnd, int BStart, int BEnd)>();
        int x = a.Length, y = b.Length, at = length;
        int aStart = a.Length, aEnd = 0, bStart = 0, bEnd = 0; // aStart == a.Length: no range open.
        while (x > 0 && y > 0)
        {
            var emit = false;
            if (a[x - 1] == b[y - 1])
            {
                common[--at] = a[x - 1];
                if (aStart == a.Length)
                {
                    aStart = aEnd = x - 1;
                    bStart = bEnd = y - 1;
                }
                else if (aStart == x && bStart == y)
                {
                    aStart--;
                    bStart--;
                }
                else
                {
                    emit = true;
                }
                if (aStart == 0 || bStart == 0)
                {
                    emit = true;
                }
                x--;
                y--;
            }
            else
            {
                if (table[(x - 1) * width + y] > table[x * width + y - 1]) x--;
                else y--;
                emit = aStart != a.Length;
            }
            if (emit)
            {
                if (aEnd - aStart + 1 >= minMatchLen)
                {
                    ranges.Add((aStart, aEnd, bStart, bEnd));
                }
                aStart = a.Length;
            }
        }
        if (!idx)
        {
            c.Output.Bulk(common);
            return;
        }
        c.Output.ArrayHeader(4);
        c.Output.Bulk("matches");
        c.Output.ArrayHeader(ranges.Count);
        foreach (var (rangeAStart, rangeAEnd, rangeBStart, rangeBEnd) in ranges)
        {
            c.Output.ArrayHeader(withMatchLen ? 3 : 2);
            c.Output.ArrayHeader(2);
            c.Output.Integer(rangeAStart);
            c.Output.Integer(rangeAEnd);
            c.Output.ArrayHeader(2);
            c.Output.Integer(rangeBStart);
            c.Output.Integer(rangeBEnd);
            if (withMatchLen)
            {
                c.Output.Integer(rangeAEnd - rangeAStart + 1);
            }
        }
        c.Output.Bulk("len");
        c.Output.Integer(length);
    }
}
