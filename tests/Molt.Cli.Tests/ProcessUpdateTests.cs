using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Molt.Testing;

namespace Molt.Cli.Tests;

/// <summary>
/// Process updates through the operator's command line: <c>molt update --process</c> moves a running program to a new
/// process, which may run on other runtime settings (the new version's runtimeconfig, <c>--env</c>) and another build of
/// the host (<c>--host</c>); the program's name answers throughout, its state and update history carry over, the old
/// process is gone, and the supervisor tells systemd each step. The fault cases are in ProcessUpdateFaultTests.
/// </summary>
public sealed class ProcessUpdateTests : IAsyncLifetime
{
    /// <summary>Prints where it runs at each start (its first one and each update's): process, GC mode, a setting, its state.</summary>
    private const string Facts = ProgramCompiler.Usings + """
        using System.Collections;
        using System.Runtime;
        public class Ticker { public long Ticks; }
        public static class Program
        {
            public static Ticker State = new();
            // Its buckets hold hash codes of strings, which differ in every process: it must be refilled in the new one.
            public static Hashtable Names = new() { ["alpha"] = 1, ["beta"] = 2, ["gamma"] = 3 };
            public static System.Collections.Immutable.ImmutableDictionary<string, int> Frozen = System.Collections.Immutable.ImmutableDictionary<string, int>.Empty.Add("alpha", 1).Add("beta", 2);
            public static System.Collections.Frozen.FrozenDictionary<string, int> Frozen2 = System.Collections.Frozen.FrozenDictionary.ToFrozenDictionary(new Dictionary<string, int> { ["alpha"] = 1, ["beta"] = 2, ["gamma"] = 3, ["delta"] = 4 });
            public static System.Collections.Immutable.ImmutableHashSet<string> Set = System.Collections.Immutable.ImmutableHashSet.Create("alpha", "beta");
            public static async Task Main(string[] args)
            {
                Console.WriteLine($"facts release={Release.Number} pid={Environment.ProcessId} server={GCSettings.IsServerGC} latency={GCSettings.LatencyMode} " +
                    $"setting={Environment.GetEnvironmentVariable("MOLT_TEST_SETTING") ?? "-"} names={Names["alpha"]}{Names["beta"]}{Names["gamma"]} imm={Frozen.GetValueOrDefault("alpha")}{Frozen.GetValueOrDefault("beta")}{Frozen2.GetValueOrDefault("gamma")}{Set.Contains("beta")} ticks={State.Ticks}");
                if (!Live.IsUpdating)
                {
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
        public static class Release { public const int Number = 1; }
        """;

    private static readonly ProgramCompiler Compiler = new("molt-process-tests");
    private readonly MoltCli _molt = new(Path.Combine(Path.GetTempPath(), $"molt-process-tests-{Guid.NewGuid():N}"));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _molt.DisposeAsync();

    [Fact]
    public async Task ProcessUpdates_ChangeTheRuntime_KeepStateHistoryAndName_MixedWithInProcessUpdates()
    {
        var name = $"proc-{Guid.NewGuid():N}"[..16];
        var host = await StartAsync(Release(1), name);
        await host.WaitForStdoutAsync("facts release=1");
        var first = await StatusAsync(name);
        var firstProcess = first.GetProperty("processId").GetInt32();
        Assert.Contains("Workstation GC", first.GetProperty("runtime").GetString(), StringComparison.Ordinal);

        // While the program moves between processes its name keeps answering: `molt status` in a loop never fails.
        using var polling = new CancellationTokenSource();
        var poller = PollStatusAsync(name, polling.Token);

        // 1 -> 2 across processes; version 2's runtime configuration turns Server GC on.
        var v2 = Release(2);
        await File.WriteAllTextAsync(Path.ChangeExtension(v2, ".runtimeconfig.json"), """{ "runtimeOptions": { "configProperties": { "System.GC.Server": true } } }""");
        var second = await UpdateAsync(name, v2, "--process");
        Assert.Equal("NewProcess", second.GetProperty("mechanism").GetString());
        var secondProcess = second.GetProperty("newProcessId").GetInt32();
        Assert.NotEqual(firstProcess, secondProcess);
        await host.WaitForStdoutAsync($"facts release=2 pid={secondProcess} server=True latency=Interactive setting=- names=123 imm=123True");
        await WaitGoneAsync(firstProcess);
        var status = await StatusAsync(name);
        Assert.Equal(secondProcess, status.GetProperty("processId").GetInt32());
        Assert.Equal(host.Process.Id, HostProcess.ParentOf(secondProcess)); // Still the supervisor's child.
        Assert.Contains("Server GC", status.GetProperty("runtime").GetString(), StringComparison.Ordinal);

        // 2 -> 3 across processes, with settings of the operator's: a DOTNET_ one (concurrent GC off: latency Batch) and one of the program's.
        var third = await UpdateAsync(name, Release(3), "--process", "--env", "DOTNET_gcConcurrent=0", "--env", "MOLT_TEST_SETTING=three");
        var thirdProcess = third.GetProperty("newProcessId").GetInt32();
        await host.WaitForStdoutAsync($"facts release=3 pid={thirdProcess} server=False latency=Batch setting=three names=123 imm=123True");
        await WaitGoneAsync(secondProcess);

        // 3 -> 4 in process: the same process; the settings stay.
        var fourth = await UpdateAsync(name, Release(4));
        Assert.Equal("InProcess", fourth.GetProperty("mechanism").GetString());
        await host.WaitForStdoutAsync($"facts release=4 pid={thirdProcess} server=False latency=Batch setting=three");

        // Back to 3 across processes: the version to roll back to came with the state from the process before.
        var back = await _molt.RunAsync("rollback", name, "--process", "--json");
        Assert.True(back.ExitCode == 0, back.ToString());
        int backProcess;
        using (var json = JsonDocument.Parse(back.Stdout))
        {
            Assert.Equal("NewProcess", json.RootElement.GetProperty("mechanism").GetString());
            backProcess = json.RootElement.GetProperty("newProcessId").GetInt32();
        }
        await host.WaitForStdoutAsync($"facts release=3 pid={backProcess} server=False latency=Batch setting=three");
        await WaitGoneAsync(thirdProcess);

        await polling.CancelAsync();
        var (answered, failures) = await poller;
        Assert.True(failures.Count == 0, $"`molt status` failed {failures.Count} of {answered + failures.Count} times during the updates: {string.Join(" | ", failures.Take(3))}");
        Assert.True(answered > 0);

        // The state went on through every process: the ticks only grew; the history tells every update and where it ran.
        var ticks = Ticks(host.Stdout);
        Assert.True(ticks.SequenceEqual(ticks.Order()) && ticks[^1] > 0, $"ticks: {string.Join(", ", ticks)}");
        var final = await StatusAsync(name);
        Assert.Equal(["NewProcess", "NewProcess", "InProcess", "NewProcess"], final.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("mechanism").GetString()!).ToArray());
        Assert.Equal(4, final.GetProperty("updatesTotal").GetInt32());

        // A stop reaches whichever process serves; `molt run` exits 0 and nothing is left running.
        host.Signal("TERM");
        Assert.Equal(0, await host.WaitForExitAsync());
        Assert.Equal(0, HostProcess.ParentOf(backProcess));
    }

    [Fact]
    public async Task CtrlC_FromTheTerminal_StopsTheProcessThatServes_AfterAProcessUpdate()
    {
        var name = $"ctrlc-{Guid.NewGuid():N}"[..16];
        var host = await _molt.StartHostInOwnGroupAsync(Release(1), name);
        var update = await UpdateAsync(name, Release(2), "--process");
        var serving = update.GetProperty("newProcessId").GetInt32();
        await host.WaitForStdoutAsync($"facts release=2 pid={serving}");

        // Ctrl-C: the terminal sends SIGINT to its foreground process group, here molt run and the process that serves.
        using (var kill = System.Diagnostics.Process.Start("kill", ["-INT", "--", "-" + host.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill!.WaitForExitAsync();
            Assert.Equal(0, kill.ExitCode);
        }
        Assert.Equal(0, await host.WaitForExitAsync());
        Assert.Equal(0, HostProcess.ParentOf(serving));
        Assert.Contains("stopped", host.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_molt.RuntimeDirectory, name + ".sock")), "the endpoint is removed");
    }

    [Fact]
    public async Task Supervisor_TellsSystemd_Ready_Reloading_Stopping()
    {
        var name = $"sysd-{Guid.NewGuid():N}"[..16];
        var socketPath = Path.Combine(Path.GetTempPath(), $"molt-notify-{Guid.NewGuid():N}.sock");
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(socketPath));
        try
        {
            var host = await _molt.StartHostWithEnvironmentAsync(Release(1), name, [], new Dictionary<string, string> { ["NOTIFY_SOCKET"] = socketPath });
            var notes = new List<string>();
            await ReceiveUntilAsync(notify, notes, n => n.Contains("READY=1", StringComparison.Ordinal));
            var first = await StatusAsync(name);
            Assert.Contains(notes, n => n.Contains($"process {first.GetProperty("processId").GetInt32()}", StringComparison.Ordinal));

            var update = await UpdateAsync(name, Release(2), "--process");
            var newProcess = update.GetProperty("newProcessId").GetInt32();
            notes.Clear();
            await ReceiveUntilAsync(notify, notes, n => n.Contains($"process {newProcess}", StringComparison.Ordinal));
            Assert.Contains(notes, n => n.Contains("RELOADING=1", StringComparison.Ordinal) && n.Contains("MONOTONIC_USEC=", StringComparison.Ordinal));
            Assert.Contains(notes, n => n.Contains("READY=1", StringComparison.Ordinal));

            host.Signal("TERM");
            notes.Clear();
            await ReceiveUntilAsync(notify, notes, n => n.Contains("STOPPING=1", StringComparison.Ordinal));
            Assert.Equal(0, await host.WaitForExitAsync());
        }
        finally
        {
            File.Delete(socketPath);
        }
    }

    [Fact]
    public async Task ProcessUpdate_RunsTheHostBuildItIsGiven()
    {
        // Another build of the host, installed elsewhere: the new process runs it, and says so.
        var otherHost = Directory.CreateTempSubdirectory("molt-other-host-").FullName;
        try
        {
            foreach (var file in Directory.EnumerateFiles(AppContext.BaseDirectory)
                .Where(f => f.EndsWith(".dll", StringComparison.Ordinal) || Path.GetFileName(f).StartsWith("Molt.Cli.", StringComparison.Ordinal)))
            {
                File.Copy(file, Path.Combine(otherHost, Path.GetFileName(file)));
            }
            var name = $"host-{Guid.NewGuid():N}"[..16];
            var host = await StartAsync(Release(1), name);
            var before = await StatusAsync(name);
            Assert.Equal(Path.Combine(AppContext.BaseDirectory, "Molt.Cli.dll"), before.GetProperty("hostPath").GetString());

            var update = await UpdateAsync(name, Release(2), "--process", "--host", Path.Combine(otherHost, "Molt.Cli.dll"));
            var after = await StatusAsync(name);
            Assert.Equal(update.GetProperty("newProcessId").GetInt32(), after.GetProperty("processId").GetInt32());
            Assert.Equal(Path.Combine(otherHost, "Molt.Cli.dll"), after.GetProperty("hostPath").GetString());
            host.Signal("TERM");
            Assert.Equal(0, await host.WaitForExitAsync());
        }
        finally
        {
            Directory.Delete(otherHost, recursive: true);
        }
    }

    [Fact]
    public async Task UsageErrors_EnvAndHostNeedProcess_AndBadPairsAreRefused()
    {
        var name = $"use-{Guid.NewGuid():N}"[..16];
        await StartAsync(Release(1), name);
        var withoutProcess = await _molt.RunAsync("update", name, Release(2), "--env", "A=1");
        Assert.True(withoutProcess.ExitCode == 1 && withoutProcess.Stderr.Contains("--process", StringComparison.Ordinal), withoutProcess.ToString());
        var badPair = await _molt.RunAsync("update", name, Release(2), "--process", "--env", "=x");
        Assert.True(badPair.ExitCode == 1 && badPair.Stderr.Contains("NAME=VALUE", StringComparison.Ordinal), badPair.ToString());
        var status = await StatusAsync(name);
        Assert.Equal(0, status.GetProperty("updatesTotal").GetInt32()); // Nothing was tried.
    }

    private static string Release(int number) =>
        Compiler.Build("Facts", $"v{number}", Facts.Replace("Number = 1;", $"Number = {number};", StringComparison.Ordinal));

    private async Task<HostProcess> StartAsync(string program, string name)
        => await _molt.StartHostAsync(program, name);

    private Task<JsonElement> StatusAsync(string name) => _molt.StatusJsonAsync(name);

    private async Task<JsonElement> UpdateAsync(string name, string program, params string[] options)
    {
        var result = await _molt.RunAsync(["update", name, program, "--json", .. options]);
        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.Stdout);
        var update = json.RootElement.Clone();
        Assert.Equal("Committed", update.GetProperty("outcome").GetString());
        return update;
    }

    private async Task<(int Answered, List<string> Failures)> PollStatusAsync(string name, CancellationToken stop)
    {
        var answered = 0;
        var failures = new List<string>();
        while (!stop.IsCancellationRequested)
        {
            var status = await _molt.RunAsync("status", name, "--json");
            if (status.ExitCode == 0)
            {
                answered++;
            }
            else
            {
                failures.Add(status.ToString());
            }
        }
        return (answered, failures);
    }

    private static async Task WaitGoneAsync(int processId)
    {
        var until = DateTime.UtcNow + MoltCli.Deadline;
        while (HostProcess.ParentOf(processId) != 0)
        {
            Assert.True(DateTime.UtcNow < until, $"process {processId} is still running after its update committed");
            await Task.Delay(50);
        }
    }

    private static List<long> Ticks(string stdout) =>
        [.. stdout.Split('\n').Where(l => l.StartsWith("facts ", StringComparison.Ordinal))
            .Select(l => long.Parse(l[(l.IndexOf("ticks=", StringComparison.Ordinal) + 6)..].Trim(), System.Globalization.CultureInfo.InvariantCulture))];

    private static async Task ReceiveUntilAsync(Socket socket, List<string> notes, Func<string, bool> done)
    {
        var buffer = new byte[4096];
        using var deadline = new CancellationTokenSource(MoltCli.Deadline);
        while (!notes.Any(done))
        {
            int received;
            try
            {
                received = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"systemd's socket did not receive what was expected; it received: {string.Join(" | ", notes)}");
            }
            notes.Add(Encoding.UTF8.GetString(buffer, 0, received));
        }
    }
}
