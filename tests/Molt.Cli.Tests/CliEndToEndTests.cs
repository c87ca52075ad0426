using System.Text.Json;
using Molt.Testing;

namespace Molt.Cli.Tests;

/// <summary>
/// The operator's command line end to end: a real <c>molt run</c> process hosts a real updatable program, and
/// every other <c>molt</c> command is a separate process that talks to it over its control endpoint.
/// </summary>
public sealed class CliEndToEndTests : IAsyncLifetime
{
    private const string Ticker = ProgramCompiler.Usings + """
        public class Ticker { public long Ticks; }
        public static class Program
        {
            public static Ticker State = new();
            public static async Task Main(string[] args)
            {
                if (!Live.IsUpdating)
                {
                    Console.WriteLine("ticker started with [" + string.Join(",", args) + "]");
                    Live.StartUnit("ticker", State, Tick);
                }
                await Live.RunAsync();
            }
            public static async Task Tick(Ticker t)
            {
                while (true)
                {
                    await Live.UpdatePointAsync("tick");
                    t.Ticks++;
                    try { await Task.Delay(20, Live.UpdateRequested); } catch (OperationCanceledException) { }
                }
            }
        }
        """;

    /// <summary>A compatible next version: one more static.</summary>
    private const string TickerV2 = Ticker + """

        public static class Release { public static int Number = 2; }
        """;

    /// <summary>An incompatible version: a field changes type and nothing covers it.</summary>
    private static readonly string TickerIncompatible = Ticker
        .Replace("public long Ticks;", "public string Ticks;", StringComparison.Ordinal)
        .Replace("t.Ticks++;", "t.Ticks = \"tick\";", StringComparison.Ordinal);

    /// <summary>A version whose state check fails: the update rolls back after the transfer.</summary>
    private const string TickerFailingCheck = Ticker + """

        public static class Checks { [StateCheck] public static bool Never() => false; }
        """;

    /// <summary>A program that ends by itself: its only unit returns after a few ticks.</summary>
    // Its countdown starts once a file exists: the test sees its endpoint first, however slow the machine.
    private const string Finite = ProgramCompiler.Usings + """
        using System.IO;
        public class Counter { public int Left = 5; public string Start; }
        public static class Program
        {
            public static async Task Main(string[] args) { Live.StartUnit("countdown", new Counter { Start = args[0] }, Count); await Live.RunAsync(); }
            public static async Task Count(Counter c)
            {
                while (!File.Exists(c.Start)) { await Live.UpdatePointAsync("wait"); await Task.Delay(20); }
                while (c.Left-- > 0) { await Live.UpdatePointAsync("count"); await Task.Delay(20); }
                Console.WriteLine("countdown done");
            }
        }
        """;

    /// <summary>A program whose unit reaches its update point only once a file exists: an update waits for it.</summary>
    private const string Gated = ProgramCompiler.Usings + """
        using System.IO;
        public class Gate { public string Path; }
        public static class Program
        {
            public static async Task Main(string[] args) { if (!Live.IsUpdating) Live.StartUnit("gated", new Gate { Path = args[0] }, Run); await Live.RunAsync(); }
            public static async Task Run(Gate g)
            {
                while (true)
                {
                    await Live.UpdatePointAsync("gate");
                    while (!File.Exists(g.Path)) await Task.Delay(20);
                    await Task.Delay(20);
                }
            }
        }
        """;

    private static readonly ProgramCompiler Compiler = new("molt-cli-tests");
    private readonly MoltCli _molt = new(Path.Combine(Path.GetTempPath(), $"molt-cli-tests-{Guid.NewGuid():N}"));

    [Fact]
    public async Task Run_StatusJson_ThenSigterm_ExitsZeroAndRemovesEndpoint()
    {
        var name = UniqueName();
        var host = await StartAsync(Build("v1", Ticker), name, "alpha", "beta");
        await host.WaitForStdoutAsync("ticker started with [alpha,beta]");

        var status = await _molt.RunAsync("status", name, "--json");
        Assert.True(status.ExitCode == 0, status.ToString());
        using var json = JsonDocument.Parse(status.Stdout);
        var root = json.RootElement;
        Assert.Equal(name, root.GetProperty("name").GetString());
        // The program runs in a process of its own, which `molt run` supervises.
        var programProcess = root.GetProperty("processId").GetInt32();
        Assert.Equal(host.Process.Id, HostProcess.ParentOf(programProcess));
        Assert.Equal("Ticker", root.GetProperty("version").GetProperty("assemblyName").GetString());
        Assert.Equal(0, root.GetProperty("version").GetProperty("generation").GetInt32());
        Assert.Equal(64, root.GetProperty("version").GetProperty("sha256").GetString()!.Length);
        Assert.Contains(root.GetProperty("units").EnumerateArray(), u => u.GetProperty("name").GetString() == "ticker");
        Assert.Empty(root.GetProperty("history").EnumerateArray());
        Assert.True(root.GetProperty("managedMemoryBytes").GetInt64() > 0);

        var plain = await _molt.RunAsync("status", name);
        Assert.True(plain.ExitCode == 0, plain.ToString());
        Assert.Contains("unit ticker: task", plain.Stdout, StringComparison.Ordinal);

        host.Signal("TERM");
        Assert.Equal(0, await host.WaitForExitAsync());
        Assert.Equal(0, HostProcess.ParentOf(programProcess)); // The program process is gone with it.
        Assert.False(File.Exists(Path.Combine(_molt.RuntimeDirectory, name + ".sock")), "the socket is removed");
        Assert.False(File.Exists(Path.Combine(_molt.RuntimeDirectory, name + ".json")), "the endpoint's description is removed");
        var after = await _molt.RunAsync("status", name);
        Assert.Equal(4, after.ExitCode);
    }

    [Fact]
    public async Task Check_CompatibleExitsZero_IncompatibleExitsThree()
    {
        var name = UniqueName();
        await StartAsync(Build("v1", Ticker), name);

        var compatible = await _molt.RunAsync("check", name, Build("v2", TickerV2));
        Assert.True(compatible.ExitCode == 0, compatible.ToString());
        Assert.Contains("check: compatible", compatible.Stdout, StringComparison.Ordinal);

        var incompatible = await _molt.RunAsync("check", name, Build("bad", TickerIncompatible));
        Assert.True(incompatible.ExitCode == 3, incompatible.ToString());
        Assert.Contains("Ticker.Ticks", incompatible.Stdout, StringComparison.Ordinal);
        Assert.Contains("NOT compatible", incompatible.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_Committed_ShowsPhasesAndExitsZero_ThenRollbackExitsZero()
    {
        var name = UniqueName();
        var v1 = Build("v1", Ticker);
        var v2 = Build("v2", TickerV2);
        await StartAsync(v1, name);

        var update = await _molt.RunAsync("update", name, v2, "--timeout", "20s");
        Assert.True(update.ExitCode == 0, update.ToString());
        var phases = update.Stdout.Split('\n').Where(l => l.StartsWith("phase ", StringComparison.Ordinal)).Select(l => l.Split(':')[0]).ToList();
        Assert.Equal(["phase prepare", "phase quiesce", "phase transfer", "phase restart", "phase unload"], phases);
        Assert.Contains("outcome: Committed", update.Stdout, StringComparison.Ordinal);
        Assert.Contains("objects rebuilt: ", update.Stdout, StringComparison.Ordinal);

        var afterUpdate = await StatusAsync(name);
        Assert.Equal(1, afterUpdate.GetProperty("version").GetProperty("generation").GetInt32());
        Assert.Equal(v2, afterUpdate.GetProperty("version").GetProperty("assemblyPath").GetString());
        await AssertListedAsync(name, v2, generation: 1);

        var rollback = await _molt.RunAsync("rollback", name, "--json");
        Assert.True(rollback.ExitCode == 0, rollback.ToString());
        using (var result = JsonDocument.Parse(rollback.Stdout))
        {
            Assert.Equal("Committed", result.RootElement.GetProperty("outcome").GetString());
        }

        var afterRollback = await StatusAsync(name);
        Assert.Equal(v1, afterRollback.GetProperty("version").GetProperty("assemblyPath").GetString());
        await AssertListedAsync(name, v1, generation: 2);
        var history = afterRollback.GetProperty("history").EnumerateArray().ToList();
        Assert.Equal(2, history.Count);
        Assert.All(history, h => Assert.Equal("Committed", h.GetProperty("outcome").GetString()));
        Assert.All(history, h => Assert.True(h.GetProperty("pauseMilliseconds").GetDouble() > 0));
    }

    /// <summary><c>molt list</c> names the version running now, as <c>molt status</c> does.</summary>
    private async Task AssertListedAsync(string name, string programPath, int generation)
    {
        var list = await _molt.RunAsync("list", "--json");
        Assert.True(list.ExitCode == 0, list.ToString());
        using var json = JsonDocument.Parse(list.Stdout);
        var entry = Assert.Single(json.RootElement.EnumerateArray(), e => e.GetProperty("name").GetString() == name);
        Assert.Equal(programPath, entry.GetProperty("programPath").GetString());
        Assert.Equal(generation, entry.GetProperty("generation").GetInt32());
        var version = (await StatusAsync(name)).GetProperty("version").GetProperty("version").GetString();
        Assert.Equal(version, entry.GetProperty("version").GetString());
        var plain = await _molt.RunAsync("list");
        Assert.Contains($"{name}\tprocess ", plain.Stdout, StringComparison.Ordinal);
        Assert.Contains($"\t{version} (generation {generation})\t{programPath}", plain.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_KeepOldCode_UpdateCommits_AndReportsTheOldStateCollected()
    {
        var name = UniqueName();
        var v1 = Build("v1", Ticker);
        var v2 = Build("v2", TickerV2);
        await _molt.StartHostWithOptionsAsync(v1, name, ["--keep-old-code"]);

        var update = await _molt.RunAsync("update", name, v2, "--timeout", "20s");

        Assert.True(update.ExitCode == 0, update.ToString());
        Assert.Contains("outcome: Committed", update.Stdout, StringComparison.Ordinal);
        Assert.Contains("old version unloaded: yes", update.Stdout, StringComparison.Ordinal);
        var status = await StatusAsync(name);
        Assert.Equal(v2, status.GetProperty("version").GetProperty("assemblyPath").GetString());
        Assert.True(status.GetProperty("oldCodeKept").GetBoolean());
        var text = await _molt.RunAsync("status", name);
        Assert.Contains("kept loaded (--keep-old-code)", text.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_FailingStateCheck_RollsBackAndExitsTwo()
    {
        var name = UniqueName();
        var v1 = Build("v1", Ticker);
        await StartAsync(v1, name);

        var update = await _molt.RunAsync("update", name, Build("failing-check", TickerFailingCheck));
        Assert.True(update.ExitCode == 2, update.ToString());
        Assert.Contains("outcome: RolledBack", update.Stdout, StringComparison.Ordinal);
        Assert.Contains("failed in: StateCheck", update.Stdout, StringComparison.Ordinal);

        var status = await StatusAsync(name);
        Assert.Equal(v1, status.GetProperty("version").GetProperty("assemblyPath").GetString());
        Assert.Equal("RolledBack", status.GetProperty("history")[0].GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task Update_Incompatible_IsRefusedByTheCheckFirst_ExitsThree()
    {
        var name = UniqueName();
        var v1 = Build("v1", Ticker);
        await StartAsync(v1, name);

        var update = await _molt.RunAsync("update", name, Build("bad", TickerIncompatible));
        Assert.True(update.ExitCode == 3, update.ToString());
        Assert.Contains("NOT compatible", update.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("phase ", update.Stdout, StringComparison.Ordinal);
        Assert.Empty((await StatusAsync(name)).GetProperty("history").EnumerateArray());
    }

    [Fact]
    public async Task Update_DryRun_ChecksOnly()
    {
        var name = UniqueName();
        var v1 = Build("v1", Ticker);
        await StartAsync(v1, name);

        var dryRun = await _molt.RunAsync("update", name, Build("v2", TickerV2), "--dry-run");
        Assert.True(dryRun.ExitCode == 0, dryRun.ToString());
        Assert.Contains("check: compatible", dryRun.Stdout, StringComparison.Ordinal);
        var status = await StatusAsync(name);
        Assert.Equal(v1, status.GetProperty("version").GetProperty("assemblyPath").GetString());
        Assert.Empty(status.GetProperty("history").EnumerateArray());
    }

    [Fact]
    public async Task Rollback_WithNoPreviousVersion_IsRefusedWithThree()
    {
        var name = UniqueName();
        await StartAsync(Build("v1", Ticker), name);

        var rollback = await _molt.RunAsync("rollback", name);
        Assert.True(rollback.ExitCode == 3, rollback.ToString());
        Assert.Contains("no previous version", rollback.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_ShowsTheProgram_AndCleansItsEndpointAfterSigkill()
    {
        var name = UniqueName();
        var host = await StartAsync(Build("v1", Ticker), name);

        var list = await _molt.RunAsync("list", "--json");
        Assert.True(list.ExitCode == 0, list.ToString());
        int programProcess;
        using (var json = JsonDocument.Parse(list.Stdout))
        {
            var entry = Assert.Single(json.RootElement.EnumerateArray(), e => e.GetProperty("name").GetString() == name);
            programProcess = entry.GetProperty("processId").GetInt32();
            Assert.Equal(host.Process.Id, HostProcess.ParentOf(programProcess));
        }
        var plain = await _molt.RunAsync("list");
        Assert.Contains(name, plain.Stdout, StringComparison.Ordinal);

        // The program's process killed: `molt run` exits with its status (128 + 9), and the endpoint is left behind.
        HostProcess.Signal("KILL", programProcess);
        Assert.Equal(137, await host.WaitForExitAsync());
        Assert.True(File.Exists(Path.Combine(_molt.RuntimeDirectory, name + ".sock")), "a killed program leaves its endpoint behind");

        var after = await _molt.RunAsync("list", "--json");
        Assert.True(after.ExitCode == 0, after.ToString());
        using (var json = JsonDocument.Parse(after.Stdout))
        {
            Assert.DoesNotContain(json.RootElement.EnumerateArray(), e => e.GetProperty("name").GetString() == name);
        }
        Assert.False(File.Exists(Path.Combine(_molt.RuntimeDirectory, name + ".sock")), "list removed the stale socket");
        Assert.False(File.Exists(Path.Combine(_molt.RuntimeDirectory, name + ".json")), "list removed the stale description");
    }

    [Fact]
    public async Task Run_Killed_TheProgramStopsCleanlyWithoutItsSupervisor()
    {
        var name = UniqueName();
        var host = await StartAsync(Build("v1", Ticker), name);
        var status = await _molt.RunAsync("status", name, "--json");
        Assert.True(status.ExitCode == 0, status.ToString());
        int programProcess;
        using (var json = JsonDocument.Parse(status.Stdout))
        {
            programProcess = json.RootElement.GetProperty("processId").GetInt32();
        }

        // `molt run` killed (no chance to forward anything): the program notices its supervisor gone and stops cleanly,
        // rather than running on as an orphan that nothing stops.
        host.Signal("KILL");
        await host.WaitForExitAsync();
        var until = DateTime.UtcNow + MoltCli.Deadline;
        while (HostProcess.ParentOf(programProcess) != 0 && DateTime.UtcNow < until)
        {
            await Task.Delay(50);
        }
        Assert.Equal(0, HostProcess.ParentOf(programProcess));
        Assert.False(File.Exists(Path.Combine(_molt.RuntimeDirectory, name + ".sock")), "the program removed its endpoint as it stopped");
    }

    [Fact]
    public async Task UnknownProgram_IsUnreachable_ExitsFour()
    {
        var v2 = Build("v2", TickerV2);
        foreach (var arguments in new[] { ["status", "no-such-program"], ["check", "no-such-program", v2], ["update", "no-such-program", v2], new[] { "rollback", "no-such-program" } })
        {
            var result = await _molt.RunAsync(arguments);
            Assert.True(result.ExitCode == 4, $"molt {string.Join(' ', arguments)}: {result}");
            Assert.Contains("no-such-program", result.Stderr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Usage_Errors_ExitOne()
    {
        Assert.Equal(1, (await _molt.RunAsync("update", "only-a-name")).ExitCode);
        Assert.Equal(1, (await _molt.RunAsync("run", "/no/such/program.dll")).ExitCode);
        Assert.Equal(1, (await _molt.RunAsync("status", "not a valid name")).ExitCode);
        Assert.Equal(1, (await _molt.RunAsync("update", "x", Build("v2", TickerV2), "--timeout", "soon")).ExitCode);
    }

    [Fact]
    public async Task Run_HostDeadlines_QuiesceAndStop_TakeEffect_AndBadOnesAreUsageErrors()
    {
        var name = UniqueName();
        var gate = Path.Combine(Path.GetTempPath(), $"molt-cli-gate-{Guid.NewGuid():N}");
        // The gate stays closed: the unit reaches no update point again, so an update waits out the quiescence deadline
        // and a stop waits out the stop deadline. The host's defaults are 5 s and 10 s; these are 1 s.
        var host = await _molt.StartHostWithOptionsAsync(Build("gated-v1", Gated), name, ["--quiesce-timeout", "1s", "--stop-timeout", "1s"], gate);
        await Task.Delay(100); // The unit is past its update point, held at the gate.

        var update = await _molt.RunAsync("update", name, Build("gated-v2", Gated + "\n// v2"));

        Assert.True(update.ExitCode == 2, update.ToString());
        Assert.Contains("did not reach an update point within 1 s", update.Stdout + update.Stderr, StringComparison.Ordinal);

        host.Signal("TERM");
        Assert.Equal(0, await host.WaitForExitAsync());
        Assert.Contains("Units did not end within 00:00:01", host.Stderr, StringComparison.Ordinal);

        foreach (var bad in new[] { "0", "-1s", "soon", "60d" })
        {
            var refused = await _molt.RunAsync("run", Build("v1", Ticker), "--name", UniqueName(), "--restart-timeout", bad);
            Assert.True(refused.ExitCode == 1, refused.ToString());
            Assert.Contains($"'{bad}' is not a duration for --restart-timeout", refused.Stderr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Update_WhileAnotherRuns_IsRefusedWithThree_AndTheFirstCommits()
    {
        var name = UniqueName();
        var gate = Path.Combine(Path.GetTempPath(), $"molt-cli-gate-{Guid.NewGuid():N}");
        await StartAsync(Build("gated-v1", Gated), name, gate);
        try
        {
            var v2 = Build("gated-v2", Gated + "\n// v2");
            var first = _molt.Start("update", name, v2, "--timeout", "50s");
            // Its prepare phase has completed: the host holds the update, and the unit is held at its gate.
            await first.WaitForStdoutAsync("phase prepare");

            var second = await _molt.RunAsync("update", name, v2);
            Assert.True(second.ExitCode == 3, second + "\n--- first\n" + first.Stdout);
            Assert.Contains("already in progress", second.Stderr, StringComparison.Ordinal);

            await File.WriteAllTextAsync(gate, "open");
            Assert.Equal(0, await first.WaitForExitAsync());
            Assert.Contains("outcome: Committed", first.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(gate);
        }
    }

    [Fact]
    public async Task Run_NameInUse_IsRefusedBeforeTheProgramStarts_ExitsOne()
    {
        var name = UniqueName();
        await StartAsync(Build("v1", Ticker), name);

        var second = await _molt.RunAsync("run", Build("v1", Ticker), "--name", name);
        Assert.True(second.ExitCode == 1, second.ToString());
        Assert.Contains("running already", second.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("ticker started", second.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAndUpdate_FromProjectFolders_BuildAndUseSnapshotsOfTheirOutput()
    {
        var chat = Path.Combine(RepositoryRoot(), "examples", "Chat");
        var name = UniqueName();
        var host = await StartAsync(Path.Combine(chat, "v1"), name);
        await host.WaitForStdoutAsync("listening on");

        var update = await _molt.RunAsync("update", name, Path.Combine(chat, "v2"));
        Assert.True(update.ExitCode == 0, update.ToString());

        var version = (await StatusAsync(name)).GetProperty("version");
        Assert.Equal("Chat", version.GetProperty("assemblyName").GetString());
        Assert.Equal(1, version.GetProperty("generation").GetInt32());
        // Not the project's bin/: the next build of the project must not overwrite the running version's files.
        Assert.Contains("molt-builds-", version.GetProperty("assemblyPath").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_ProgramWhoseUnitsEnd_ExitsZeroByItself()
    {
        var name = UniqueName();
        var start = Path.Combine(_molt.RuntimeDirectory, name + ".start");
        var host = await StartAsync(Build("finite", Finite), name, start);
        await File.WriteAllTextAsync(start, "go");
        Assert.Equal(0, await host.WaitForExitAsync());
        Assert.Contains("countdown done", host.Stdout, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_molt.RuntimeDirectory, name + ".sock")));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _molt.DisposeAsync();

    private async Task<HostProcess> StartAsync(string program, string name, params string[] programArgs)
        => await _molt.StartHostAsync(program, name, programArgs);

    private Task<JsonElement> StatusAsync(string name) => _molt.StatusJsonAsync(name);

    private static string Build(string version, string source) => Compiler.Build("Ticker", version, source);

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Molt.slnx")))
            {
                return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException($"No Molt.slnx above {AppContext.BaseDirectory}.");
    }

    private static string UniqueName() => $"t-{Guid.NewGuid():N}"[..20];
}
