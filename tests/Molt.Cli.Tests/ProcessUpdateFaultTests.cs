using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Molt.Hosting;
using Molt.Hosting.Control;
using Molt.Testing;
using Xunit.Abstractions;

namespace Molt.Cli.Tests;

/// <summary>
/// The fault matrix of process updates (issue 11), with real processes and real clients: <c>molt run</c> supervises a TCP
/// server whose state is a counter and a dictionary and whose connection units answer a line protocol from it; a client
/// connects before the update. Each fault (the new process exits, throws or hangs at start-up, is killed in the middle of
/// the transfer, a transformer throws, a state check fails, state cannot cross, the version is incompatible, the operator
/// stops the program during the transfer) must leave the old process serving: the same process id, the connection opened
/// before the update answering from the same state, new connections accepted, <c>molt status</c> answering, and no other
/// program process left. Then a good process update must still commit, with the same connection served by the new process.
/// </summary>
public sealed class ProcessUpdateFaultTests(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>
    /// The program: an accept unit and one unit per connection. Commands, one per line: INCR, SET key value, GET key,
    /// STATE (the whole state in one line), WHO (process, version, connection), OPEN path (a file handle held in a static),
    /// KEEP path (one in a list in the connection's state), CLOSE (both closed), FDS (a child shell lists its descriptors and
    /// environment). Markers: V2s put their start-up fault at
    /// STARTUP and their transformers and checks at EXTRA.
    /// </summary>
    private const string V1 = ProgramCompiler.Usings + """
        using System.Diagnostics;
        using System.IO;
        public class Store { public long Counter; public Dictionary<string, string> Values = new(); }
        public class Connection { public int Id; public Socket Socket; public byte[] Received = new byte[4096]; public int Count; public List<FileStream> Files = new(); }
        public static class Journal { public static FileStream File; }
        public static class Program
        {
            public const int Version = 1;
            public static Store State = new();
            public static int LastId;
            public static async Task Main(string[] args)
            {
                if (Live.IsUpdating)
                {
                    /*STARTUP*/
                }
                else
                {
                    var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                    listener.Listen(64);
                    Console.WriteLine("listening on port " + ((IPEndPoint)listener.LocalEndPoint).Port);
                    Live.StartUnit("accept", listener, Accept);
                }
                await Live.RunAsync();
            }
            public static async Task Accept(Socket listener)
            {
                while (true)
                {
                    await Live.UpdatePointAsync("accept");
                    Socket client;
                    try { client = await listener.AcceptAsync(Live.UpdateRequested); }
                    catch (OperationCanceledException) { continue; }
                    var connection = new Connection { Id = Interlocked.Increment(ref LastId), Socket = client };
                    Live.StartUnit("conn-" + connection.Id, connection, Serve);
                }
            }
            public static async Task Serve(Connection c)
            {
                try
                {
                    while (true)
                    {
                        await Live.UpdatePointAsync("command");
                        var end = Array.IndexOf(c.Received, (byte)'\n', 0, c.Count);
                        if (end >= 0)
                        {
                            var line = Encoding.UTF8.GetString(c.Received, 0, end).TrimEnd('\r');
                            c.Count -= end + 1;
                            Array.Copy(c.Received, end + 1, c.Received, 0, c.Count);
                            await c.Socket.SendAsync(Encoding.UTF8.GetBytes(Answer(c, line) + "\n"), SocketFlags.None);
                            continue;
                        }
                        int received;
                        try { received = await c.Socket.ReceiveAsync(c.Received.AsMemory(c.Count), SocketFlags.None, Live.UpdateRequested); }
                        catch (OperationCanceledException) { continue; }
                        if (received == 0) { c.Socket.Dispose(); return; }
                        c.Count += received;
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException) { c.Socket.Dispose(); } // The client reset it.
            }
            public static string Answer(Connection c, string line)
            {
                var parts = line.Split(' ', 3);
                if (parts[0] == "FDS") return "FDS " + Shell("ls -l /proc/self/fd; env");
                lock (State)
                {
                    switch (parts[0])
                    {
                        case "INCR": State.Counter = State.Counter + 1; return "COUNT " + State.Counter;
                        case "SET": State.Values[parts[1]] = parts[2]; return "OK";
                        case "GET": return State.Values.TryGetValue(parts[1], out var value) ? "VALUE " + value : "NONE";
                        case "STATE": return "STATE counter=" + State.Counter + " values=" + string.Join(",", State.Values.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + "=" + p.Value));
                        case "WHO": return "WHO pid=" + Environment.ProcessId + " version=" + Version + " conn=" + c.Id;
                        case "OPEN": Journal.File = new FileStream(parts[1], FileMode.Create); return "OK";
                        case "KEEP": c.Files.Add(new FileStream(parts[1], FileMode.Create)); return "OK";
                        case "CLOSE": Journal.File?.Dispose(); Journal.File = null; c.Files.ForEach(f => f.Dispose()); c.Files.Clear(); return "OK";
                        default: return "ERR " + line;
                    }
                }
            }
            private static string Shell(string command)
            {
                var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, UseShellExecute = false };
                start.ArgumentList.Add("-c");
                start.ArgumentList.Add(command);
                using var shell = Process.Start(start);
                var output = shell.StandardOutput.ReadToEnd();
                shell.WaitForExit();
                return output.Replace('\n', '|');
            }
        }
        /*EXTRA*/
        """;

    /// <summary>The good next version: the same program, version 2.</summary>
    private static readonly string V2 = V1.Replace("public const int Version = 1;", "public const int Version = 2;", StringComparison.Ordinal);

    /// <summary>The log line each side of a process update writes when its units are quiet: both written, the state is on its way.</summary>
    private const string QuiesceDone = "Update phase Quiesce done";

    private static readonly ProgramCompiler Compiler = new("molt-cli-tests");

    private readonly MoltCli _molt = new(Path.Combine(Path.GetTempPath(), $"molt-fault-tests-{Guid.NewGuid():N}"));
    private readonly List<IAsyncDisposable> _disposables = [];

    /// <summary>What the test does while the update runs.</summary>
    private enum Interference
    {
        /// <summary>Nothing: the update fails by itself.</summary>
        None,
        /// <summary>SIGKILL to the new process once the state is on its way (its reading is delayed by the test hook).</summary>
        KillNewProcessInTransfer,
        /// <summary>SIGTERM to the supervisor once the state is on its way: the update rolls back, then the program stops.</summary>
        StopSupervisorInTransfer,
        /// <summary>The program holds a file handle in a static before the update (CLOSE releases it before the good update).</summary>
        HoldFileInStatic,
        /// <summary>The connection's unit holds a file handle in a list in its state before the update (CLOSE releases it).</summary>
        HoldFileInConnection,
    }

    /// <summary>One fault: the version tried, how, and what the failed update must say.</summary>
    /// <param name="Name">The case's name.</param>
    /// <param name="Source">The version the update tries.</param>
    /// <param name="UpdateOptions">More options of <c>molt update</c> (after <c>--process --json</c>).</param>
    /// <param name="RestartTimeout">molt run's <c>--restart-timeout</c>: each step of the new process must end within it.</param>
    /// <param name="During">What the test does while the update runs.</param>
    /// <param name="ExitCode">molt update's exit code: 2 rolled back, 3 refused.</param>
    /// <param name="Outcome">The result's outcome.</param>
    /// <param name="FailedPhase">The phase that failed.</param>
    /// <param name="Words">What the failure must say, each of them.</param>
    /// <param name="StatePath">The state path the result must name (null: none).</param>
    /// <param name="NewProcessExitCode">The new process's exit code as the supervisor saw it, where the fault decides it (null:
    /// it may have ended by itself or been killed; the supervisor says "without serving" either way).</param>
    private sealed record FaultCase(
        string Name, string Source, string[] UpdateOptions, string RestartTimeout, Interference During,
        int ExitCode, string Outcome, string FailedPhase, string[] Words, string? StatePath = null, int? NewProcessExitCode = null);

    private const string DefaultRestartTimeout = "20s";

    /// <summary>The matrix: one row per fault.</summary>
    private static readonly FaultCase[] Matrix =
    [
        new("new process exits at start-up", WithStartup("Environment.Exit(7);"), [], DefaultRestartTimeout, Interference.None,
            2, "RolledBack", "Restart", ["new process", "exited"], NewProcessExitCode: 7),
        new("new process throws at start-up", WithStartup("throw new InvalidOperationException(\"v2 start-up failed on purpose\");"), [], DefaultRestartTimeout, Interference.None,
            2, "RolledBack", "Restart", ["In the new process", "v2 start-up failed on purpose"]),
        new("new process killed in the middle of the transfer", V2, ["--env", "MOLT_TEST_RECEIVE_DELAY_MS=4000"], DefaultRestartTimeout, Interference.KillNewProcessInTransfer,
            2, "RolledBack", "Transfer", ["new process", "exited"], NewProcessExitCode: 137),
        new("new process hangs past the deadline", WithStartup("Thread.Sleep(TimeSpan.FromSeconds(60));"), [], "6s", Interference.None,
            // Two deadlines of the same length race: the old process's wait for 'ready' ("The new process (process N) did not
            // start the new version and its units within 6 s"), and the new process's own for its Main ("In the new process: The
            // new version's start-up (its Main) did not return within 6 s"; it may then exit by itself before it is killed).
            2, "RolledBack", "Restart", ["new version", "within 6 s"]),
        // The transformers fail only where FAULT_IN_NEW_PROCESS is set (the new process's environment): molt update's check
        // first runs them too, in the old process, and would refuse the version before any process starts.
        new("a [TransformField] transformer throws", V2 + """
            public static class Transformers
            {
                [TransformField(typeof(Store), "Counter")]
                public static long Counter(OldObject old) => Environment.GetEnvironmentVariable("FAULT_IN_NEW_PROCESS") == "1"
                    ? throw new InvalidOperationException("the counter's transformer failed on purpose") : old.Get<long>("Counter");
            }
            """, ["--env", "FAULT_IN_NEW_PROCESS=1"], DefaultRestartTimeout, Interference.None,
            2, "RolledBack", "Transfer", ["In the new process", "Transformers.Counter", "the counter's transformer failed on purpose"], StatePath: "static Program.State"),
        new("a [TransformType] transformer throws", V2 + """
            public static class Transformers
            {
                [TransformType("Store")]
                public static void AfterStore(OldObject old, Store target)
                {
                    if (Environment.GetEnvironmentVariable("FAULT_IN_NEW_PROCESS") == "1") throw new InvalidOperationException("the store's transformer failed on purpose");
                }
            }
            """, ["--env", "FAULT_IN_NEW_PROCESS=1"], DefaultRestartTimeout, Interference.None,
            2, "RolledBack", "Transfer", ["In the new process", "Transformers.AfterStore", "the store's transformer failed on purpose"], StatePath: "static Program.State"),
        new("a [StateCheck] fails", V2 + """
            public static class Checks
            {
                [StateCheck]
                public static void CounterChecked() => throw new InvalidOperationException("the state check failed on purpose at counter " + Program.State.Counter);
            }
            """, [], DefaultRestartTimeout, Interference.None,
            2, "RolledBack", "StateCheck", ["In the new process", "the state check failed on purpose at counter 3"]),
        new("a file handle in a static cannot cross", V2, [], DefaultRestartTimeout, Interference.HoldFileInStatic,
            2, "RolledBack", "Transfer", ["FileStream", "cannot cross to the new process"], StatePath: "static Journal.File"),
        new("a file handle in a connection's state cannot cross", V2, [], DefaultRestartTimeout, Interference.HoldFileInConnection,
            2, "RolledBack", "Transfer", ["FileStream", "cannot cross to the new process"], StatePath: "unit 'conn-1' state.Files[0]"),
        new("the program is stopped during the transfer", V2, ["--env", "MOLT_TEST_RECEIVE_DELAY_MS=4000"], DefaultRestartTimeout, Interference.StopSupervisorInTransfer,
            2, "RolledBack", "Transfer", ["the program is stopping"]),
    ];

    /// <summary>Every row of <see cref="Matrix"/>, by name.</summary>
    public static TheoryData<string> Faults => [.. Matrix.Select(c => c.Name)];

    [Fact]
    public void Matrix_HasEveryFaultOfTheIssue()
    {
        // Ten rows here (both kinds of transformer, a file handle in a static and in a unit's state); below, the incompatible
        // version, the old process killed during the transfer, and the private hand-off: thirteen cases.
        Assert.Equal(10, Matrix.Length);
        Assert.Equal(Matrix.Length, Matrix.Select(c => c.Name).Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(Faults))]
    public async Task ProcessUpdateFault_LeavesTheOldProcessServing_ThenAGoodUpdateCommits(string fault)
    {
        var c = Matrix.Single(m => m.Name == fault);
        var program = await StartAsync(c.RestartTimeout);
        await using var before = await program.ConnectAsync();
        var stateBefore = await SeedAsync(before);
        var oldPid = await ServingProcessAsync(program);
        Assert.Equal($"WHO pid={oldPid} version=1 conn=1", await before.AskAsync("WHO"));
        string? file = null;
        if (c.During is Interference.HoldFileInStatic or Interference.HoldFileInConnection)
        {
            file = Path.Combine(_molt.RuntimeDirectory, "journal.bin");
            Assert.Equal("OK", await before.AskAsync((c.During == Interference.HoldFileInStatic ? "OPEN " : "KEEP ") + file));
        }

        var quiesced = Count(program.Host.Stderr, QuiesceDone);
        var update = _molt.Start(["update", program.Name, Build("fault", c.Source), "--process", "--json", .. c.UpdateOptions]);
        _disposables.Add(update);
        int? newPid = null;
        // Every fault here comes after both processes have quiesced (each logs it): the old process's units are parked.
        await WaitUntilAsync(() => Count(program.Host.Stderr, QuiesceDone) >= quiesced + 2, "both processes quiesced", program.Host);
        if (c.During != Interference.StopSupervisorInTransfer)
        {
            // A command sent during the pause (or just after the rollback, if the fault was quicker): its bytes wait in the
            // kernel, and the old process answers them once its units resume.
            await before.SendAsync("INCR");
        }
        if (c.During is Interference.KillNewProcessInTransfer or Interference.StopSupervisorInTransfer)
        {
            // The old process has sent the state, and the new one sleeps on it (the test hook).
            newPid = Assert.Single(ChildrenOf(program.SupervisorPid), p => p != oldPid);
            await Task.Delay(500);
            if (c.During == Interference.KillNewProcessInTransfer)
            {
                Signal(newPid.Value, "KILL");
            }
            else
            {
                program.Host.Signal("TERM");
            }
        }
        var exitCode = await update.WaitForExitAsync();
        var failed = $"{c.Name}: exit {exitCode}\n--- update stdout\n{update.Stdout}\n--- update stderr\n{update.Stderr}\n--- molt run stderr\n{program.Host.Stderr}";
        Assert.True(exitCode == c.ExitCode, failed);
        using (var json = JsonDocument.Parse(update.Stdout))
        {
            var result = json.RootElement;
            output.WriteLine($"{c.Name}: exit {exitCode}, {result.GetProperty("outcome")} in {result.GetProperty("failedPhase")}: {result.GetProperty("failure")} (state path: {result.GetProperty("statePath")})");
            Assert.True(result.GetProperty("outcome").GetString() == c.Outcome, failed);
            Assert.True(result.GetProperty("failedPhase").GetString() == c.FailedPhase, failed);
            Assert.Equal("NewProcess", result.GetProperty("mechanism").GetString());
            var failure = result.GetProperty("failure").GetString() ?? "";
            foreach (var word in c.Words)
            {
                Assert.True(failure.Contains(word, StringComparison.Ordinal), $"The failure does not say '{word}': {failure}\n{failed}");
            }
            Assert.True(result.GetProperty("statePath").GetString() == c.StatePath, failed);
        }

        if (c.During == Interference.StopSupervisorInTransfer)
        {
            // The update rolled back, then the program stopped cleanly: the supervisor exits 0, and no program process is left.
            Assert.Equal(0, await program.Host.WaitForExitAsync());
            await WaitUntilAsync(() => !IsAlive(oldPid) && !IsAlive(newPid!.Value), "both program processes gone", program.Host);
            Assert.Contains("stopped", program.Host.Stderr, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(_molt.RuntimeDirectory, program.Name + ".sock")), "the endpoint is removed");
            return;
        }

        Assert.Equal("COUNT 4", await before.ReadReplyAsync("INCR"));
        stateBefore = stateBefore.Replace("counter=3", "counter=4", StringComparison.Ordinal);
        await AssertOldProcessServesAsync(program, before, oldPid, stateBefore, connections: 1);
        // The supervisor saw the new process end without serving (with its exit code where the fault decides it).
        var started = SupervisorStarted(program.Host.Stderr);
        var code = c.NewProcessExitCode?.ToString(CultureInfo.InvariantCulture) ?? "-?[0-9]+";
        Assert.Matches($"Process {started}, started for an update, exited with code {code} without serving", program.Host.Stderr);
        var history = (await StatusAsync(program.Name)).GetProperty("history");
        Assert.Equal(c.Outcome, history[history.GetArrayLength() - 1].GetProperty("outcome").GetString());

        if (file is not null)
        {
            Assert.Equal("OK", await before.AskAsync("CLOSE"));
            File.Delete(file);
        }
        await AssertGoodUpdateCommitsAsync(program, before, oldPid, stateBefore);
    }

    [Fact]
    public async Task ProcessUpdateFault_IncompatibleVersion_IsRefusedBeforeAnyProcessStarts_NothingPaused()
    {
        var program = await StartAsync(DefaultRestartTimeout);
        await using var before = await program.ConnectAsync();
        var stateBefore = await SeedAsync(before);
        var oldPid = await ServingProcessAsync(program);
        var incompatible = Build("incompatible", V2.Replace("public long Counter;", "public string Counter;", StringComparison.Ordinal));

        // Through molt update, the check comes first: refused (3) with the field named, and no new process is started.
        var update = await _molt.RunAsync("update", program.Name, incompatible, "--process", "--json");
        Assert.True(update.ExitCode == 3, update.ToString());
        using (var json = JsonDocument.Parse(update.Stdout))
        {
            Assert.False(json.RootElement.GetProperty("compatible").GetBoolean());
            Assert.Contains(json.RootElement.GetProperty("lines").EnumerateArray(), l => l.GetString()!.Contains("Store.Counter", StringComparison.Ordinal));
        }
        Assert.DoesNotContain("Process update: new process", program.Host.Stderr, StringComparison.Ordinal);
        Assert.Empty((await StatusAsync(program.Name)).GetProperty("history").EnumerateArray());
        await AssertOldProcessServesAsync(program, before, oldPid, stateBefore, connections: 1);

        // Asked directly (no check first), the process mechanism refuses it at prepare, in the new process, before any unit parks.
        UpdateSummary summary;
        Environment.SetEnvironmentVariable("MOLT_RUNTIME_DIR", _molt.RuntimeDirectory);
        await using (var client = await MoltControlClient.ConnectAsync(program.Name))
        {
            using var deadline = new CancellationTokenSource(MoltCli.Deadline);
            summary = await client.UpdateAsync(incompatible, new UpdateOptions { Mechanism = UpdateMechanism.NewProcess }, deadline.Token);
        }
        var failed = $"{summary}\n--- molt run stderr\n{program.Host.Stderr}";
        Assert.True(summary.Outcome == "Refused", failed);
        Assert.True(summary.FailedPhase == "Prepare", failed);
        Assert.True(summary.Failure!.Contains("In the new process", StringComparison.Ordinal) && summary.Failure.Contains("Counter", StringComparison.Ordinal), failed);
        Assert.Equal(0, summary.QuiesceMilliseconds);
        Assert.Equal(0, summary.PauseMilliseconds);
        Assert.Contains("Process update: new process", program.Host.Stderr, StringComparison.Ordinal);
        await AssertOldProcessServesAsync(program, before, oldPid, stateBefore, connections: 2);

        await AssertGoodUpdateCommitsAsync(program, before, oldPid, stateBefore);
    }

    [Fact]
    public async Task ProcessUpdateFault_HandoffIsPrivate_NoDescriptorOrVariableOfItReachesAnyoneElse()
    {
        var program = await StartAsync(DefaultRestartTimeout);
        await using var before = await program.ConnectAsync();
        var stateBefore = await SeedAsync(before);
        var oldPid = await ServingProcessAsync(program);
        AssertChildSeesNothingOfMolt(await before.AskAsync("FDS"), "the first process's child");

        var update = _molt.Start("update", program.Name, Build("v2", V2), "--process", "--json", "--env", "MOLT_TEST_RECEIVE_DELAY_MS=3000");
        _disposables.Add(update);
        var newPid = await WaitForValueAsync(() => ChildrenOf(program.SupervisorPid).Where(p => p != oldPid).Select(p => (int?)p).FirstOrDefault(), "the new process", program.Host);
        await WaitUntilAsync(() => program.Host.Stderr.Contains($"Process update: new process {newPid} started", StringComparison.Ordinal), "the hand-off's hello", program.Host);
        // While the two processes hand over, nobody else can reach the channel: no socket is bound in the endpoint directory
        // but the program's endpoint, and every Unix socket either process holds has no path (a socket pair's end) but that one.
        var endpoint = Path.Combine(_molt.RuntimeDirectory, program.Name + ".sock");
        Assert.Equal([endpoint], UnixSocketTable().Select(s => s.Path).Where(p => p.StartsWith(_molt.RuntimeDirectory, StringComparison.Ordinal)).Distinct());
        foreach (var pid in new[] { oldPid, newPid })
        {
            var paths = UnixSocketPaths(pid);
            Assert.True(paths.Count >= 2, $"process {pid} holds {paths.Count} Unix sockets: its link to the supervisor and the hand-off at least");
            // The runtime's own diagnostics socket (dotnet-trace's, the same user's only) is every .NET process's, not Molt's.
            var diagnostics = Path.Combine(Path.GetTempPath(), $"dotnet-diagnostic-{pid}-");
            Assert.All(paths, p => Assert.True(p.Length == 0 || p == endpoint || p.StartsWith(diagnostics, StringComparison.Ordinal), $"process {pid} holds a Unix socket at '{p}'"));
        }

        Assert.True(await update.WaitForExitAsync() == 0, update.Stdout + update.Stderr + program.Host.Stderr);
        Assert.Equal($"WHO pid={newPid} version=2 conn=1", await before.AskAsync("WHO"));
        Assert.Equal(stateBefore, await before.AskAsync("STATE"));
        AssertChildSeesNothingOfMolt(await before.AskAsync("FDS"), "the new process's child");
    }

    [Fact]
    public async Task ProcessUpdateFault_OldProcessKilledDuringTheTransfer_TheNewOneExitsWithoutServing()
    {
        // The other way round: the old process dies (SIGKILL) while the new one sleeps on the state. Nothing can keep the
        // program then, but the new process must not serve half an update: it exits without serving, and molt run exits with
        // the exit code of the process that served last.
        var program = await StartAsync(DefaultRestartTimeout);
        await using var before = await program.ConnectAsync();
        await SeedAsync(before);
        var oldPid = await ServingProcessAsync(program);
        var quiesced = Count(program.Host.Stderr, QuiesceDone);
        var update = _molt.Start("update", program.Name, Build("v2", V2), "--process", "--json", "--env", "MOLT_TEST_RECEIVE_DELAY_MS=3000");
        _disposables.Add(update);
        await WaitUntilAsync(() => Count(program.Host.Stderr, QuiesceDone) >= quiesced + 2, "both processes quiesced", program.Host);
        var newPid = Assert.Single(ChildrenOf(program.SupervisorPid), p => p != oldPid);
        Signal(oldPid, "KILL");

        Assert.Equal(137, await program.Host.WaitForExitAsync());
        var updateExit = await update.WaitForExitAsync();
        Assert.True(updateExit == 4, $"exit {updateExit}: {update.Stdout}{update.Stderr}");
        await WaitUntilAsync(() => !IsAlive(newPid), $"the new process {newPid} gone", program.Host);
        // Its last words ("Update not applied": the old process, killed, wrote none) reach the same stderr, which it inherited
        // from molt run, a moment after it has gone. Why depends on where the kill found the old process: the state did not
        // arrive, or the old process was lost before the commit.
        await WaitUntilAsync(() => program.Host.Stderr.Contains("Update not applied", StringComparison.Ordinal), "the new process saying it did not take over", program.Host);
        Assert.Matches("The state did not arrive from the old process|The old process was lost|The old process did not commit", program.Host.Stderr);
        Assert.DoesNotContain($"Process {newPid} serves the program", program.Host.Stderr, StringComparison.Ordinal);
        var status = await _molt.RunAsync("status", program.Name);
        Assert.True(status.ExitCode == 4, status.ToString()); // Nobody answers the program's name.
    }

    [Fact]
    public async Task ProcessUpdateFault_StopDuringAnInProcessUpdate_ItsCallerGetsTheRollback()
    {
        // The same order for the in-process mechanism: the stop rolls the update back, its caller hears so, then the program
        // stops. The new version's start-up takes 4 s here: the stop comes while it runs.
        var program = await StartAsync(DefaultRestartTimeout);
        await using var before = await program.ConnectAsync();
        await SeedAsync(before);
        var transferred = Count(program.Host.Stderr, "Update phase Transfer done");
        var update = _molt.Start("update", program.Name, Build("slow-start", WithStartup("Thread.Sleep(4000);")), "--json");
        _disposables.Add(update);
        await WaitUntilAsync(() => Count(program.Host.Stderr, "Update phase Transfer done") > transferred, "the transfer done", program.Host);
        program.Host.Signal("TERM");

        var exitCode = await update.WaitForExitAsync();
        Assert.True(exitCode == 2, $"exit {exitCode}: {update.Stdout}{update.Stderr}\n--- molt run stderr\n{program.Host.Stderr}");
        using (var json = JsonDocument.Parse(update.Stdout))
        {
            Assert.Equal("RolledBack", json.RootElement.GetProperty("outcome").GetString());
            Assert.Equal("InProcess", json.RootElement.GetProperty("mechanism").GetString());
            Assert.Contains("the program is stopping", json.RootElement.GetProperty("failure").GetString(), StringComparison.Ordinal);
        }
        Assert.Equal(0, await program.Host.WaitForExitAsync());
        Assert.False(File.Exists(Path.Combine(_molt.RuntimeDirectory, program.Name + ".sock")), "the endpoint is removed");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        for (var i = _disposables.Count - 1; i >= 0; i--)
        {
            await _disposables[i].DisposeAsync();
        }
        try
        {
            Directory.Delete(_molt.RuntimeDirectory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    /// <summary>The old process serves on: the same process id, the connection opened before answering from the same state, a new connection, molt status; and it is the supervisor's only child.</summary>
    private async Task AssertOldProcessServesAsync(RunningProgram program, LineClient before, int oldPid, string stateBefore, int connections)
    {
        Assert.Equal(oldPid, await ServingProcessAsync(program));
        Assert.Equal(stateBefore, await before.AskAsync("STATE"));
        Assert.Equal($"WHO pid={oldPid} version=1 conn=1", await before.AskAsync("WHO"));
        await using (var fresh = await program.ConnectAsync())
        {
            Assert.Equal($"WHO pid={oldPid} version=1 conn={connections + 1}", await fresh.AskAsync("WHO"));
            Assert.Equal(stateBefore, await fresh.AskAsync("STATE"));
        }
        await WaitUntilAsync(() => ChildrenOf(program.SupervisorPid).SequenceEqual([oldPid]), $"process {oldPid} the supervisor's only child", program.Host);
    }

    /// <summary>A good process update commits: the connection opened before the failures is served by the new process, with the state.</summary>
    private async Task AssertGoodUpdateCommitsAsync(RunningProgram program, LineClient before, int oldPid, string stateBefore)
    {
        // The new process sleeps on the state (the test hook) so that a command is surely sent during the pause: the new
        // process reads it from the same connection, which it received with the state.
        var quiesced = Count(program.Host.Stderr, QuiesceDone);
        var update = _molt.Start("update", program.Name, Build("v2", V2), "--process", "--json", "--env", "MOLT_TEST_RECEIVE_DELAY_MS=1500");
        _disposables.Add(update);
        await WaitUntilAsync(() => Count(program.Host.Stderr, QuiesceDone) >= quiesced + 2, "both processes quiesced", program.Host);
        await before.SendAsync("WHO");
        Assert.True(await update.WaitForExitAsync() == 0, update.Stdout + update.Stderr + "\n--- molt run stderr\n" + program.Host.Stderr);
        int newPid;
        using (var json = JsonDocument.Parse(update.Stdout))
        {
            Assert.Equal("Committed", json.RootElement.GetProperty("outcome").GetString());
            Assert.Equal("NewProcess", json.RootElement.GetProperty("mechanism").GetString());
            newPid = json.RootElement.GetProperty("newProcessId").GetInt32();
        }
        Assert.NotEqual(oldPid, newPid);
        Assert.Equal($"WHO pid={newPid} version=2 conn=1", await before.ReadReplyAsync("WHO"));
        Assert.Equal(newPid, await ServingProcessAsync(program));
        Assert.Equal($"WHO pid={newPid} version=2 conn=1", await before.AskAsync("WHO"));
        Assert.Equal(stateBefore, await before.AskAsync("STATE"));
        var counter = long.Parse(stateBefore.Split(' ')[1]["counter=".Length..], CultureInfo.InvariantCulture);
        Assert.Equal($"COUNT {counter + 1}", await before.AskAsync("INCR"));
        await using (var fresh = await program.ConnectAsync())
        {
            Assert.StartsWith($"WHO pid={newPid} version=2 conn=", await fresh.AskAsync("WHO"), StringComparison.Ordinal);
        }
        await WaitUntilAsync(() => !IsAlive(oldPid) && ChildrenOf(program.SupervisorPid).SequenceEqual([newPid]), $"process {oldPid} gone, {newPid} the only child", program.Host);
    }

    /// <summary>The state every case starts from: a counter of 3 and two keys; returns the STATE line.</summary>
    private static async Task<string> SeedAsync(LineClient client)
    {
        Assert.Equal("OK", await client.AskAsync("SET alpha one"));
        Assert.Equal("OK", await client.AskAsync("SET beta two words"));
        Assert.Equal("COUNT 1", await client.AskAsync("INCR"));
        Assert.Equal("COUNT 2", await client.AskAsync("INCR"));
        Assert.Equal("COUNT 3", await client.AskAsync("INCR"));
        Assert.Equal("VALUE two words", await client.AskAsync("GET beta"));
        var state = await client.AskAsync("STATE");
        Assert.Equal("STATE counter=3 values=alpha=one,beta=two words", state);
        return state;
    }

    /// <summary>A child the program starts inherits no socket but its standard streams, and no variable of Molt's hand-off.</summary>
    private static void AssertChildSeesNothingOfMolt(string reply, string who)
    {
        Assert.StartsWith("FDS ", reply, StringComparison.Ordinal);
        var lines = reply["FDS ".Length..].Split('|');
        var descriptors = lines.Select(l => l.Split(" -> ")).Where(p => p.Length == 2)
            .Select(p => (Fd: int.Parse(p[0][(p[0].LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture), Target: p[1])).ToList();
        Assert.Contains(descriptors, d => d.Fd == 1); // The listing is real.
        Assert.Contains(lines, l => l.StartsWith("MOLT_RUNTIME_DIR=", StringComparison.Ordinal)); // So is the environment.
        Assert.All(descriptors.Where(d => d.Fd > 2), d => Assert.False(d.Target.StartsWith("socket:", StringComparison.Ordinal), $"{who} inherited descriptor {d.Fd} -> {d.Target}"));
        foreach (var variable in new[] { "MOLT_SUPERVISOR_FD=", "MOLT_HANDOFF_FD=", "MOLT_RUNTIMECONFIG_FILE=" })
        {
            Assert.DoesNotContain(lines, l => l.StartsWith(variable, StringComparison.Ordinal));
        }
    }

    private async Task<RunningProgram> StartAsync(string restartTimeout)
    {
        var name = $"f-{Guid.NewGuid():N}"[..20];
        var host = await _molt.StartHostWithOptionsAsync(Build("v1", V1), name, ["--restart-timeout", restartTimeout]);
        _disposables.Add(host);
        await host.WaitForStdoutAsync("listening on port ");
        var line = host.Stdout.Split('\n').First(l => l.StartsWith("listening on port ", StringComparison.Ordinal));
        var program = new RunningProgram(name, host, int.Parse(line["listening on port ".Length..].Trim(), CultureInfo.InvariantCulture), _disposables);
        return program;
    }

    /// <summary>The serving process, as molt status says.</summary>
    private async Task<int> ServingProcessAsync(RunningProgram program) =>
        (await StatusAsync(program.Name)).GetProperty("processId").GetInt32();

    private Task<JsonElement> StatusAsync(string name) => _molt.StatusJsonAsync(name);

    private static string Build(string version, string source) => Compiler.Build("FaultServer", version, source);

    private static string WithStartup(string fault) => V2.Replace("/*STARTUP*/", fault, StringComparison.Ordinal);

    /// <summary>The process the supervisor started last for an update (its log line).</summary>
    private static int SupervisorStarted(string log)
    {
        const string Marker = "Started process ";
        var at = log.LastIndexOf(Marker, StringComparison.Ordinal);
        Assert.True(at >= 0, log);
        var digits = log[(at + Marker.Length)..].TakeWhile(char.IsAsciiDigit).ToArray();
        return int.Parse(digits, CultureInfo.InvariantCulture);
    }

    private static int Count(string text, string what)
    {
        var count = 0;
        for (var at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }

    /// <summary>The processes whose parent is <paramref name="parent"/> (zombies too: a child is gone once reaped).</summary>
    private static List<int> ChildrenOf(int parent)
    {
        var children = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }
            try
            {
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1], CultureInfo.InvariantCulture) == parent)
                {
                    children.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Exited meanwhile.
            }
        }
        return children;
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[stat.LastIndexOf(')') + 2] is not ('Z' or 'X');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The paths of the Unix sockets a process holds ("" for one without a path: a socket pair's end, a connected socket).</summary>
    private static List<string> UnixSocketPaths(int pid)
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:[", StringComparison.Ordinal))
                {
                    inodes.Add(target["socket:[".Length..^1]);
                }
            }
            catch (IOException)
            {
            }
        }
        return [.. UnixSocketTable().Where(s => inodes.Contains(s.Inode)).Select(s => s.Path)];
    }

    /// <summary>Every Unix socket of the system: its inode and its path ("" for none); from /proc/net/unix (Num RefCount Protocol Flags Type St Inode [Path]).</summary>
    private static List<(string Inode, string Path)> UnixSocketTable() =>
        [.. File.ReadAllLines("/proc/net/unix").Skip(1)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length >= 7)
            .Select(f => (f[6], f.Length > 7 ? f[7] : ""))];

    private static void Signal(int pid, string signal)
    {
        using var kill = System.Diagnostics.Process.Start("kill", ["-" + signal, pid.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what, HostProcess host)
    {
        var until = DateTime.UtcNow + MoltCli.Deadline;
        while (!condition())
        {
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"Not within {MoltCli.Deadline.TotalSeconds} s: {what}\n--- molt run stderr\n{host.Stderr}");
            }
            await Task.Delay(50);
        }
    }

    private static async Task<int> WaitForValueAsync(Func<int?> read, string what, HostProcess host)
    {
        int? value = null;
        await WaitUntilAsync(() => (value = read()) is not null, what, host);
        return value!.Value;
    }

    /// <summary>A program under <c>molt run</c>: its name, the supervisor, the port its server listens on.</summary>
    private sealed class RunningProgram(string name, HostProcess host, int port, List<IAsyncDisposable> disposables)
    {
        public string Name { get; } = name;

        public HostProcess Host { get; } = host;

        /// <summary>The supervisor (<c>molt run</c>) process: every program process is its child.</summary>
        public int SupervisorPid => Host.Process.Id;

        public async Task<LineClient> ConnectAsync()
        {
            var client = await LineClient.ConnectAsync(port);
            disposables.Add(client);
            return client;
        }
    }

    /// <summary>A client of the program's line protocol: one command, one reply line, each bounded by the deadline.</summary>
    private sealed class LineClient : IAsyncDisposable
    {
        private readonly Socket _socket;
        private readonly NetworkStream _stream;
        private readonly StreamReader _reader;

        private LineClient(Socket socket)
        {
            _socket = socket;
            _stream = new NetworkStream(socket, ownsSocket: true);
            _reader = new StreamReader(_stream, Encoding.UTF8);
        }

        public static async Task<LineClient> ConnectAsync(int port)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            using var deadline = new CancellationTokenSource(MoltCli.Deadline);
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), deadline.Token);
            return new LineClient(socket);
        }

        public async Task<string> AskAsync(string command)
        {
            await SendAsync(command);
            return await ReadReplyAsync(command);
        }

        /// <summary>Sends a command without waiting for its reply (read it with <see cref="ReadReplyAsync"/>).</summary>
        public async Task SendAsync(string command)
        {
            using var deadline = new CancellationTokenSource(MoltCli.Deadline);
            await _stream.WriteAsync(Encoding.UTF8.GetBytes(command + "\n"), deadline.Token);
        }

        /// <summary>The next reply line: the one to <paramref name="command"/>, sent before.</summary>
        public async Task<string> ReadReplyAsync(string command)
        {
            using var deadline = new CancellationTokenSource(MoltCli.Deadline);
            try
            {
                return await _reader.ReadLineAsync(deadline.Token) ?? throw new IOException($"The program closed the connection instead of answering '{command}'.");
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"No answer to '{command}' within {MoltCli.Deadline.TotalSeconds} s.");
            }
        }

        public ValueTask DisposeAsync()
        {
            _reader.Dispose();
            _socket.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
