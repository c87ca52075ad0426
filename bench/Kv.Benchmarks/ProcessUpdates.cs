using System.Globalization;
using Molt.Benchmarks;
using Molt.Hosting;

namespace Kv.Benchmarks;

/// <summary>
/// A process update against an in-process update of the same versions (v1 -> v2), side by side in one run, by the number
/// of keys: kv under <c>molt run</c> both ways (<see cref="Pause.MeasureAsync"/>, the pause benchmark's measure), the host's
/// pause (the update's <c>pauseMilliseconds</c>) and the prober's longest wait, and the resident memory of the program's
/// processes (the serving one and, across processes, its successor) sampled through the update.
/// </summary>
internal static class ProcessUpdates
{
    /// <summary>The key counts (1M with <c>--with-1m</c>: its runs take minutes).</summary>
    public static int[] Sizes { get; set; } = [1_000, 10_000, 100_000];

    private static readonly UpdateMechanism[] Mechanisms = [UpdateMechanism.InProcess, UpdateMechanism.NewProcess];

    public static async Task RunAsync()
    {
        const int from = 1, to = 2;
        Console.WriteLine("Per size, run and mechanism: kv under molt run, as an operator runs it:");
        Console.WriteLine("  $ dotnet molt/Molt.Cli.dll run versions/v1/Kv.dll --name NAME --quiesce-timeout 10s --restart-timeout 30s -- --port 0");
        Console.WriteLine("  N keys loaded with redis-cli --pipe, the prober started, 3 s of warm-up and 3 s of baseline (as in `pause`), then the update through");
        Console.WriteLine("  molt run's control endpoint, as `molt update NAME versions/v2/Kv.dll --json [--process]` sends it (its phases timed as they end),");
        Console.WriteLine("  then 1 s more. Resident memory: VmRSS of molt run's children (/proc/SUPERVISOR/task/*/children), summed, every 5 ms from");
        Console.WriteLine("  just before the update to 1 s after it. The two mechanisms alternate within each run, in process first.");
        Console.WriteLine();
        var rows = new List<(UpdateMechanism Mechanism, Pause.Row Row)>();
        foreach (var keys in Sizes)
        {
            for (var run = 1; run <= Pause.Repeats; run++)
            {
                foreach (var mechanism in Mechanisms)
                {
                    var row = await Pause.MeasureAsync(from, to, keys, run, mechanism);
                    rows.Add((mechanism, row));
                    Pause.Print(row, mechanism == UpdateMechanism.NewProcess ? " across processes" : " in process");
                }
            }
        }
        Console.WriteLine();
        Report(rows);
        await StreamCostsAsync();
    }

    /// <summary>
    /// Where a process update's transfer goes, measured in one warm process: kv v1 under MoltHost in this process, updated
    /// in process to v2 through the state stream (the internal MoltHostOptions.TransferThroughStream: written, read into v1
    /// loaded anew, transferred from there, as the new process does, without the second process and the socket): the
    /// stream's size, writing it, reading it, the transfer from what was read; twice per size, the first with this
    /// process's Molt code cold for the stream.
    /// </summary>
    private static async Task StreamCostsAsync()
    {
        var table = new Table(Commands.Line,
            "The transfer through the state stream in one process (no second process, no socket): v1 -> v2 under MoltHost with TransferThroughStream, no load",
            "keys", "run", "stream bytes", "write", "read", "rest of transfer", "transfer", "in-process transfer (direct)");
        foreach (var keys in Sizes)
        {
            for (var run = 1; run <= 2; run++)
            {
                var direct = await TransferAsync(keys, throughStream: false);
                var stream = await TransferAsync(keys, throughStream: true);
                table.Add(keys, run == 1 ? "1 (cold)" : "2", stream.StreamBytes ?? 0, stream.StreamWriteTime, stream.StreamReadTime,
                    stream.TransferTime - stream.StreamWriteTime - stream.StreamReadTime, stream.TransferTime, direct.TransferTime);
            }
        }
        table.Print("write: StateWriter.Write; read: StateReader.Read into v1 loaded anew for its types; rest: the transfer of what was read into v2 (TransferPlan, copiers).",
            "The direct in-process transfer (old objects read in place) of the same state, run just before it, for reference.");
    }

    private static async Task<UpdateResult> TransferAsync(int keys, bool throughStream)
    {
        var options = new MoltHostOptions { QuiesceTimeout = TimeSpan.FromSeconds(10), RestartTimeout = TimeSpan.FromSeconds(30), VerifyUnload = false, TransferThroughStream = throughStream };
        await using var host = await MoltHost.StartAsync(Paths.Kv(1), ["--port", "0"], options);
        await Pause.LoadAsync(Kv.Demo.HostedKvServer.ReadPort(host), keys);
        var result = await host.UpdateAsync(Paths.Kv(2));
        return result.Outcome == UpdateOutcome.Committed ? result : throw new InvalidOperationException($"v1 -> v2 through the stream, {keys} keys: {result}");
    }

    private static void Report(List<(UpdateMechanism Mechanism, Pause.Row Row)> rows)
    {
        Directory.CreateDirectory(Results.Directory);
        var csv = Path.Combine(Results.Directory, "process-pause.csv");
        static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("0.000", CultureInfo.InvariantCulture);
        File.WriteAllLines(csv, ["mechanism,from,to,keys,run,prepare_ms,quiesce_ms,transfer_ms,restart_ms,pause_ms,unload_ms,update_call_ms,client_max_pause_window_ms,client_max_update_call_ms,client_max_baseline_ms,client_p99_baseline_ms,requests,errors,dbsize_after,new_process_id,rss_before_kib,rss_peak_kib,rss_peak_processes,rss_after_kib,successor_prepare_ms,successor_quiesce_ms,successor_transfer_ms,successor_restart_ms",
            .. rows.Select(x => (x.Mechanism, r: x.Row)).Select(x => string.Join(',', x.Mechanism, x.r.From, x.r.To, x.r.Keys, x.r.Run, Ms(x.r.Prepare), Ms(x.r.Quiesce), Ms(x.r.Transfer),
                Ms(x.r.Restart), Ms(x.r.HostPause), Ms(x.r.Unload), Ms(x.r.UpdateCall), Ms(x.r.ClientMaxPause), Ms(x.r.ClientMaxUpdate), Ms(x.r.ClientMaxBaseline), Ms(x.r.ClientP99Baseline),
                x.r.Requests, x.r.Errors, x.r.DbSizeAfter, x.r.Result.NewProcessId?.ToString(CultureInfo.InvariantCulture) ?? "",
                x.r.Memory?.BeforeKiB, x.r.Memory?.PeakKiB, x.r.Memory?.PeakProcesses, x.r.Memory?.AfterKiB,
                Successor(x.r, "Prepare"), Successor(x.r, "Quiesce"), Successor(x.r, "Transfer"), Successor(x.r, "Restart")))]);
        static string Successor(Pause.Row row, string phase) => row.Successor?.TryGetValue(phase, out var t) == true ? Ms(t) : "";

        TimeSpan M(IEnumerable<(UpdateMechanism Mechanism, Pause.Row Row)> of, UpdateMechanism mechanism, Func<Pause.Row, TimeSpan> value) =>
            TimeSpan.FromTicks((long)Stats.Median(of.Where(x => x.Mechanism == mechanism).Select(x => (double)value(x.Row).Ticks)));
        double Ratio(IEnumerable<(UpdateMechanism Mechanism, Pause.Row Row)> of, Func<Pause.Row, TimeSpan> value) =>
            M(of, UpdateMechanism.NewProcess, value) / M(of, UpdateMechanism.InProcess, value);
        double MiB(IEnumerable<(UpdateMechanism Mechanism, Pause.Row Row)> of, UpdateMechanism mechanism, Func<ProcessMemory.Peak, double> value) =>
            Stats.Median(of.Where(x => x.Mechanism == mechanism && x.Row.Memory is not null).Select(x => value(x.Row.Memory!)));

        var pause = new Table(Commands.Line,
            $"Update v1 -> v2 of kv under molt run, in process (in) against across processes (proc), by keys held; median of {Pause.Repeats} for each column; ratio: proc/in",
            "keys", "host pause in", "host pause proc", "ratio", "client max in", "client max proc", "ratio", "client max (call) in", "client max (call) proc",
            "transfer in", "transfer proc", "new process: transfer", "prepare in", "prepare proc", "errors");
        foreach (var size in rows.GroupBy(x => x.Row.Keys))
        {
            pause.Add(size.Key, M(size, UpdateMechanism.InProcess, r => r.HostPause), M(size, UpdateMechanism.NewProcess, r => r.HostPause), Ratio(size, r => r.HostPause),
                M(size, UpdateMechanism.InProcess, r => r.ClientMaxPause), M(size, UpdateMechanism.NewProcess, r => r.ClientMaxPause), Ratio(size, r => r.ClientMaxPause),
                M(size, UpdateMechanism.InProcess, r => r.ClientMaxUpdate), M(size, UpdateMechanism.NewProcess, r => r.ClientMaxUpdate),
                M(size, UpdateMechanism.InProcess, r => r.Transfer), M(size, UpdateMechanism.NewProcess, r => r.Transfer),
                M(size, UpdateMechanism.NewProcess, r => r.Successor?.GetValueOrDefault("Transfer") ?? TimeSpan.Zero),
                M(size, UpdateMechanism.InProcess, r => r.Prepare), M(size, UpdateMechanism.NewProcess, r => r.Prepare), size.Sum(x => x.Row.Errors));
        }
        pause.Print(
            "host pause: the update's pauseMilliseconds (quiesce + transfer + restart; across processes, the old process's measure: from its units parking to the new",
            "process's units reaching their first update point). client max: the prober's longest GET in flight during the pause window (the end of Prepare to the end",
            "of Restart, as the endpoint reported the phases); (call): during the whole update request. transfer across processes: writing the state stream, sending",
            "it with the sockets, and the new process reading and transferring it; new process: transfer: the new process's own Transfer phase (from molt run's log:",
            $"receiving the state, reading it, rebuilding it as v2's objects). errors: prober errors, summed. Every run: {Paths.Short(csv)}");

        var memory = new Table("(the same run)",
            $"Resident memory of molt run's children (the serving process; across processes also its successor), MiB, median of {Pause.Repeats}",
            "keys", "in: before", "in: peak", "in: after", "proc: before", "proc: peak (both)", "proc: after", "proc peak/before", "processes at the peak");
        foreach (var size in rows.GroupBy(x => x.Row.Keys))
        {
            memory.Add(size.Key,
                MiB(size, UpdateMechanism.InProcess, m => m.BeforeMiB), MiB(size, UpdateMechanism.InProcess, m => m.PeakMiB), MiB(size, UpdateMechanism.InProcess, m => m.AfterMiB),
                MiB(size, UpdateMechanism.NewProcess, m => m.BeforeMiB), MiB(size, UpdateMechanism.NewProcess, m => m.PeakMiB), MiB(size, UpdateMechanism.NewProcess, m => m.AfterMiB),
                MiB(size, UpdateMechanism.NewProcess, m => m.PeakMiB) / MiB(size, UpdateMechanism.NewProcess, m => m.BeforeMiB),
                (long)Stats.Median(size.Where(x => x.Mechanism == UpdateMechanism.NewProcess && x.Row.Memory is not null).Select(x => (double)x.Row.Memory!.PeakProcesses)));
        }
        memory.Print(
            "before: just before the update request (after 6 s of probing); peak: the highest sum of the samples (every 5 ms) during the update and the second after it;",
            "after: one second after the update returned (across processes: the new process alone; in process: before the runtime returns the freed heap to the system).");
    }
}
