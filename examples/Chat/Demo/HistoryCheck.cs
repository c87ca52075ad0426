using System.Globalization;

namespace Chat.Demo;

/// <summary>What a look at every room's history found: how many messages, and anything wrong.</summary>
/// <param name="Messages">Messages in all the histories.</param>
/// <param name="Problems">What is wrong (at most a few, then a count).</param>
public sealed record HistoryCheck(int Messages, IReadOnlyList<string> Problems)
{
    private const int MaxProblems = 8;

    /// <summary>Whether the history holds what the clients said, each line once.</summary>
    public bool Ok => Problems.Count == 0;

    /// <summary>
    /// Checks the histories against what the clients said: every line acknowledged before the histories were
    /// asked for is there, exactly once, in its client's room; nothing is there that was not said; message
    /// numbers (from release 2 on) only grow within a room and are never reused. With <paramref name="exact"/>
    /// (clients stopped), every line said must be there.
    /// </summary>
    /// <param name="historyByRoom">Each room's HIST lines: <c>HIST nick text</c> or <c>HIST id time nick text</c>.</param>
    /// <param name="clients">The talking clients.</param>
    /// <param name="acknowledgedBefore">Each client's acknowledged count just before the histories were asked for.</param>
    /// <param name="sentAfter">Each client's sent count just after they were read.</param>
    /// <param name="exact">Whether the clients had stopped: then every line said must be there.</param>
    public static HistoryCheck Verify(IReadOnlyDictionary<string, List<string>> historyByRoom, IReadOnlyList<ChatClient> clients,
        IReadOnlyDictionary<string, int> acknowledgedBefore, IReadOnlyDictionary<string, int> sentAfter, bool exact)
    {
        var problems = new List<string>();
        var byNick = clients.ToDictionary(c => c.Nick, StringComparer.Ordinal);
        var seen = clients.ToDictionary(c => c.Nick, _ => new HashSet<int>(), StringComparer.Ordinal);
        var ids = new HashSet<long>();
        var messages = 0;
        foreach (var (room, lines) in historyByRoom)
        {
            long lastId = 0;
            foreach (var line in lines)
            {
                messages++;
                var parts = line.Split(' ');
                var nick = parts[^2];
                var text = parts[^1];
                if (!byNick.TryGetValue(nick, out var client) || client.Room != room)
                {
                    problems.Add($"{room}: a line from '{nick}', who is not in this room: '{line}'");
                    continue;
                }
                if (!text.StartsWith(nick + "/", StringComparison.Ordinal)
                    || !int.TryParse(text.AsSpan(nick.Length + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
                {
                    problems.Add($"{room}: a line that {nick} did not say: '{line}'");
                    continue;
                }
                if (!seen[nick].Add(number))
                {
                    problems.Add($"{room}: {text} is there twice");
                }
                if (number > sentAfter[nick])
                {
                    problems.Add($"{room}: {text} is there, but {nick} said only {sentAfter[nick]} lines");
                }
                if (parts.Length == 5)
                {
                    var id = long.Parse(parts[1], CultureInfo.InvariantCulture);
                    if (id <= lastId || !ids.Add(id))
                    {
                        problems.Add($"{room}: message number {id} of {text} is out of order or reused");
                    }
                    lastId = id;
                }
            }
        }
        foreach (var client in clients)
        {
            var expected = exact ? sentAfter[client.Nick] : acknowledgedBefore[client.Nick];
            var missing = Enumerable.Range(1, expected).Where(n => !seen[client.Nick].Contains(n)).ToList();
            if (missing.Count > 0)
            {
                problems.Add($"{client.Room}: {missing.Count} of {client.Nick}'s {expected} acknowledged lines are missing (first: {client.Nick}/{missing[0]})");
            }
        }
        if (problems.Count > MaxProblems)
        {
            problems = [.. problems.Take(MaxProblems), $"... and {problems.Count - MaxProblems} more"];
        }
        return new HistoryCheck(messages, problems);
    }

    /// <inheritdoc/>
    public override string ToString() => Ok
        ? $"OK ({Messages} messages, every acknowledged one present once)"
        : $"FAILED ({Messages} messages): {string.Join("; ", Problems)}";
}
