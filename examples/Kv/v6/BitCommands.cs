using System.Numerics;

namespace Kv;

/// <summary>GETBIT, SETBIT, BITCOUNT: a string as a bitmap, bit 0 the most significant bit of the first byte.</summary>
internal static partial class Commands
{
    /// <summary>A bit offset as Redis reads it: an integer from 0 to below 2^32 (a 512 MB string); false with the error answered.</summary>
    private static bool TryParseBitOffset(Connection c, int index, out long offset)
    {
        if (!Number.TryParseInt64(c.Arg(index), out offset) || offset < 0 || (offset >> 3) >= MaxStringLength)
        {
            c.Output.Error("ERR bit offset is not an integer or out of range");
            return false;
        }
        return true;
    }

    private static void GetBit(Connection c, long now)
    {
        if (!TryParseBitOffset(c, 2, out var offset) || !TryFind<StringValue>(c, c.Key(1), now, out var value))
        {
            return;
        }
        var bytes = value?.Bytes ?? [];
        var at = offset >> 3;
        c.Output.Integer(at < bytes.Length && (bytes[at] & (0x80 >> (int)(offset & 7))) != 0 ? 1 : 0);
    }

    /// <summary>SETBIT key offset 0|1: the bit it had; the string grows with zero bytes to hold it.</summary>
    private static void SetBit(Connection c, long now)
    {
        if (!TryParseBitOffset(c, 2, out var offset))
        {
            return;
        }
        if (!Number.TryParseInt64(c.Arg(3), out var bit) || (bit & ~1L) != 0)
        {
            c.Output.Error("ERR bit is not an integer or out of range");
            return;
        }
        var key = c.Key(1);
        if (!TryFind<StringValue>(c, key, now, out var value))
        {
            return;
        }
        if (value is null)
        {
            value = new StringValue([]);
            Store.Put(key, new Entry(value));
        }
        var at = (int)(offset >> 3);
        if (at >= value.Bytes.Length)
        {
            var grown = new byte[at + 1];
            value.Bytes.CopyTo(grown, 0);
            value.Bytes = grown;
        }
        var mask = (byte)(0x80 >> (int)(offset & 7));
        var old = (value.Bytes[at] & mask) != 0 ? 1 : 0;
        value.Bytes[at] = (byte)(bit == 1 ? value.Bytes[at] | mask : value.Bytes[at] & ~mask);
        c.Output.Integer(old);
    }

    /// <summary>BITCOUNT key [start end [BYTE|BIT]]: the bits set in the range, as Redis 7.0's bitcountCommand (the key is looked up first).</summary>
    private static void BitCount(Connection c, long now)
    {
        if (!TryFind<StringValue>(c, c.Key(1), now, out var value))
        {
            return;
        }
        if (value is null)
        {
            c.Output.Integer(0);
            return;
        }
        var bytes = value.Bytes;
        long start = 0, end = bytes.Length - 1;
        byte firstMask = 0, lastMask = 0;
        if (c.ArgCount is 4 or 5)
        {
            if (!Number.TryParseInt64(c.Arg(2), out start) || !Number.TryParseInt64(c.Arg(3), out end))
            {
                c.Output.Error(NotInteger);
                return;
            }
            var inBits = false;
            if (c.ArgCount == 5)
            {
                inBits = c.Is(4, "BIT");
                if (!inBits && !c.Is(4, "BYTE"))
                {
                    c.Output.Error(SyntaxError);
                    return;
                }
            }
            long total = inBits ? (long)bytes.Length << 3 : bytes.Length;
            if (start < 0) start = total + start;
            if (end < 0) end = total + end;
            if (start < 0) start = 0;
            if (end < 0) end = 0;
            if (end >= total) end = total - 1;
            if (inBits && start <= end)
            {
                // The bits of the first and last bytes outside the range, not to be counted.
                firstMask = (byte)(~((1 << (8 - (int)(start & 7))) - 1) & 0xFF);
                lastMask = (byte)((1 << (7 - (int)(end & 7))) - 1);
                start >>= 3;
                end >>= 3;
            }
        }
        else if (c.ArgCount != 2)
        {
            c.Output.Error(SyntaxError);
            return;
        }
        if (start > end)
        {
            c.Output.Integer(0);
            return;
        }
        long count = 0;
        for (var i = start; i <= end; i++)
        {
            count += BitOperations.PopCount(bytes[i]);
        }
        count -= BitOperations.PopCount((uint)(bytes[start] & firstMask)) + BitOperations.PopCount((uint)(bytes[end] & lastMask));
        c.Output.Integer(count);
    }
}
