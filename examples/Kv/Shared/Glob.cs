namespace Kv;

/// <summary>
/// Glob-style patterns as Redis's KEYS, SCAN MATCH and CONFIG GET take them: <c>*</c>, <c>?</c>, <c>[abc]</c>,
/// <c>[^abc]</c> and <c>\</c> escapes (Redis's <c>stringmatchlen</c>). Each release's <c>GlobClass.cs</c> matches a
/// character class: release 5 fixes ranges there.
/// </summary>
internal static partial class Glob
{
    /// <summary>Whether <paramref name="text"/> matches <paramref name="pattern"/>.</summary>
    /// <remarks>
    /// In O(pattern x text) steps, never more: every token but <c>*</c> matches exactly one character, so only the last
    /// <c>*</c> met ever needs to take one more character when the rest fails (trying the earlier ones again cannot help).
    /// Matching by recursion at each <c>*</c>, as before, took exponential time: <c>KEYS</c> with a pattern of many
    /// <c>*</c> ran for minutes and answered no client (Redis bounded the same recursion for CVE-2022-36021).
    /// The results are Redis's, quirks included: an empty key matches only the empty pattern.
    /// </remarks>
    public static bool IsMatch(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return pattern.IsEmpty;
        }
        var p = 0;
        var s = 0;
        var afterStar = -1; // where the pattern goes on after the last '*' met
        var starFrom = 0;   // the first character of the text that star does not take (yet)
        while (s < text.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                while (p < pattern.Length && pattern[p] == '*')
                {
                    p++;
                }
                if (p == pattern.Length)
                {
                    return true;
                }
                afterStar = p;
                starFrom = s;
                continue;
            }
            if (p < pattern.Length && MatchesOne(pattern, ref p, text[s]))
            {
                s++;
                continue;
            }
            if (afterStar < 0)
            {
                return false;
            }
            // The last star takes one more character, and the rest is tried from there.
            p = afterStar;
            s = ++starFrom;
        }
        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }
        return p == pattern.Length;
    }

    /// <summary>Whether the token at <paramref name="p"/> (not a <c>*</c>) matches <paramref name="ch"/>; if so, <paramref name="p"/> moves past it.</summary>
    private static bool MatchesOne(ReadOnlySpan<char> pattern, ref int p, char ch)
    {
        var at = p;
        bool matched;
        switch (pattern[at])
        {
            case '?':
                matched = true;
                break;
            case '[':
                at++;
                matched = MatchesClass(pattern, ref at, ch); // leaves 'at' on the class's ']'
                break;
            case '\\' when at + 1 < pattern.Length:
                at++;
                matched = pattern[at] == ch;
                break;
            default:
                matched = pattern[at] == ch;
                break;
        }
        if (matched)
        {
            p = at + 1;
        }
        return matched;
    }
}
