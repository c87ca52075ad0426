namespace Kv;

/// <summary>A character class in a glob pattern: <c>[abc]</c>, <c>[^abc]</c>, ranges <c>[a-c]</c>, <c>\</c> escapes.</summary>
internal static partial class Glob
{
    /// <summary>
    /// Whether <paramref name="ch"/> is in the character class whose first character (after <c>[</c>) is at
    /// <paramref name="p"/>; leaves <paramref name="p"/> on the class's closing <c>]</c> (an unclosed class ends the pattern).
    /// </summary>
    private static bool MatchesClass(ReadOnlySpan<char> pattern, ref int p, char ch)
    {
        var negate = p < pattern.Length && pattern[p] == '^';
        if (negate)
        {
            p++;
        }
        var matched = false;
        while (true)
        {
            if (p >= pattern.Length)
            {
                p--; // An unclosed class ends the pattern, as in Redis.
                break;
            }
            if (pattern[p] == '\\' && p + 1 < pattern.Length)
            {
                p++;
                matched |= pattern[p] == ch;
            }
            else if (pattern[p] == ']')
            {
                break;
            }
            else if (p + 2 < pattern.Length && pattern[p + 1] == '-')
            {
                // A range; reversed bounds are swapped, as Redis does.
                var low = pattern[p];
                var high = pattern[p + 2];
                if (low > high)
                {
                    (low, high) = (high, low);
                }
                matched |= ch >= low && ch <= high;
                p += 2;
            }
            else
            {
                matched |= pattern[p] == ch;
            }
            p++;
        }
        return matched != negate;
    }
}
