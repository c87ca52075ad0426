using System.Globalization;
using System.Text;

namespace Kv;

/// <summary>
/// A number of INCRBYFLOAT and HINCRBYFLOAT. Redis computes in C's 80-bit <c>long double</c> and prints with 17
/// decimals, trailing zeros dropped; kv computes in 128-bit <see cref="decimal"/> where the numbers fit (±7.9e28, 28
/// digits: decimal fractions such as 0.1 + 0.2 come out as Redis prints them) and in <see cref="double"/> beyond.
/// </summary>
internal readonly record struct FloatValue(decimal Exact, double Approximate, bool IsExact)
{
    /// <summary>Whether it is an infinity (which Redis parses, and then refuses to add).</summary>
    public bool IsInfinite => !IsExact && double.IsInfinity(Approximate);
}

/// <summary>Redis's <c>string2ld</c> and <c>ld2string</c> (human form) over <see cref="FloatValue"/>.</summary>
internal static class RedisFloat
{
    private const NumberStyles Style = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent;

    /// <summary>
    /// Reads a float as Redis does: no leading or trailing space, an optional sign, decimals and an exponent, or an
    /// infinity (<c>inf</c>, <c>infinity</c>, any case); NaN is not a float. False when it is none of these.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> bytes, out FloatValue value)
    {
        value = default;
        // Redis's MAX_LONG_DOUBLE_CHARS: longer text is no float.
        if (bytes.Length is 0 or > 5 * 1024 || char.IsWhiteSpace((char)bytes[0]))
        {
            return false;
        }
        var text = Encoding.Latin1.GetString(bytes);
        if (decimal.TryParse(text, Style, CultureInfo.InvariantCulture, out var exact))
        {
            value = new FloatValue(exact, (double)exact, true);
            return true;
        }
        var unsigned = text[0] is '+' or '-' ? text[1..] : text;
        if (unsigned.Equals("inf", StringComparison.OrdinalIgnoreCase) || unsigned.Equals("infinity", StringComparison.OrdinalIgnoreCase))
        {
            value = new FloatValue(0, text[0] == '-' ? double.NegativeInfinity : double.PositiveInfinity, false);
            return true;
        }
        if (double.TryParse(text, Style, CultureInfo.InvariantCulture, out var approximate) && !double.IsNaN(approximate))
        {
            value = new FloatValue(0, approximate, false);
            return true;
        }
        return false;
    }

    /// <summary>The sum as Redis stores and answers it; false when it is not finite ("would produce NaN or Infinity").</summary>
    public static bool TryAdd(FloatValue a, FloatValue b, out byte[] text)
    {
        if (a.IsExact && b.IsExact)
        {
            try
            {
                text = Format(a.Exact + b.Exact);
                return true;
            }
            catch (OverflowException)
            {
                // Beyond decimal's range: in double, below.
            }
        }
        var sum = a.Approximate + b.Approximate;
        if (!double.IsFinite(sum))
        {
            text = [];
            return false;
        }
        var digits = sum.ToString("F17", CultureInfo.InvariantCulture).TrimEnd('0').TrimEnd('.');
        text = Encoding.ASCII.GetBytes(digits is "-0" or "" ? "0" : digits);
        return true;
    }

    /// <summary>At most 17 decimals (rounded, as printf's <c>%.17Lf</c>), trailing zeros dropped, no negative zero.</summary>
    private static byte[] Format(decimal value)
    {
        var digits = Math.Round(value, 17, MidpointRounding.ToEven).ToString("0.#################", CultureInfo.InvariantCulture);
        return Encoding.ASCII.GetBytes(digits == "-0" ? "0" : digits);
    }
}
