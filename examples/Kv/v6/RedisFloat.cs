using System.Globalization;
using System.Numerics;
using System.Text;

namespace Kv;

/// <summary>
/// A number of INCRBYFLOAT and HINCRBYFLOAT as Redis holds it: C's 80-bit <c>long double</c> of x86, a 64-bit mantissa
/// and a binary exponent (<c>Mantissa * 2^Exponent</c>, the mantissa rounded to 64 bits), or an infinity.
/// </summary>
internal readonly record struct FloatValue(BigInteger Mantissa, int Exponent, int InfinitySign)
{
    /// <summary>Zero.</summary>
    public static FloatValue Zero => new(BigInteger.Zero, 0, 0);

    /// <summary>Whether it is an infinity (which Redis reads, and then refuses to add).</summary>
    public bool IsInfinite => InfinitySign != 0;
}

/// <summary>
/// Redis's float arithmetic, exactly: <c>strtold</c> (a decimal rounded to the nearest long double), a long double
/// sum (the exact sum rounded so), and <c>ld2string</c>'s human form (<c>%.17Lf</c>, trailing zeros dropped), in
/// integers of any size. Hexadecimal floats (<c>0x1p3</c>), which strtold also reads, are not read here.
/// </summary>
internal static class RedisFloat
{
    /// <summary>A long double's mantissa: 64 bits.</summary>
    private const int MantissaBits = 64;

    /// <summary>The binary exponents of a normal long double: values from 2^-16382 to below 2^16384.</summary>
    private const int MinBinaryExponent = -16382;

    private const int MaxBinaryExponent = 16384;

    /// <summary>
    /// Reads a float as Redis's <c>string2ld</c> does: no space before or after, an optional sign, digits with an optional
    /// point and exponent, or an infinity (<c>inf</c>, <c>infinity</c>, any case); not NaN, nor a value beyond a long
    /// double's range (strtold's ERANGE). False when it is none of these.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> bytes, out FloatValue value)
    {
        value = FloatValue.Zero;
        // Redis's MAX_LONG_DOUBLE_CHARS: longer text is no float.
        if (bytes.Length is 0 or > 5 * 1024)
        {
            return false;
        }
        var text = Encoding.Latin1.GetString(bytes);
        var negative = text[0] == '-';
        var unsigned = text[0] is '+' or '-' ? text[1..] : text;
        if (unsigned.Equals("inf", StringComparison.OrdinalIgnoreCase) || unsigned.Equals("infinity", StringComparison.OrdinalIgnoreCase))
        {
            value = new FloatValue(BigInteger.Zero, 0, negative ? -1 : 1);
            return true;
        }
        // digits [. digits] [e|E [sign] digits], with a digit before or after the point.
        var at = 0;
        var digits = new StringBuilder();
        var decimalExponent = 0L;
        while (at < unsigned.Length && char.IsAsciiDigit(unsigned[at]))
        {
            digits.Append(unsigned[at++]);
        }
        if (at < unsigned.Length && unsigned[at] == '.')
        {
            at++;
            while (at < unsigned.Length && char.IsAsciiDigit(unsigned[at]))
            {
                digits.Append(unsigned[at++]);
                decimalExponent--;
            }
        }
        if (digits.Length == 0)
        {
            return false;
        }
        if (at < unsigned.Length && unsigned[at] is 'e' or 'E')
        {
            var exponentText = unsigned[(at + 1)..];
            var exponentDigits = exponentText.Length > 0 && exponentText[0] is '+' or '-' ? exponentText[1..] : exponentText;
            if (exponentDigits.Length == 0 || !exponentDigits.All(char.IsAsciiDigit))
            {
                return false;
            }
            // An exponent beyond any long double's is an overflow or underflow either way; keep it from overflowing here.
            var exponent = exponentDigits.Length > 9 ? 1_000_000_000L : long.Parse(exponentDigits, CultureInfo.InvariantCulture);
            decimalExponent += exponentText[0] == '-' ? -exponent : exponent;
            at = unsigned.Length;
        }
        if (at != unsigned.Length)
        {
            return false;
        }
        var significand = BigInteger.Parse(digits.ToString(), CultureInfo.InvariantCulture);
        if (significand.IsZero)
        {
            return true; // Zero is no underflow.
        }
        // The value is about 10^(decimalExponent + digit count): far outside 10^±4951 it overflows or underflows.
        var magnitude = decimalExponent + significand.ToString(CultureInfo.InvariantCulture).Length;
        if (magnitude is > 4940 or < -4960)
        {
            return false;
        }
        var numerator = decimalExponent >= 0 ? significand * BigInteger.Pow(10, (int)decimalExponent) : significand;
        var denominator = decimalExponent >= 0 ? BigInteger.One : BigInteger.Pow(10, (int)-decimalExponent);
        if (!TryRound(negative ? -numerator : numerator, denominator, out value))
        {
            return false;
        }
        return true;
    }

    /// <summary>The sum as Redis stores and answers it; false when it is not finite ("would produce NaN or Infinity").</summary>
    public static bool TryAdd(FloatValue a, FloatValue b, out byte[] text)
    {
        text = [];
        if (a.IsInfinite || b.IsInfinite)
        {
            return false; // inf + x is infinite, and inf - inf is NaN: neither is stored.
        }
        var low = Math.Min(a.Exponent, b.Exponent);
        var sum = (a.Mantissa << (a.Exponent - low)) + (b.Mantissa << (b.Exponent - low));
        // sum * 2^low, rounded to a long double.
        var (numerator, denominator) = low >= 0 ? (sum << low, BigInteger.One) : (sum, BigInteger.One << -low);
        if (!TryRound(numerator, denominator, out var rounded))
        {
            return false;
        }
        text = Format(rounded);
        return true;
    }

    /// <summary>
    /// numerator / denominator rounded to the nearest long double (subnormals included), ties to even; false when it is
    /// beyond the range: an overflow, or a nonzero value that rounds to 0 (strtold's ERANGE).
    /// </summary>
    private static bool TryRound(BigInteger numerator, BigInteger denominator, out FloatValue value)
    {
        value = FloatValue.Zero;
        if (numerator.IsZero)
        {
            return true;
        }
        var negative = numerator.Sign < 0;
        var absolute = BigInteger.Abs(numerator);
        // Choose the shift that leaves a 64-bit quotient: (absolute * 2^shift) / denominator in [2^63, 2^64).
        var shift = MantissaBits - (int)(absolute.GetBitLength() - denominator.GetBitLength());
        BigInteger quotient, remainder;
        while (true)
        {
            var (scaled, divisor) = shift >= 0 ? (absolute << shift, denominator) : (absolute, denominator << -shift);
            quotient = BigInteger.DivRem(scaled, divisor, out remainder);
            var bits = quotient.GetBitLength();
            if (bits > MantissaBits)
            {
                shift--;
            }
            else if (bits < MantissaBits)
            {
                shift++;
            }
            else
            {
                var twice = remainder * 2;
                var compared = twice.CompareTo(divisor);
                if (compared > 0 || (compared == 0 && !quotient.IsEven))
                {
                    quotient += 1;
                }
                break;
            }
        }
        var exponent = -shift;
        if (quotient.GetBitLength() > MantissaBits)
        {
            quotient >>= 1;
            exponent++;
        }
        // The value is quotient * 2^exponent with quotient in [2^63, 2^64): at least 2^(exponent + 63).
        if (exponent + MantissaBits > MaxBinaryExponent)
        {
            return false;
        }
        if (exponent + MantissaBits - 1 < MinBinaryExponent)
        {
            // Below the normal range: a subnormal, a multiple of the smallest one, 2^-16445; one that rounds to 0 underflowed.
            const int smallestExponent = MinBinaryExponent - (MantissaBits - 1);
            quotient = BigInteger.DivRem(absolute << -smallestExponent, denominator, out remainder);
            var compared = (remainder * 2).CompareTo(denominator);
            if (compared > 0 || (compared == 0 && !quotient.IsEven))
            {
                quotient += 1;
            }
            if (quotient.IsZero)
            {
                return false;
            }
            exponent = smallestExponent;
        }
        value = new FloatValue(negative ? -quotient : quotient, exponent, 0);
        return true;
    }

    /// <summary>printf's <c>%.17Lf</c> (the exact value rounded to 17 decimals, ties to even), trailing zeros dropped, no negative zero.</summary>
    private static byte[] Format(FloatValue value)
    {
        var scale = BigInteger.Pow(10, 17);
        var absolute = BigInteger.Abs(value.Mantissa);
        BigInteger scaled;
        if (value.Exponent >= 0)
        {
            scaled = (absolute << value.Exponent) * scale;
        }
        else
        {
            var divisor = BigInteger.One << -value.Exponent;
            scaled = BigInteger.DivRem(absolute * scale, divisor, out var remainder);
            var compared = (remainder * 2).CompareTo(divisor);
            if (compared > 0 || (compared == 0 && !scaled.IsEven))
            {
                scaled += 1;
            }
        }
        var whole = BigInteger.DivRem(scaled, scale, out var fraction);
        var text = new StringBuilder();
        if (value.Mantissa.Sign < 0)
        {
            text.Append('-');
        }
        text.Append(whole.ToString(CultureInfo.InvariantCulture));
        var decimals = fraction.ToString(CultureInfo.InvariantCulture).PadLeft(17, '0').TrimEnd('0');
        if (decimals.Length > 0)
        {
            text.Append('.').Append(decimals);
        }
        var result = text.ToString();
        return Encoding.ASCII.GetBytes(result == "-0" ? "0" : result);
    }
}
