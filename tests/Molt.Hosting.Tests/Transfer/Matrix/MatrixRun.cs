using System.Diagnostics;
using Molt.Hosting.Control;

namespace Molt.Hosting.Tests.Transfer.Matrix;

/// <summary>What was seen of one case: its values before and after, what the update did to it, and what the check said.</summary>
internal sealed class CaseResult(MatrixCase c)
{
    public MatrixCase Case { get; } = c;

    /// <summary>How the update that decided this case ended (null: never decided, e.g. skipped).</summary>
    public UpdateOutcome? Outcome { get; set; }

    public UpdatePhase? Phase { get; set; }

    /// <summary>The failure's lines that name the case, and its state path.</summary>
    public string? Failure { get; set; }

    /// <summary>Whether the failure was the whole group's, naming no case (then it says nothing about this one).</summary>
    public bool GroupFailure { get; set; }

    public string? V1Report { get; set; }

    public string? ReportAfter { get; set; }

    /// <summary>The case's value read after a failed update (the old version's, restored).</summary>
    public string? ReportAfterFailure { get; set; }

    /// <summary>The check's verdict for this case: incompatible when a line marked INCOMPATIBLE names it.</summary>
    public bool? CheckCompatible { get; set; }

    public string? CheckLines { get; set; }

    /// <summary>The check's exception, when it threw instead of answering.</summary>
    public string? CheckError { get; set; }
}

/// <summary>One update of the matrix: its group, its two assemblies, and what it did.</summary>
internal sealed record MatrixAttempt(string Name, string V1, string V2, UpdateSummary Summary);

/// <summary>
/// What an update did, to compare two transfers of the same state: its outcome, its failure (message and state path), the
/// counts of its transfer, and the program's report before and after it (the new version's, or the old one's after a failure).
/// </summary>
internal sealed record UpdateSummary(UpdateOutcome Outcome, string? Failure, long ObjectsRebuilt, long ReferencesPassed, string Before, string? After)
{
    public static UpdateSummary Of(UpdateResult result, Dictionary<string, string> before, string? after) =>
        new(result.Outcome, result.Failure is { } f ? $"{f.Phase}: {f.Message}\n  at {f.StatePath}" : null, result.ObjectsRebuilt, result.ReferencesPassed,
            string.Join(";", before.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}")), after);
}

/// <summary>
/// Runs the matrix in this process: per group, compiles v1 and v2, starts v1, checks v2, updates, and reads every case's
/// value. When the update fails, the cases it names are decided, and the group is compiled again without them and updated
/// again, until it commits or fails naming none: so every case is decided by one update, and one case's failure does not
/// hide the others' values.
/// </summary>
internal static class MatrixRun
{
    private static readonly Lazy<Task<(IReadOnlyList<CaseResult> Results, TimeSpan Elapsed)>> Once = new(() => RunAll(throughStream: false));

    private static readonly Lazy<Task<(IReadOnlyList<CaseResult> Results, TimeSpan Elapsed)>> OnceThroughStream = new(() => RunAll(throughStream: true));

    /// <summary>The matrix's results (run once per test process, shared by the tests that look at them).</summary>
    public static Task<(IReadOnlyList<CaseResult> Results, TimeSpan Elapsed)> Results => Once.Value;

    /// <summary>
    /// The matrix's results with every update through the state stream (issue 11, <see cref="UpdateOptions.ThroughStream"/>):
    /// the same cases must end the same way. The check is not run again (it does not transfer through the stream).
    /// </summary>
    public static Task<(IReadOnlyList<CaseResult> Results, TimeSpan Elapsed)> ResultsThroughStream => OnceThroughStream.Value;

    /// <summary>
    /// Every update of the in-process run (not through the stream), with what it did: the parallel transfer's test replays
    /// each one with the same two assemblies and compares.
    /// </summary>
    public static List<MatrixAttempt> Attempts { get; } = [];

    private static readonly Lazy<Task<List<(MatrixAttempt Sequential, UpdateSummary Parallel)>>> OnceInParallel = new(ReplayInParallel);

    /// <summary>How long the parallel replays took (beside the matrix's own run, which they reuse the builds of).</summary>
    public static TimeSpan ParallelReplayTime { get; private set; }

    /// <summary>
    /// Each update of <see cref="Results"/> made again with a parallel transfer that splits every collection of two elements or
    /// more across two threads (<see cref="MoltHostOptions.TransferParallelism"/> 2): beside the sequential one's summary.
    /// </summary>
    public static Task<List<(MatrixAttempt Sequential, UpdateSummary Parallel)>> ResultsInParallel => OnceInParallel.Value;

    private static async Task<List<(MatrixAttempt, UpdateSummary)>> ReplayInParallel()
    {
        await Results;
        var clock = Stopwatch.StartNew();
        var replayed = new List<(MatrixAttempt, UpdateSummary)>();
        foreach (var attempt in Attempts)
        {
            // Only the transfer is compared: the new version's code is not compiled ahead, nor the old one's unloading proven (the sequential run does).
            var options = new MoltHostOptions { TransferParallelism = 2, TransferSplitMinimum = 2, PrepareCode = false, VerifyUnload = false };
            await using var host = await MoltHost.StartAsync(attempt.V1, options: options);
            var before = await FirstReport(host);
            var result = await host.UpdateAsync(attempt.V2);
            replayed.Add((attempt, UpdateSummary.Of(result, before, TransferTestKit.Report(host))));
        }
        ParallelReplayTime = clock.Elapsed;
        return replayed;
    }

    /// <summary>Where each group's time went (written beside the lists of mismatches).</summary>
    private static readonly List<string> Timings = [];

    private static async Task<(IReadOnlyList<CaseResult>, TimeSpan)> RunAll(bool throughStream)
    {
        var clock = Stopwatch.StartNew();
        var results = TransferMatrix.Cases.ToDictionary(c => c.Id, c => new CaseResult(c));
        foreach (var group in TransferMatrix.Groups(withNotFixed: false))
        {
            await RunGroup(group, results, throughStream);
        }
        Write(throughStream ? "stream-timings.txt" : "timings.txt", string.Join("\n", Timings));
        return ([.. results.Values.OrderBy(r => r.Case.Number)], clock.Elapsed);
    }

    private static async Task RunGroup(MatrixGroup group, Dictionary<string, CaseResult> results, bool throughStream)
    {
        var remaining = group.Cases.ToList();
        for (var attempt = 1; remaining.Count > 0; attempt++)
        {
            var clock = Stopwatch.StartNew();
            var (v1, v2) = await Build(group.Name, $"{attempt}", remaining);
            var built = clock.Elapsed;
            await using var host = await MoltHost.StartAsync(v1);
            var started = clock.Elapsed;
            var before = await FirstReport(host);
            foreach (var c in remaining)
            {
                results[c.Id].V1Report ??= before.GetValueOrDefault(c.Id);
            }
            try
            {
                if (!throughStream)
                {
                    RecordCheck(await host.CheckAsync(v2), remaining, results);
                }
            }
            catch (Exception e)
            {
                // A check must answer, not throw: the cases its exception names (else all) get it as their verdict.
                var error = $"the check threw {e.GetType().Name}: {e.Message}";
                foreach (var c in NamedOrAll(error, remaining))
                {
                    results[c.Id].CheckError = error;
                }
            }
            var checkedAt = clock.Elapsed;

            UpdateResult result;
            try
            {
                result = await host.UpdateAsync(v2, new UpdateOptions { ThroughStream = throughStream });
                if (!throughStream)
                {
                    Attempts.Add(new MatrixAttempt($"{group.Name} #{attempt}", v1, v2, UpdateSummary.Of(result, before, TransferTestKit.Report(host))));
                }
            }
            catch (Exception e)
            {
                // An update must end in an outcome, not throw: the cases its exception names are decided by it, the others go on.
                var error = $"the update threw {e.GetType().Name}: {e.Message}";
                var culprits = NamedOrAll(error, remaining);
                foreach (var c in culprits)
                {
                    results[c.Id].Failure = error;
                    results[c.Id].GroupFailure = culprits.Count == remaining.Count && remaining.Count > 1;
                }
                if (culprits.Count == remaining.Count)
                {
                    return;
                }
                remaining.RemoveAll(culprits.Contains);
                continue;
            }
            Timings.Add($"{group.Name} #{attempt} ({remaining.Count} cases): build {built.TotalMilliseconds:0} ms, start {(started - built).TotalMilliseconds:0} ms, " +
                $"check {(checkedAt - started).TotalMilliseconds:0} ms, update {(clock.Elapsed - checkedAt).TotalMilliseconds:0} ms ({result})");
            if (result.Outcome == UpdateOutcome.Committed)
            {
                var after = MatrixSources.ParseReport(TransferTestKit.Report(host));
                foreach (var c in remaining)
                {
                    var r = results[c.Id];
                    r.Outcome = UpdateOutcome.Committed;
                    r.ReportAfter = after.GetValueOrDefault(c.Id);
                }
                return;
            }
            var failure = result.Failure!;
            var text = failure.Message + (failure.StatePath is null ? "" : "\n  at " + failure.StatePath);
            var named = remaining.Where(c => Names(text, c)).ToList();
            var restored = MatrixSources.ParseReport(TransferTestKit.Report(host));
            foreach (var c in named.Count > 0 ? named : remaining)
            {
                var r = results[c.Id];
                r.Outcome = result.Outcome;
                r.Phase = failure.Phase;
                r.GroupFailure = named.Count == 0;
                r.Failure = named.Count == 0 ? text : string.Join("\n", text.Split('\n').Where(l => Names(l, c)));
                r.ReportAfterFailure = restored.GetValueOrDefault(c.Id);
            }
            if (named.Count == 0)
            {
                return;
            }
            remaining.RemoveAll(named.Contains);
        }
    }

    /// <summary>Compiles a group's two versions side by side (the machine's cores are few, but there are two).</summary>
    public static async Task<(string V1, string V2)> Build(string program, string label, IReadOnlyList<MatrixCase> cases)
    {
        var v1 = Task.Run(() => TestPrograms.Build(program, $"v1-{label}", MatrixSources.Program(cases, _ => false)));
        var v2 = Task.Run(() => TestPrograms.Build(program, $"v2-{label}", MatrixSources.Program(cases, _ => true)));
        return (await v1, await v2);
    }

    /// <summary>The report once every unit of the program has started (units start after Main returns to the host).</summary>
    private static async Task<Dictionary<string, string>> FirstReport(MoltHost host)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var report = MatrixSources.ParseReport(TransferTestKit.Report(host));
            if (!report.Values.Any(v => v.StartsWith(MatrixSources.UnitNotStarted, StringComparison.Ordinal)) || DateTime.UtcNow > deadline)
            {
                return report;
            }
            await Task.Delay(20);
        }
    }

    private static void RecordCheck(CheckSummary check, List<MatrixCase> cases, Dictionary<string, CaseResult> results)
    {
        var incompatible = check.Lines.Where(l => l.Contains("INCOMPATIBLE", StringComparison.Ordinal)).ToList();
        var anyNamed = cases.Any(c => incompatible.Any(l => Names(l, c)));
        foreach (var c in cases)
        {
            var lines = incompatible.Where(l => Names(l, c)).ToList();
            var r = results[c.Id];
            // A verdict against the whole group that names no case is against each of them.
            r.CheckCompatible = lines.Count == 0 && (check.Compatible || anyNamed);
            r.CheckLines = lines.Count > 0 ? string.Join("\n", lines) : check.Compatible || anyNamed ? null : string.Join("\n", incompatible);
        }
    }

    private static List<MatrixCase> NamedOrAll(string text, List<MatrixCase> cases) =>
        cases.Where(c => Names(text, c)).ToList() is { Count: > 0 } named ? named : [.. cases];

    /// <summary>Whether a text names a case: its namespace (<c>C0042.</c>), or its unit (<c>C0042.unit</c>).</summary>
    public static bool Names(string text, MatrixCase c) => text.Contains(c.Id + ".", StringComparison.Ordinal);

    /// <summary>
    /// What is wrong with a case's update, by its rule (null: nothing): the value after the commit, or the refusal or
    /// rollback, its phase, the path naming the case and its holder, and the old values intact after it.
    /// </summary>
    public static string? UpdateMismatch(CaseResult r)
    {
        var c = r.Case;
        if (r.V1Report != c.V1Report)
        {
            return $"v1 itself reads {r.V1Report ?? "nothing"}, expected {c.V1Report} (the generator's mistake)";
        }
        var got = Got(r);
        switch (c.Expected)
        {
            case ExpectedOutcome.Committed:
                return r.Outcome == UpdateOutcome.Committed && r.ReportAfter == c.V2Report ? null : $"expected {c.V2Report}, got {got}";
            case ExpectedOutcome.RefusedAtPrepare:
                if (r.Outcome != UpdateOutcome.Refused || r.Phase != UpdatePhase.Prepare || r.GroupFailure)
                {
                    return $"expected refused at prepare, got {got}";
                }
                break;
            default:
                if (r.Outcome != UpdateOutcome.RolledBack || r.Phase != UpdatePhase.Transfer || r.GroupFailure)
                {
                    return $"expected rolled back at transfer, got {got}";
                }
                break;
        }
        if (c.PathFragment is { } fragment && !r.Failure!.Contains(fragment, StringComparison.Ordinal))
        {
            return $"the failure does not name the holder ({fragment}): {r.Failure}";
        }
        return r.ReportAfterFailure == c.V1Report ? null : $"after the {r.Outcome} the old version reads {r.ReportAfterFailure}, expected {c.V1Report}";
    }

    /// <summary>What is wrong with the check's verdict for a case (null: nothing): it must say compatible exactly when the rules carry the case.</summary>
    public static string? CheckMismatch(CaseResult r)
    {
        if (r.CheckError is not null)
        {
            return r.CheckError;
        }
        if (r.CheckCompatible is not { } compatible)
        {
            return null;
        }
        var expected = r.Case.Expected == ExpectedOutcome.Committed;
        var observed = r.Outcome is null || r.GroupFailure ? (bool?)null : r.Outcome == UpdateOutcome.Committed;
        if (compatible == expected && (observed is null || compatible == observed))
        {
            return null;
        }
        return $"check says {(compatible ? "compatible" : "INCOMPATIBLE: " + r.CheckLines)}; the rules say {r.Case.Expected}; the update {Got(r)}";
    }

    private static string Got(CaseResult r) => r.Outcome switch
    {
        null => r.Failure ?? "not run",
        UpdateOutcome.Committed => $"committed with {r.ReportAfter ?? "no value"}",
        _ => $"{r.Outcome} at {r.Phase}{(r.GroupFailure ? " (naming no case)" : "")}: {r.Failure}",
    };

    /// <summary>One line per mismatch, with the case's id and description.</summary>
    public static string Lines(IEnumerable<(CaseResult Result, string Mismatch)> mismatches) =>
        string.Join("\n", mismatches.Select(m => $"{m.Result.Case.Id} {m.Result.Case.Description}: {m.Mismatch.Replace("\n", " | ", StringComparison.Ordinal)}"));

    /// <summary>Where the full lists are written, for reading beside the test's output.</summary>
    public static readonly string ReportFolder = Path.Combine(Path.GetTempPath(), "molt-matrix");

    /// <summary>Writes a list to <see cref="ReportFolder"/>; returns its path.</summary>
    public static string Write(string name, string text)
    {
        Directory.CreateDirectory(ReportFolder);
        var path = Path.Combine(ReportFolder, name);
        File.WriteAllText(path, text);
        return path;
    }
}
