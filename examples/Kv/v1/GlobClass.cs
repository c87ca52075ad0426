namespace Kv;

/// <summary>A character class in a glob pattern: <c>[abc]</c>, <c>[^abc]</c>, <c>\</c> escapes.</summary>
/// <remarks>
/// The known bug that release 5 fixes: a range in a class, <c>[a-c]</c>, is read as the three characters
/// <c>a</c>, <c>-</c> and <c>c</c>, so <c>KEYS user:[1-3]</c> misses <c>user:2</c>.
/// </remarks>
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
            else
            {
                matched |= pattern[p] == ch;
            }
            p++;
        }
        return matched != negate;
    }
}
