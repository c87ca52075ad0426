using System.Diagnostics;
using Xunit.Abstractions;

namespace Molt.Hosting.Tests.Transfer.Matrix;

/// <summary>
/// No case of the matrix takes the host process down: the updates run in a child process (<c>Molt.Matrix.Runner</c>), every
/// group as one update and every case expected to roll back as an update of its own, the cases the engine is not fixed for
/// included; the child must exit 0 having finished each update. A child that dies is started again after the update that
/// killed it, so that the test lists every such update, not only the first.
/// </summary>
[Collection(MatrixCollection.Name)]
public class ChildProcessTests(ITestOutputHelper output)
{
    private static readonly string RunnerDll = Path.Combine(AppContext.BaseDirectory, "Molt.Matrix.Runner.dll");

    [Fact]
    public async Task Matrix_NoCase_TakesTheHostProcessDown()
    {
        var clock = Stopwatch.StartNew();
        var lines = await Manifest();
        var deaths = new List<string>();
        var finished = 0;
        var remaining = lines;
        while (remaining.Count > 0)
        {
            var manifest = MatrixRun.Write("child-manifest.txt", string.Join("\n", remaining.Select(l => $"{l.Label}\t{l.V1}\t{l.V2}")));
            var (exitCode, stdout, stderr) = await RunChild(manifest);
            var ended = stdout.Where(l => l.StartsWith("end ", StringComparison.Ordinal)).Select(l => l.Split(' ')[1]).ToHashSet();
            finished += ended.Count;
            if (exitCode == 0 && ended.Count == remaining.Count)
            {
                break;
            }
            var begun = stdout.LastOrDefault(l => l.StartsWith("begin ", StringComparison.Ordinal))?["begin ".Length..];
            var at = remaining.FindIndex(l => l.Label == begun);
            // A group that killed the process is run again scenario by scenario, to tell which.
            var split = begun is null ? [] : await ByScenario(begun);
            deaths.Add($"{begun ?? "before the first update"} ({Describe(begun)}): exit code {exitCode}{Signal(exitCode)}" +
                (split.Count > 0 ? " (run again scenario by scenario)" : "; " + string.Join(" | ", stderr.TakeLast(3))));
            if (at < 0 || ended.Contains(begun!))
            {
                break;
            }
            remaining = [.. split, .. remaining.Skip(at + 1)];
        }
        output.WriteLine($"{lines.Count} updates of {TransferMatrix.Cases.Count} cases in child processes, {finished} finished, " +
            $"{deaths.Count} killed the process; {clock.Elapsed.TotalSeconds:0.0} s");
        var text = string.Join("\n", deaths);
        MatrixRun.Write("child-deaths.txt", text);
        Assert.True(deaths.Count == 0, $"{deaths.Count} updates took the host process down:\n{text}");
    }

    /// <summary>Every group's update, then each case expected to roll back alone (a transfer stops at its first failure).</summary>
    private static async Task<List<(string Label, string V1, string V2)>> Manifest()
    {
        var lines = new List<(string Label, string V1, string V2)>();
        foreach (var group in TransferMatrix.Groups(withNotFixed: true))
        {
            // The same programs as the in-process run's first attempt: compiled once per test process.
            var (v1, v2) = await MatrixRun.Build(group.Name, "1", group.Cases);
            lines.Add((group.Name, v1, v2));
            if (group.Cases.Count > 1 && group.Cases.All(c => c.Expected == ExpectedOutcome.RolledBackAtTransfer))
            {
                foreach (var c in group.Cases)
                {
                    lines.Add(($"{group.Name}/{c.Id}", v1, TestPrograms.Build(group.Name, $"v2-{c.Id}", MatrixSources.Program(group.Cases, x => x == c))));
                }
            }
        }
        return lines;
    }

    /// <summary>A group's updates again, one program per scenario.</summary>
    private static async Task<List<(string Label, string V1, string V2)>> ByScenario(string label)
    {
        var lines = new List<(string Label, string V1, string V2)>();
        var group = TransferMatrix.Groups(withNotFixed: true).FirstOrDefault(g => g.Name == label);
        var scenarios = group?.Cases.GroupBy(c => c.Scenario).ToList() ?? [];
        for (var i = 0; i < scenarios.Count && scenarios.Count > 1; i++)
        {
            var (v1, v2) = await MatrixRun.Build($"{label}_S{i + 1}", "1", [.. scenarios[i]]);
            lines.Add(($"{label}/S{i + 1}", v1, v2));
        }
        return lines;
    }

    private static string Describe(string? label)
    {
        var group = TransferMatrix.Groups(withNotFixed: true).FirstOrDefault(g => label is not null && label.Split('/')[0] == g.Name);
        if (group is null)
        {
            return "unknown";
        }
        var part = label!.Contains('/', StringComparison.Ordinal) ? label.Split('/')[1] : null;
        var cases = part is null ? group.Cases
            : part.StartsWith('S') ? group.Cases.GroupBy(c => c.Scenario).ElementAt(int.Parse(part[1..], System.Globalization.CultureInfo.InvariantCulture) - 1).ToList()
            : group.Cases.Where(c => c.Id == part).ToList();
        var scenarios = cases.Select(c => $"{c.Scenario.Kind}: {c.Scenario.Change}").Distinct().ToList();
        return scenarios.Count <= 3 ? string.Join("; ", scenarios) : $"{scenarios.Count} scenarios, cases {cases[0].Id}-{cases[^1].Id}";
    }

    private static string Signal(int exitCode) => exitCode switch
    {
        134 => " (SIGABRT)",
        139 => " (SIGSEGV)",
        137 => " (SIGKILL)",
        _ => "",
    };

    private static async Task<(int ExitCode, List<string> Stdout, List<string> Stderr)> RunChild(string manifest)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(RunnerDll);
        start.ArgumentList.Add(manifest);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("the matrix's child process did not finish within 10 minutes:\n" + await stdout);
        }
        return (process.ExitCode, Split(await stdout), Split(await stderr));

        static List<string> Split(string text) => [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
    }
}
