namespace Kv;

/// <summary>
/// Glob-style patterns as Redis's KEYS, SCAN MATCH and CONFIG GET take them: <c>*</c>, <c>?</c>, <c>[abc]</c>,
/// <c>[^abc]</c> and <c>\</c> escapes (Redis's <c>stringmatchlen</c>). Each release's <c>GlobClass.cs</c> matches a
/// character class: release 5 fixes ranges there.
/// </summary>
internal static partial class Glob
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
                    p++;
                    if (!MatchesClass(pattern, ref p, text[s]))
                    {
                        return false;
                    }
                    s++;
                    break;
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
