using System.Globalization;
using System.Text;
using Kv.Demo;
using Molt.Benchmarks;
using Molt.Hosting;
using Molt.Hosting.Control;

namespace Kv.Benchmarks;

/// <summary>
/// The pause clients see during an update, by the number of keys: kv under Molt in this process
/// (<c>MoltHost.StartAsync</c>), N keys loaded with <c>redis-cli --pipe</c>, a latency prober in its own process,
/// and <c>host.UpdateAsync</c> while it probes. The host's measure of the pause against the longest wait of a client.
/// </summary>
internal static partial class Pause
{
    /// <summary>How many times each size is measured (the table shows the medians; the CSV every run).</summary>
    public static int Repeats { get; set; } = 3;

    /// <summary>The key counts.</summary>
    public static int[] Sizes { get; set; } = [1_000, 10_000, 100_000, 1_000_000];

    /// <summary>The updates measured, as (from, to) releases: v1 → v2 (every value transformed), and v4 → v5 once v5 is built.</summary>
    public static List<(int From, int To)> Pairs { get; set; } =
        [(1, 2), .. Paths.Versions.Contains(5) && Paths.Versions.Contains(4) ? [(4, 5)] : Array.Empty<(int, int)>()];

    /// <summary>
    /// Whether the host waits for the old version to be collected before UpdateAsync returns (MoltHostOptions.VerifyUnload,
    /// on by default): its forced full collections stop the new version too, right after the pause.
    /// </summary>
    public static bool VerifyUnload { get; set; } = true;

    /// <summary>Whether the host keeps old code loaded (MoltHostOptions.UnloadOldCode off): the program's code is then tiered.</summary>
    public static bool KeepOldCode { get; set; }

    /// <summary>Whether the host shares the program's unchanged libraries between versions (MoltHostOptions.ShareLibraries).</summary>
    internal static bool ShareLibraries { get; set; } = true;

    /// <summary>Connections of the prober, each with one request in flight.</summary>
    public const int ProbeConnections = 4;

    private static readonly TimeSpan Warmup = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan BaselineWindow = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan After = TimeSpan.FromSeconds(1);

    /// <summary>
    /// One measured update: the host's result (as its control endpoint reports it), the clients' longest waits, and the
    /// resident memory of the program's processes (under molt run; null in this process).
    /// </summary>
    internal sealed record Row(int From, int To, int Keys, int Run, UpdateSummary Result, TimeSpan UpdateCall,
        TimeSpan ClientMaxPause, TimeSpan ClientMaxUpdate, TimeSpan ClientMaxBaseline, TimeSpan ClientP99Baseline, TimeSpan LongestSentFromPauseStart, TimeSpan LongestAnsweredFromPauseEnd, long Requests, long Errors, long DbSizeAfter,
        ProcessMemory.Peak? Memory, IReadOnlyDictionary<string, TimeSpan>? Successor)
    {
        public TimeSpan Prepare => TimeSpan.FromMilliseconds(Result.PrepareMilliseconds);
        public TimeSpan Quiesce => TimeSpan.FromMilliseconds(Result.QuiesceMilliseconds);
        public TimeSpan Transfer => TimeSpan.FromMilliseconds(Result.TransferMilliseconds);
        public TimeSpan Restart => TimeSpan.FromMilliseconds(Result.RestartMilliseconds);
        public TimeSpan HostPause => TimeSpan.FromMilliseconds(Result.PauseMilliseconds);
        public TimeSpan Unload => TimeSpan.FromMilliseconds(Result.UnloadMilliseconds);
    }

    public static async Task RunAsync()
    {
        Console.WriteLine("Per update and size, in this process: await using var host = await MoltHost.StartAsync(\"versions/vF/Kv.dll\", [\"--port\", \"0\"]);");
        Console.WriteLine("  the port read from Kv.Program.Port (by reflection); N keys loaded: $ redis-cli -p PORT --pipe  (SET key:i value-%010d, every 10th with EX 3600)");
        Console.WriteLine($"  $ dotnet Kv.Benchmarks.dll probe --port PORT --connections {ProbeConnections} --keys N --max-seconds 300 --out FILE   (its own process: GET key:random, one in flight per connection)");
        Console.WriteLine($"  {Warmup.TotalSeconds:0} s of probing, a baseline window of {BaselineWindow.TotalSeconds:0} s, then await host.UpdateAsync(\"versions/vT/Kv.dll\"), then {After.TotalSeconds:0} s more;");
        Console.WriteLine($"  MoltHostOptions.VerifyUnload = {VerifyUnload}, UnloadOldCode = {!KeepOldCode}");
        Console.WriteLine("  checked: Committed, DBSIZE after = N, INFO kv_version = T, prober errors = 0.");
        Console.WriteLine();
        var rows = new List<Row>();
        foreach (var (from, to) in Pairs)
        {
            foreach (var keys in Sizes)
            {
                for (var run = 1; run <= Repeats; run++)
                {
                    var row = await MeasureAsync(from, to, keys, run, underMolt: null);
                    rows.Add(row);
                    Print(row, "");
                }
            }
        }
        Console.WriteLine();
        Report(rows);
    }

    /// <summary>One measured run's line: the host's result, the clients' longest waits, and the memory under molt run.</summary>
    internal static void Print(Row row, string how)
    {
        var process = row.Result.NewProcessId is { } pid ? string.Create(CultureInfo.InvariantCulture, $" (new process {pid})") : "";
        var memory = row.Memory is { } m
            ? string.Create(CultureInfo.InvariantCulture, $"; resident: before {m.BeforeMiB:0} MiB, peak of the processes together {m.PeakMiB:0} MiB ({m.PeakProcesses} processes), after {m.AfterMiB:0} MiB")
            : "";
        var successor = row.Successor is { } phases
            ? "; the new process's own phases: " + string.Join(", ", phases.Select(x => $"{x.Key.ToLowerInvariant()} {Table.Ms(x.Value)}"))
            : "";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"v{row.From} -> v{row.To}{how}, {row.Keys:N0} keys, run {row.Run}: {row.Result.Outcome}{process}; " +
            $"prepare {Table.Ms(row.Prepare)}, quiesce {Table.Ms(row.Quiesce)}, transfer {Table.Ms(row.Transfer)}, restart {Table.Ms(row.Restart)}, pause {Table.Ms(row.HostPause)}, unload {Table.Ms(row.Unload)}; " +
            $"client max: pause window {Table.Ms(row.ClientMaxPause)}, " +
            $"update call {Table.Ms(row.ClientMaxUpdate)}, baseline {Table.Ms(row.ClientMaxBaseline)} (p99 {Table.Ms(row.ClientP99Baseline)}); " +
            $"the longest GET of the pause sent {Table.Ms(row.LongestSentFromPauseStart)} after the pause began, answered {Table.Ms(row.LongestAnsweredFromPauseEnd)} after it ended; " +
            $"{row.Requests:N0} requests, {row.Errors} errors{memory}{successor}"));
    }

    /// <summary>
    /// Measures one update vF -> vT of kv holding <paramref name="keys"/> keys under the prober: in this process under
    /// <see cref="MoltHost"/> (<paramref name="underMolt"/> null), or under <c>molt run</c>, updated by that mechanism through
    /// its control endpoint (the request <c>molt update [--process]</c> sends; its answer is the JSON <c>molt update --json</c>
    /// prints), with the resident memory of molt run's children (the serving process and its successor) sampled throughout.
    /// </summary>
    internal static async Task<Row> MeasureAsync(int from, int to, int keys, int run, UpdateMechanism? underMolt)
    {
        var options = new MoltHostOptions
        {
            QuiesceTimeout = TimeSpan.FromSeconds(10), RestartTimeout = TimeSpan.FromSeconds(30), VerifyUnload = VerifyUnload, UnloadOldCode = !KeepOldCode,
            ShareLibraries = ShareLibraries,
        };
        await using KvServer server = underMolt is null
            ? await HostedKvServer.StartAsync(Paths.Kv(from), options, CancellationToken.None)
            : await MoltRunKvServer.StartAsync(Paths.MoltCli, Paths.Kv(from),
                ["--quiesce-timeout", "10s", "--restart-timeout", "30s", .. KeepOldCode ? ["--keep-old-code"] : Array.Empty<string>()], TimeSpan.FromSeconds(120), CancellationToken.None);
        var port = server.Port;
        await LoadAsync(port, keys);
        using (var check = new RespConnection(port, TimeSpan.FromSeconds(30)))
        {
            var before = long.Parse(check.Call("DBSIZE")!, CultureInfo.InvariantCulture);
            if (before != keys)
            {
                throw new InvalidOperationException($"v{from} holds {before} keys after loading {keys}");
            }
        }

        var probeFile = Path.Combine(Path.GetTempPath(), $"kv-bench-probe-{Environment.ProcessId}.bin");
        var probeStart = Run.Info("dotnet", [Path.Combine(AppContext.BaseDirectory, "Kv.Benchmarks.dll"), "probe", "--port", port.ToString(CultureInfo.InvariantCulture),
            "--connections", ProbeConnections.ToString(CultureInfo.InvariantCulture), "--keys", keys.ToString(CultureInfo.InvariantCulture), "--max-seconds", "300", "--out", probeFile]);
        probeStart.RedirectStandardInput = true;
        using var prober = System.Diagnostics.Process.Start(probeStart)!;
        var proberOut = prober.StandardOutput.ReadToEndAsync();
        var proberErr = prober.StandardError.ReadToEndAsync();
        UpdateSummary result;
        long baselineFrom, baselineTo, updateFrom, updateTo;
        var phases = new PhaseClock();
        ProcessMemory.Peak? memory = null;
        var logFrom = 0;
        try
        {
            await Task.Delay(Warmup);
            baselineFrom = DateTime.UtcNow.Ticks;
            await Task.Delay(BaselineWindow);
            using var sampler = server is MoltRunKvServer molt ? ProcessMemory.Sample(molt.SupervisorProcessId) : null;
            logFrom = server is MoltRunKvServer running ? PhaseLines().Matches(running.Output).Count : 0;
            baselineTo = updateFrom = DateTime.UtcNow.Ticks;
            var update = new UpdateOptions { Progress = phases, Mechanism = underMolt ?? UpdateMechanism.InProcess };
            result = server switch
            {
                HostedKvServer hosted => await hosted.UpdateAsync(Paths.Kv(to), update, CancellationToken.None),
                MoltRunKvServer molt2 => await UpdateThroughEndpointAsync(molt2, Paths.Kv(to), update),
                _ => throw new InvalidOperationException(server.GetType().Name),
            };
            updateTo = DateTime.UtcNow.Ticks;
            await Task.Delay(After);
            memory = sampler?.Stop();
            await prober.StandardInput.WriteLineAsync("stop");
            prober.StandardInput.Close();
            await prober.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            if (!prober.HasExited)
            {
                prober.Kill(entireProcessTree: true);
                await prober.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        var summary = await proberOut;
        if (prober.ExitCode != 0 || !summary.StartsWith("requests=", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"the prober failed (exit {prober.ExitCode}):\n{summary}\n{await proberErr}");
        }
        var fields = summary.Trim().Split(' ', 3).Select(f => f.Split('=', 2)).ToDictionary(f => f[0], f => f[1]);
        var probes = Prober.Read(probeFile);
        File.Delete(probeFile);

        if (result.Outcome != nameof(UpdateOutcome.Committed) || result.Mechanism != (underMolt ?? UpdateMechanism.InProcess).ToString())
        {
            throw new InvalidOperationException($"the update v{from} -> v{to} with {keys} keys did not commit: {result}");
        }
        long after;
        using (var check = new RespConnection(port, TimeSpan.FromSeconds(30)))
        {
            after = long.Parse(check.Call("DBSIZE")!, CultureInfo.InvariantCulture);
            var info = check.Call("INFO", "server")!;
            if (after != keys || !info.Contains($"kv_version:{to}", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"after v{from} -> v{to}: DBSIZE {after} (expected {keys}); INFO:\n{info}");
            }
        }
        var errors = long.Parse(fields["errors"], CultureInfo.InvariantCulture);
        if (errors != 0)
        {
            Console.WriteLine($"  prober errors: {errors}, the first: {fields["first_error"]}");
        }

        // The pause, as clients see it: the longest request that was in flight at some moment of the window.
        TimeSpan MaxOver(long fromTicks, long toTicks) =>
            TimeSpan.FromTicks(probes.Where(p => p.Overlaps(fromTicks, toTicks)).Select(p => p.LatencyTicks).DefaultIfEmpty(0).Max());
        var baseline = probes.Where(p => p.Overlaps(baselineFrom, baselineTo)).Select(p => p.LatencyTicks).Order().ToList();
        var p99 = TimeSpan.FromTicks(baseline.Count == 0 ? 0 : baseline[(int)(baseline.Count * 0.99)]);
        var (pauseFrom, pauseTo) = phases.PauseWindow(updateFrom, updateTo);
        // Where the longest wait of the pause lay: when it was sent against the pause's start, answered against its end.
        var longest = probes.Where(p => p.Overlaps(pauseFrom, pauseTo)).DefaultIfEmpty(new Probe(pauseFrom, 0)).MaxBy(p => p.LatencyTicks);
        return new Row(from, to, keys, run, result, TimeSpan.FromTicks(updateTo - updateFrom),
            MaxOver(pauseFrom, pauseTo), MaxOver(updateFrom, updateTo), MaxOver(baselineFrom, baselineTo), p99,
            TimeSpan.FromTicks(longest.SentUtcTicks - pauseFrom), TimeSpan.FromTicks(longest.ReceivedUtcTicks - pauseTo),
            long.Parse(fields["requests"], CultureInfo.InvariantCulture), errors, after, memory,
            server is MoltRunKvServer { } underRun && result.Mechanism == nameof(UpdateMechanism.NewProcess) ? SuccessorPhases(underRun.Output, logFrom, result) : null);
    }

    /// <summary>
    /// The new process's own phases, from molt run's log (both processes log "Update phase P done in X ms"; the old process's
    /// are the update's own, so the others are the new process's): its prepare (loading and planning, while the old served),
    /// quiesce (waiting for the old process's state), transfer (receiving, reading and rebuilding it) and restart.
    /// </summary>
    private static Dictionary<string, TimeSpan> SuccessorPhases(string log, int skip, UpdateSummary result)
    {
        var own = new Dictionary<string, List<string>>
        {
            ["Prepare"] = [Ms1(result.PrepareMilliseconds)], ["Quiesce"] = [Ms1(result.QuiesceMilliseconds)],
            ["Transfer"] = [Ms1(result.TransferMilliseconds)], ["Restart"] = [Ms1(result.RestartMilliseconds)],
        };
        var phases = new Dictionary<string, TimeSpan>();
        foreach (var line in PhaseLines().Matches(log).Skip(skip))
        {
            var (phase, ms) = (line.Groups[1].Value, line.Groups[2].Value);
            if (own.TryGetValue(phase, out var mine) && mine.Remove(ms))
            {
                continue;
            }
            phases[phase] = TimeSpan.FromMilliseconds(double.Parse(ms, CultureInfo.InvariantCulture));
        }
        return phases;

        static string Ms1(double ms) => ms.ToString("0.0", CultureInfo.InvariantCulture);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"Update phase (\w+) done in ([0-9.]+) ms")]
    private static partial System.Text.RegularExpressions.Regex PhaseLines();

    /// <summary>
    /// The update through molt run's control endpoint, with its phases reported as they end (which <c>molt update --json</c>
    /// does not print): the same request and the same answer as <c>molt update NAME PATH --json [--process]</c>.
    /// </summary>
    private static async Task<UpdateSummary> UpdateThroughEndpointAsync(MoltRunKvServer server, string programPath, UpdateOptions options)
    {
        await using var client = await MoltControlClient.ConnectAsync(server.Name, server.RuntimeDirectory);
        return await client.UpdateAsync(programPath, options);
    }

    /// <summary>
    /// Loads <paramref name="keys"/> strings <c>key:i</c> = <c>value-%010d</c> (16 bytes), every 10th with <c>EX 3600</c>,
    /// through <c>redis-cli --pipe</c>, and checks it reports no error.
    /// </summary>
    internal static async Task LoadAsync(int port, int keys)
    {
        var result = await Run.ToEndAsync("redis-cli", ["-p", port.ToString(CultureInfo.InvariantCulture), "--pipe"], TimeSpan.FromSeconds(300), async stdin =>
        {
            // Flushed, not disposed: the stream is the process's stdin, which Run closes.
            var buffered = new BufferedStream(stdin, 1 << 20);
            for (var i = 0; i < keys; i++)
            {
                var key = $"key:{i}";
                var value = $"value-{i:D10}";
                var command = i % 10 == 0
                    ? $"*5\r\n$3\r\nSET\r\n${key.Length}\r\n{key}\r\n${value.Length}\r\n{value}\r\n$2\r\nEX\r\n$4\r\n3600\r\n"
                    : $"*3\r\n$3\r\nSET\r\n${key.Length}\r\n{key}\r\n${value.Length}\r\n{value}\r\n";
                await buffered.WriteAsync(Encoding.ASCII.GetBytes(command));
            }
            await buffered.FlushAsync();
        });
        if (result.ExitCode != 0 || !result.Stdout.Contains($"errors: 0, replies: {keys}", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"redis-cli --pipe failed (exit {result.ExitCode}):\n{result.Stdout}\n{result.Stderr}");
        }
    }

    private static void Report(List<Row> rows)
    {
        Directory.CreateDirectory(Results.Directory);
        var csv = Path.Combine(Results.Directory, (VerifyUnload ? "pause" : "pause-no-verify-unload") + (KeepOldCode ? "-code-kept" : "") + ".csv");
        static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("0.000", CultureInfo.InvariantCulture);
        File.WriteAllLines(csv, ["from,to,keys,run,prepare_ms,quiesce_ms,transfer_ms,restart_ms,pause_ms,unload_ms,update_call_ms,client_max_pause_window_ms,client_max_update_call_ms,client_max_baseline_ms,client_p99_baseline_ms,longest_sent_after_pause_start_ms,longest_answered_after_pause_end_ms,objects_rebuilt,references_passed,requests,errors,dbsize_after",
            .. rows.Select(r => string.Join(',', r.From, r.To, r.Keys, r.Run, Ms(r.Prepare), Ms(r.Quiesce), Ms(r.Transfer),
                Ms(r.Restart), Ms(r.HostPause), Ms(r.Unload), Ms(r.UpdateCall), Ms(r.ClientMaxPause), Ms(r.ClientMaxUpdate),
                Ms(r.ClientMaxBaseline), Ms(r.ClientP99Baseline), Ms(r.LongestSentFromPauseStart), Ms(r.LongestAnsweredFromPauseEnd), r.Result.ObjectsRebuilt, r.Result.ReferencesPassed, r.Requests, r.Errors, r.DbSizeAfter))]);

        foreach (var pair in rows.GroupBy(r => (r.From, r.To)))
        {
            var table = new Table(Commands.Line,
                $"Update v{pair.Key.From} -> v{pair.Key.To} under a probing load ({ProbeConnections} connections of GET), by keys held; median of {Repeats} for each column" +
                    (VerifyUnload ? "" : "; VerifyUnload = false") + (KeepOldCode ? "; old code kept loaded (UnloadOldCode = false)" : ""),
                "keys", "prepare", "quiesce", "transfer", "restart", "host pause", "client max (pause)", "client max (update call)", "client max (baseline)", "client p99 (baseline)", "objects rebuilt", "errors");
            foreach (var size in pair.GroupBy(r => r.Keys))
            {
                TimeSpan M(Func<Row, TimeSpan> of) => TimeSpan.FromTicks((long)Stats.Median(size.Select(r => (double)of(r).Ticks)));
                table.Add(size.Key, M(r => r.Prepare), M(r => r.Quiesce), M(r => r.Transfer), M(r => r.Restart),
                    M(r => r.HostPause), M(r => r.ClientMaxPause), M(r => r.ClientMaxUpdate), M(r => r.ClientMaxBaseline), M(r => r.ClientP99Baseline),
                    size.First().Result.ObjectsRebuilt, size.Sum(r => r.Errors));
            }
            table.Print(
                "host pause: UpdateResult.PauseTime = quiesce + transfer + restart; prepare runs before it, while the old version serves.",
                "client max: the longest GET (send to reply) in flight at some moment of the window: the pause (the end of Prepare to the end of Restart, " +
                "as reported to UpdateOptions.Progress), the whole UpdateAsync call (prepare, pause, unload), or the baseline (3 s just before the update); p99: the 99th percentile of the baseline's GETs.",
                $"errors: prober errors, summed over the runs. Every run: {Paths.Short(csv)}");
        }
    }

    /// <summary>Timestamps (UTC ticks) of the end of each phase, taken when the host reports it.</summary>
    internal sealed class PhaseClock : IProgress<UpdateProgress>
    {
        private readonly Dictionary<UpdatePhase, long> _ends = [];

        public void Report(UpdateProgress value)
        {
            lock (_ends)
            {
                _ends[value.Phase] = DateTime.UtcNow.Ticks;
            }
        }

        /// <summary>From the end of Prepare to the end of Restart; the whole call where the host reported neither.</summary>
        public (long From, long To) PauseWindow(long callFrom, long callTo)
        {
            lock (_ends)
            {
                return (_ends.GetValueOrDefault(UpdatePhase.Prepare, callFrom), _ends.GetValueOrDefault(UpdatePhase.Restart, callTo));
            }
        }
    }
}
