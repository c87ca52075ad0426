namespace Kv;

/// <summary>
/// Glob-style patterns as Redis's KEYS, SCAN MATCH and CONFIG GET take them: <c>*</c>, <c>?</c>, <c>[abc]</c>,
/// <c>[^abc]</c> and <c>\</c> escapes (Redis's <c>stringmatchlen</c>).
/// </summary>
/// <remarks>
/// The known bug that release 5 fixes: a range in a class, <c>[a-c]</c>, is read as the three characters
/// <c>a</c>, <c>-</c> and <c>c</c>, so <c>KEYS user:[1-3]</c> misses <c>user:2</c>.
/// </remarks>
internal static class Glob
{
    /// <summary>Whether <paramref name="text"/> matches <paramref name="pattern"/>.</summary>
    public static bool IsMatch(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        var p = 0;
        var s = 0;
        while (p < pattern.Length && s < text.Length)
        {
            switch (pattern[p])
            {
                case '*':
                    while (p + 1 < pattern.Length && pattern[p + 1] == '*')
                    {
                        p++;
                    }
                    if (p + 1 == pattern.Length)
                    {
                        return true;
                    }
                    for (var from = s; from <= text.Length; from++)
                    {
                        if (IsMatch(pattern[(p + 1)..], text[from..]))
                        {
                            return true;
                        }
                    }
                    return false;
                case '?':
                    s++;
                    break;
                case '[':
                {
                    p++;
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
                            matched |= pattern[p] == text[s];
                        }
                        else if (pattern[p] == ']')
                        {
                            break;
                        }
                        else
                        {
                            matched |= pattern[p] == text[s];
                        }
                        p++;
                    }
                    if (matched == negate)
                    {
                        return false;
                    }
                    s++;
                    break;
                }
                case '\\' when p + 1 < pattern.Length:
                    p++;
                    if (pattern[p] != text[s])
                    {
                        return false;
                    }
                    s++;
                    break;
                default:
                    if (pattern[p] != text[s])
                    {
                        return false;
                    }
                    s++;
                    break;
            }
            p++;
            if (s == text.Length)
            {
                while (p < pattern.Length && pattern[p] == '*')
                {
                    p++;
                }
                break;
            }
        }
        return p == pattern.Length && s == text.Length;
    }
}
