using System.Globalization;
using System.Text.Json;
using Molt.Hosting;
using Molt.Hosting.Control;
using Spectre.Console;

namespace Molt.Cli.Output;

/// <summary>
/// Everything <c>molt</c> prints, in one place. On a terminal: colour and tables (Spectre.Console). When
/// stdout is redirected: plain lines, one fact a line, stable for grep. With <c>--json</c>: the records as JSON.
/// Errors go to stderr.
/// </summary>
internal static class Render
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Whether stdout is a terminal (rich output) rather than a file or a pipe (plain lines).</summary>
    public static bool Rich { get; } = !Console.IsOutputRedirected;

    // ---- errors ---------------------------------------------------------------------------------------------

    /// <summary>A failure of the command: to stderr, or as JSON on stdout for scripts.</summary>
    public static int Error(string message, int exitCode, bool json = false)
    {
        if (json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(new JsonError(message, exitCode), CliJson.Default.JsonError));
        }
        Console.Error.WriteLine($"molt: {message}");
        return exitCode;
    }

    // ---- list -----------------------------------------------------------------------------------------------

    /// <summary>The programs with an endpoint.</summary>
    public static void List(IReadOnlyList<EndpointInfo> programs, bool json)
    {
        if (json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(programs, CliJson.Default.IReadOnlyListEndpointInfo));
            return;
        }
        if (programs.Count == 0)
        {
            Console.Out.WriteLine($"No Molt programs are running for this user (endpoints in {ControlEndpoints.Directory}).");
            return;
        }
        if (Rich)
        {
            var table = new Table().AddColumns("name", "process", "running since", "version", "program");
            foreach (var p in programs)
            {
                table.AddRow(Esc(p.Name), p.ProcessId.ToString(Invariant), Esc(Since(p.StartedAt)), Esc(ListedVersion(p)), Esc(p.ProgramPath));
            }
            AnsiConsole.Write(table);
            return;
        }
        foreach (var p in programs)
        {
            Console.Out.WriteLine($"{p.Name}\tprocess {p.ProcessId}\tsince {Time(p.StartedAt)}\t{ListedVersion(p)}\t{p.ProgramPath}");
        }
    }

    // A status carries the most recent updates only: they keep their numbers in the whole history.
    /// <summary>Where an update ran, when it was not in process.</summary>
    private static string Where(UpdateSummary h) => h.Mechanism == nameof(UpdateMechanism.NewProcess)
        ? h.NewProcessId is { } pid ? $" (new process {pid})" : " (new process)"
        : "";

    private static int FirstShown(ProgramStatus s) => Math.Max(1, s.UpdatesTotal - s.History.Count + 1);

    private static string HistoryShown(ProgramStatus s) =>
        s.UpdatesTotal > s.History.Count ? $" (the last {s.History.Count} of {s.UpdatesTotal})" : "";

    private static string ListedVersion(EndpointInfo p) => p.Version is null ? "?" : $"{p.Version} (generation {p.Generation})";

    // ---- status ---------------------------------------------------------------------------------------------

    /// <summary>A program's status.</summary>
    public static void Status(ProgramStatus s, bool json)
    {
        if (json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(s, CliJson.Default.ProgramStatus));
            return;
        }
        var facts = new List<(string, string)>
        {
            ("name", $"{s.Name} (process {s.ProcessId})"),
            ("runtime", s.Runtime ?? "?"),
            ("version", Version(s.Version)),
            ("sha256", s.Version.Sha256),
            ("assembly", s.Version.AssemblyPath),
            ("running since", Since(s.StartedAt)),
            ("this version since", Since(s.Version.LoadedAt)),
            ("managed memory", Bytes(s.ManagedMemoryBytes)),
            ("old versions not unloaded", s.OldVersionsNotUnloaded.Count == 0 ? "none" : string.Join("; ", s.OldVersionsNotUnloaded)),
            ("old code", s.OldCodeKept ? "kept loaded (--keep-old-code): tiered by the runtime; old state released at each update" : "unloaded at each update"),
        };
        if (Rich)
        {
            var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
            foreach (var (key, value) in facts)
            {
                grid.AddRow($"[grey]{key}[/]", Esc(value));
            }
            AnsiConsole.Write(grid);
            var units = new Table().Title("units").AddColumns("unit", "kind", "status", "last update point", "resumed from");
            foreach (var u in s.Units)
            {
                units.AddRow(Esc(u.Name), u.Kind, u.Status, Esc(u.LastUpdatePoint ?? "-"), Esc(u.ResumedFrom ?? "-"));
            }
            AnsiConsole.Write(units);
            if (s.History.Count == 0)
            {
                AnsiConsole.MarkupLine("[grey]no updates yet[/]");
                return;
            }
            // One entry a line, not a table: the versions are long, a table of them breaks on an 80-column terminal.
            AnsiConsole.MarkupLine($"[bold]update history[/]{Esc(HistoryShown(s))}");
            for (var i = 0; i < s.History.Count; i++)
            {
                var h = s.History[i];
                AnsiConsole.MarkupLine($"  {FirstShown(s) + i}. {OutcomeMarkup(h.Outcome)} at {Esc(Time(h.At))}: {Esc(h.From)} → {Esc(h.To)}{Esc(Where(h))}");
                AnsiConsole.MarkupLine($"     [grey]{Esc(Timings(h))}[/]");
                if (h.Failure is not null)
                {
                    AnsiConsole.MarkupLine($"     [red]failed in {Esc(h.FailedPhase ?? "?")}:[/] {Esc(h.Failure)}");
                }
            }
            return;
        }
        foreach (var (key, value) in facts)
        {
            Console.Out.WriteLine($"{key}: {value}");
        }
        Console.Out.WriteLine($"units: {s.Units.Count}");
        foreach (var u in s.Units)
        {
            Console.Out.WriteLine($"  unit {u.Name}: {u.Kind}, {u.Status}, last at {u.LastUpdatePoint ?? "-"}" + (u.ResumedFrom is { } r ? $", resumed from {r}" : ""));
        }
        Console.Out.WriteLine($"updates: {Math.Max(s.UpdatesTotal, s.History.Count)}{HistoryShown(s)}");
        for (var i = 0; i < s.History.Count; i++)
        {
            var h = s.History[i];
            Console.Out.WriteLine($"  {FirstShown(s) + i}. {h.Outcome} at {Time(h.At)}: {h.From} -> {h.To}{Where(h)}; {Timings(h)}");
            if (h.Failure is not null)
            {
                Console.Out.WriteLine($"     failed in {h.FailedPhase}: {h.Failure}");
            }
        }
    }

    // ---- check ----------------------------------------------------------------------------------------------

    /// <summary>A compatibility report.</summary>
    public static void Check(CheckSummary check, bool json)
    {
        if (json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(check, CliJson.Default.CheckSummary));
            return;
        }
        foreach (var line in check.Lines)
        {
            WriteLine(line, check.Compatible ? null : "yellow");
        }
        WriteLine(CheckVerdict(check), check.Compatible ? "green" : "red");
    }

    /// <summary>The last line of a check: compatible, or what the update would do instead (refused at prepare, or rolled back at transfer by the state held now).</summary>
    private static string CheckVerdict(CheckSummary check)
    {
        if (check.Compatible)
        {
            return check.Trial?.Outcome == CheckTrialOutcome.StateChanging
                ? "check: compatible by the types (the running state changed under the trial transfer; its values were not tried)"
                : "check: compatible";
        }
        var blocking = check.Findings.Where(f => f.Severity == CheckSeverity.Incompatible).ToList();
        return blocking.Count > 0 && blocking.TrueForAll(f => f.Kind == CheckFindingKind.StateRefused)
            ? $"check: NOT compatible: the update would be rolled back at transfer ({string.Join("; ", blocking.Select(f => f.Path ?? f.Subject))})"
            : "check: NOT compatible: the update would be refused";
    }

    // ---- update and rollback --------------------------------------------------------------------------------

    /// <summary>A phase of an update that has completed, as it arrives.</summary>
    public static void Phase(UpdateProgress progress)
    {
        var name = progress.Phase.ToString().ToLowerInvariant();
        if (Rich)
        {
            AnsiConsole.MarkupLine($"  [green]✓[/] {name,-12} {Ms(progress.Elapsed.TotalMilliseconds),10}");
            return;
        }
        Console.Out.WriteLine($"phase {name}: {Ms(progress.Elapsed.TotalMilliseconds)}");
    }

    /// <summary>That an update or rollback has been asked for.</summary>
    public static void Starting(string what)
    {
        if (Rich)
        {
            AnsiConsole.MarkupLine($"[bold]{Esc(what)}[/]");
            return;
        }
        Console.Out.WriteLine(what);
    }

    /// <summary>An update's result.</summary>
    public static void Result(UpdateSummary r, bool json)
    {
        if (json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(r, CliJson.Default.UpdateSummary));
            return;
        }
        var facts = new List<(string, string)>
        {
            ("outcome", r.Outcome),
            ("from", r.From),
            ("to", r.To),
            ("mechanism", r.Mechanism == nameof(UpdateMechanism.NewProcess) ? $"new process{(r.NewProcessId is { } pid ? $" (process {pid} serves now)" : "")}" : "in process"),
            ("timings", Timings(r)),
            ("objects rebuilt", r.ObjectsRebuilt.ToString(Invariant)),
            ("passed by reference", r.ReferencesPassed.ToString(Invariant)),
            ("dropped fields", r.DroppedFields.Count == 0 ? "none" : string.Join(", ", r.DroppedFields)),
        };
        if (r.DroppedUnits.Count > 0)
        {
            facts.Add(("dropped units", string.Join(", ", r.DroppedUnits)));
        }
        if (r.SharedLibraries.Count > 0)
        {
            facts.Add(("shared libraries", string.Join(", ", r.SharedLibraries) + " (loaded once: their objects passed by reference)"));
        }
        if (r.LibrariesReleased.Count > 0)
        {
            facts.Add(("libraries released", string.Join(", ", r.LibrariesReleased)));
        }
        if (r.OldVersionUnloaded is { } unloaded)
        {
            facts.Add(("old version unloaded", unloaded ? "yes" : "NO"));
        }
        if (r.Failure is not null)
        {
            facts.Add(("failed in", r.FailedPhase ?? "?"));
            facts.Add(("failure", r.Failure));
            if (r.StatePath is not null)
            {
                facts.Add(("state path", r.StatePath));
            }
        }
        facts.AddRange(r.Warnings.Select(w => ("warning", w)));
        if (Rich)
        {
            var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
            foreach (var (key, value) in facts)
            {
                grid.AddRow($"[grey]{key}[/]", key == "outcome" ? OutcomeMarkup(value) : key is "warning" or "failure" ? $"[yellow]{Esc(value)}[/]" : Esc(value));
            }
            AnsiConsole.Write(grid);
            return;
        }
        foreach (var (key, value) in facts)
        {
            Console.Out.WriteLine($"{key}: {value}");
        }
    }

    // ---- run ------------------------------------------------------------------------------------------------

    /// <summary>A note of <c>molt run</c> about the program it hosts: to stderr, stdout is the program's.</summary>
    public static void Note(string message) => Console.Error.WriteLine($"molt: {message}");

    // ---- helpers --------------------------------------------------------------------------------------------

    private static void WriteLine(string text, string? colour)
    {
        if (Rich && colour is not null)
        {
            AnsiConsole.MarkupLine($"[{colour}]{Esc(text)}[/]");
        }
        else if (Rich)
        {
            AnsiConsole.MarkupLine(Esc(text));
        }
        else
        {
            Console.Out.WriteLine(text);
        }
    }

    private static string Timings(UpdateSummary r) =>
        $"prepare {Ms(r.PrepareMilliseconds)}, quiesce {Ms(r.QuiesceMilliseconds)}, transfer {Ms(r.TransferMilliseconds)}, " +
        $"restart {Ms(r.RestartMilliseconds)}, pause {Ms(r.PauseMilliseconds)}, unload {Ms(r.UnloadMilliseconds)}";

    private static string Version(ProgramVersionInfo v) => $"{v.AssemblyName} {v.Version} (generation {v.Generation})";

    private static string OutcomeMarkup(string outcome) => outcome switch
    {
        "Committed" => "[green]Committed[/]",
        "RolledBack" => "[red]RolledBack[/]",
        _ => $"[yellow]{Esc(outcome)}[/]",
    };

    private static string Ms(double milliseconds) => milliseconds.ToString("0.0", Invariant) + " ms";

    private static string Bytes(long bytes) => (bytes / 1024.0 / 1024.0).ToString("0.0", Invariant) + " MiB";

    private static string Time(DateTimeOffset at) => at.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", Invariant);

    private static string Since(DateTimeOffset at)
    {
        var up = DateTimeOffset.UtcNow - at;
        var span = up.TotalDays >= 1 ? $"{(int)up.TotalDays}d {up:hh\\:mm\\:ss}" : up.ToString(@"hh\:mm\:ss", Invariant);
        return $"{Time(at)} (up {span})";
    }

    private static string Esc(string text) => Markup.Escape(text);
}
