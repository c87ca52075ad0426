using System.Globalization;
using System.Text;
using Molt.Hosting;

namespace Chat.Demo;

/// <summary>One live update of the scenario and what the clients saw across it.</summary>
public sealed class UpdateReport
{
    /// <summary>The release updated from (v1...).</summary>
    public required string From { get; init; }

    /// <summary>The release updated to.</summary>
    public required string To { get; init; }

    /// <summary>What Molt says it did.</summary>
    public required UpdateResult Result { get; init; }

    /// <summary>Lines acknowledged to clients while the update ran (from the request until it returned).</summary>
    public int LinesDuringUpdate { get; set; }

    /// <summary>Clients still on their original connection afterwards.</summary>
    public int ConnectionsKept { get; set; }

    /// <summary>Clients that answered VERSION with the new release's number afterwards.</summary>
    public int NewVersionReplies { get; set; }

    /// <summary>The clients' connection units that the new version resumed.</summary>
    public int ConnectionUnitsResumed { get; set; }

    /// <summary>Client errors since the previous step.</summary>
    public int ClientErrors { get; set; }

    /// <summary>The rooms' histories, checked against what the clients said.</summary>
    public HistoryCheck? History { get; set; }

    /// <summary>Checks specific to this release (name, passed).</summary>
    public List<(string Name, bool Passed)> ReleaseChecks { get; } = [];
}

/// <summary>What the chat scenario did and whether everything held.</summary>
public sealed class ChatReport
{
    /// <summary>Each update, in order.</summary>
    public List<UpdateReport> Updates { get; } = [];

    /// <summary>The clients that talked.</summary>
    public int Clients { get; set; }

    /// <summary>Lines the clients said.</summary>
    public int LinesSent { get; set; }

    /// <summary>Lines the clients said that came back to them.</summary>
    public int LinesAcknowledged { get; set; }

    /// <summary>The final look at the histories, once the clients stopped.</summary>
    public HistoryCheck? FinalHistory { get; set; }

    /// <summary>Every client error of the run.</summary>
    public List<string> ClientErrors { get; } = [];

    /// <summary>Everything that did not hold; empty when the scenario succeeded.</summary>
    public List<string> Failures { get; } = [];

    /// <summary>How long the scenario ran.</summary>
    public TimeSpan Elapsed { get; set; }

    /// <summary>Whether every update committed and every check held.</summary>
    public bool Succeeded => Failures.Count == 0;

    /// <summary>The closing summary: one row per update, then the totals.</summary>
    public string Summary()
    {
        string[] header = ["update", "outcome", "pause", "prepare", "objects rebuilt", "refs passed", "conns resumed", "lines during", "client errors", "history", "old unloaded"];
        var rows = Updates.Select(u => new[]
        {
            $"{u.From} -> {u.To}",
            u.Result.Outcome.ToString(),
            Ms(u.Result.PauseTime),
            Ms(u.Result.PrepareTime),
            u.Result.ObjectsRebuilt.ToString(CultureInfo.InvariantCulture),
            u.Result.ReferencesPassed.ToString(CultureInfo.InvariantCulture),
            u.ConnectionUnitsResumed.ToString(CultureInfo.InvariantCulture),
            u.LinesDuringUpdate.ToString(CultureInfo.InvariantCulture),
            u.ClientErrors.ToString(CultureInfo.InvariantCulture),
            u.History is null ? "-" : u.History.Ok ? $"OK ({u.History.Messages})" : "FAILED",
            u.Result.OldVersionUnloaded switch { true => "yes", false => "NO", null => "-" },
        }).ToList();
        var widths = header.Select((h, i) => rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        var text = new StringBuilder();
        AppendRow(header);
        text.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
        rows.ForEach(AppendRow);
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"{Clients} clients, {LinesSent} lines said, {LinesAcknowledged} acknowledged, {FinalHistory?.Messages.ToString(CultureInfo.InvariantCulture) ?? "?"} in the histories, " +
            $"{ClientErrors.Count} client errors; {Updates.Count(u => u.Result.Outcome == UpdateOutcome.Committed)} of {Updates.Count} updates committed; {Elapsed.TotalSeconds:0.0} s");
        text.Append(Succeeded ? "RESULT: OK, everything held" : "RESULT: FAILED\n  - " + string.Join("\n  - ", Failures));
        return text.ToString();

        void AppendRow(string[] cells) =>
            text.AppendLine(string.Join("  ", cells.Select((c, i) => i is 0 or 1 or 9 or 10 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))).TrimEnd());
    }

    private static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture) + " ms";
}
