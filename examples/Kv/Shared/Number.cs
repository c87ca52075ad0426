using System.Globalization;

namespace Kv;

/// <summary>Integers as Redis reads and writes them.</summary>
internal static class Number
{
    /// <summary>
    /// Redis's <c>string2ll</c>: an optional minus, then digits with no leading zero, no sign <c>+</c>, no space,
    /// within a 64-bit integer.
    /// </summary>
    public static bool TryParseInt64(ReadOnlySpan<byte> text, out long value)
    {
        value = 0;
        if (text.Length is 0 or > 20)
        {
            return false;
        }
        if (text.Length == 1 && text[0] == (byte)'0')
        {
            return true;
        }
        var negative = text[0] == (byte)'-';
        var digits = negative ? text[1..] : text;
        if (digits.Length == 0 || digits[0] is < (byte)'1' or > (byte)'9')
        {
            return false;
        }
        ulong magnitude = 0;
        foreach (var b in digits)
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                return false;
            }
            var digit = (ulong)(b - '0');
            if (magnitude > (ulong.MaxValue - digit) / 10)
            {
                return false;
            }
            magnitude = magnitude * 10 + digit;
        }
        if (negative)
        {
            if (magnitude > (ulong)long.MaxValue + 1)
            {
                return false;
            }
            value = (long)(0 - magnitude);
            return true;
        }
        if (magnitude > long.MaxValue)
        {
            return false;
        }
        value = (long)magnitude;
        return true;
    }

    /// <summary>A SCAN cursor: an unsigned decimal.</summary>
    public static bool TryParseCursor(ReadOnlySpan<byte> text, out ulong value) =>
        ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    /// <summary>The decimal text of a value, as INCR stores it.</summary>
    public static byte[] Format(long value) => System.Text.Encoding.ASCII.GetBytes(value.ToString(CultureInfo.InvariantCulture));
}

/// <summary>Time as Redis keeps deadlines: Unix milliseconds.</summary>
internal static class Clock
{
    /// <summary>Now, in Unix milliseconds.</summary>
    public static long NowMs => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}
