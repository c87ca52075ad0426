using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Molt.Benchmarks;

namespace Shop.Benchmarks;

/// <summary>
/// The pause clients see during an update, by the number of products: shop v1 under <c>molt run</c>, seeded with N
/// products, wrk on <c>GET /api/products/7</c> and the prober on <c>GET /api/version</c> running, then
/// <c>molt update</c> to v2 (the data changes shape: every product, order and price is rebuilt, FromV1.cs), then the
/// same to v3 (the default mapping). The host's pause (from molt update's output) against wrk's maximum latency and the
/// prober's.
/// </summary>
internal static partial class Pause
{
    /// <summary>The product counts.</summary>
    public static int[] Sizes { get; set; } = [2_000, 20_000, 200_000];

    /// <summary>How many times each size is measured (the table shows medians).</summary>
    public static int Repeats { get; set; } = 1;

    /// <summary>Seconds of wrk and the prober before molt update starts (the prober's "before" window).</summary>
    public static double LeadSeconds { get; set; } = 3;

    /// <summary>Seconds of wrk and the prober after molt update ends.</summary>
    public static double AfterSeconds { get; set; } = 2;

    private static readonly Endpoint Load = new("GET /api/products/7", "/api/products/7");
    private const double WarmupSeconds = 2;

    /// <summary>One run: an update (or the baseline, no update: To = From) at a size.</summary>
    private sealed record Row(int From, int To, int Products, int Run, UpdateOutput? Update, WrkResult Wrk,
        TimeSpan ProberMaxCall, TimeSpan ProberMaxPause, TimeSpan ProberGap, TimeSpan ProberMaxBefore, int Probes, int ProbeErrors, string? FirstProbeError)
    {
        /// <summary>The prober's longest request of the call: sent this long after the pause began (the line "phase prepare"; negative: before it).</summary>
        public TimeSpan LongestSentAfterPauseStart { get; init; }

        /// <summary>… and answered this long after the pause ended (the line "phase restart").</summary>
        public TimeSpan LongestAnsweredAfterPauseEnd { get; init; }
    }

    public static async Task RunAsync()
    {
        Console.WriteLine($"Per size N (products) and run: $ dotnet {Paths.Short(Paths.MoltCli)} run {Paths.Short(Paths.Shop(1))} --name shop-pause-… -- --urls http://127.0.0.1:PORT --products N");
        Console.WriteLine($"  checked: GET /api/stats says products = N; then {WarmupSeconds:0} s of wrk (warm-up), then, with wrk and the prober running:");
        Console.WriteLine($"  $ wrk {string.Join(' ', Wrk.Arguments("http://127.0.0.1:PORT", Load, 300))}   (stopped by SIGINT {AfterSeconds:0.#} s after the update; wrk then reports)");
        Console.WriteLine($"  the prober, in the benchmark's process: GET /api/version every {Prober.Interval.TotalMilliseconds:0} ms on one kept-alive connection (HttpClient), every request timed;");
        Console.WriteLine($"  baseline: {LeadSeconds + AfterSeconds:0.#} s with no update; then for v1 -> v2 and v2 -> v3: {LeadSeconds:0.#} s, then");
        Console.WriteLine($"  $ dotnet {Paths.Short(Paths.MoltCli)} update shop-pause-… {Paths.Short(Paths.Shop(2))}   (resp. v3; its lines timed as they arrive), then {AfterSeconds:0.#} s more.");
        Console.WriteLine("  checked after each update: outcome Committed, /api/version is the new release, /api/stats: products = N, consistent = true.");
        Console.WriteLine();
        var rows = new List<Row>();
        foreach (var products in Sizes)
        {
            for (var run = 1; run <= Repeats; run++)
            {
                await using var server = await ShopServer.StartUnderMoltAsync(1, products, $"shop-pause-{Environment.ProcessId}-{products}-{run}");
                await CheckAsync(server, 1, products);
                await Wrk.RunAsync(server.BaseUrl, Load, WarmupSeconds);
                var baseline = await MeasureAsync(server, 1, 1, products, run);
                rows.Add(baseline);
                Print(baseline);
                foreach (var (from, to) in new[] { (1, 2), (2, 3) })
                {
                    var row = await MeasureAsync(server, from, to, products, run);
                    rows.Add(row);
                    Print(row);
                }
            }
        }
        Console.WriteLine();
        Report(rows);
    }

    private static void Print(Row row)
    {
        var errors = string.Create(CultureInfo.InvariantCulture, $"wrk {row.Wrk.Requests:N0} requests, {row.Wrk.SocketErrors} socket errors, {row.Wrk.Non2xx} non-2xx; prober {row.Probes:N0} requests, {row.ProbeErrors} errors") +
            (row.FirstProbeError is { } e ? $" (first: {e})" : "");
        if (row.Update is not { } u)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Shop baseline: products={row.Products} v{row.From}, no update: wrk max {Ms0(row.Wrk.Max)}, p99 {Table.Ms(row.Wrk.P99)}, prober max {Ms0(row.ProberMaxCall)}, longest gap {Ms0(row.ProberGap)}; {errors}"));
            return;
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Shop pause: products={row.Products} v{row.From} -> v{row.To}: host pause {Ms0(u.Pause)}, wrk max {Ms0(row.Wrk.Max)}, prober max {Ms0(row.ProberMaxCall)}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {u.Outcome}; prepare {Table.Ms(u.Prepare)}, quiesce {Table.Ms(u.Quiesce)}, transfer {Table.Ms(u.Transfer)}, restart {Table.Ms(u.Restart)}, pause {Table.Ms(u.Pause)}, unload {Table.Ms(u.Unload)}; " +
            $"{u.ObjectsRebuilt:N0} objects rebuilt; molt update took {Table.Ms(u.Call)}, its lines \"phase prepare\" … \"phase restart\" came {Table.Ms(u.LinesPauseStart)} … {Table.Ms(u.LinesPauseEnd)} into it; wrk p99 {Table.Ms(row.Wrk.P99)}; " +
            $"prober max in the pause window {Table.Ms(row.ProberMaxPause)}, over the molt update call {Table.Ms(row.ProberMaxCall)} (sent {Table.Ms(row.LongestSentAfterPauseStart)} after the pause began, answered {Table.Ms(row.LongestAnsweredAfterPauseEnd)} after it ended), " +
            $"before it {Table.Ms(row.ProberMaxBefore)}, longest gap between answers {Table.Ms(row.ProberGap)}; {errors}"));
    }

    private static string Ms0(TimeSpan t) => t.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture) + " ms";

    /// <summary>
    /// One run of wrk and the prober against <paramref name="server"/>: <see cref="LeadSeconds"/>, then <c>molt update</c> to
    /// <paramref name="to"/> (none when it is <paramref name="from"/>), then <see cref="AfterSeconds"/>.
    /// </summary>
    private static async Task<Row> MeasureAsync(ShopServer server, int from, int to, int products, int run)
    {
        using var prober = new Prober(server.BaseUrl);
        await using var wrk = WrkProcess.Start(server.BaseUrl, Load);
        await Task.Delay(TimeSpan.FromSeconds(LeadSeconds));
        UpdateOutput? update = null;
        var callStart = Stopwatch.GetTimestamp();
        if (to != from)
        {
            update = await UpdateAsync(server.MoltName!, Paths.Shop(to));
        }
        var callEnd = Stopwatch.GetTimestamp();
        await Task.Delay(TimeSpan.FromSeconds(AfterSeconds));
        var result = await wrk.StopAsync();
        var probes = prober.Stop();
        if (update is { } u)
        {
            if (u.Outcome != "Committed")
            {
                throw new InvalidOperationException($"molt update v{from} -> v{to} with {products} products did not commit:\n{u.Text}\nmolt run's output:\n{server.Output}");
            }
            await CheckAsync(server, to, products);
        }
        var first = probes.Count > 0 ? probes[0].Sent : callStart;
        var last = probes.Count > 0 ? probes[^1].Answered : callEnd;
        var (pauseFrom, pauseTo) = update is { PrepareEnded: { } a, RestartEnded: { } b } ? (a, b) : (callStart, callEnd);
        var longest = probes.Where(p => p.Overlaps(callStart, callEnd)).DefaultIfEmpty(new Probe(callStart, callStart, true)).MaxBy(p => p.Latency);
        static TimeSpan Between(long from, long to) => to >= from ? Stopwatch.GetElapsedTime(from, to) : -Stopwatch.GetElapsedTime(to, from);
        return update is null
            ? new Row(from, to, products, run, null, result, Prober.MaxLatency(probes, first, last), TimeSpan.Zero,
                Prober.LongestGap(probes, first, last), Prober.MaxLatency(probes, first, callStart), probes.Count, probes.Count(p => !p.Ok), prober.FirstError)
            : new Row(from, to, products, run, update, result, Prober.MaxLatency(probes, callStart, callEnd), Prober.MaxLatency(probes, pauseFrom, pauseTo),
                Prober.LongestGap(probes, callStart, callEnd), Prober.MaxLatency(probes, first, callStart), probes.Count, probes.Count(p => !p.Ok), prober.FirstError)
            {
                LongestSentAfterPauseStart = Between(pauseFrom, longest.Sent),
                LongestAnsweredAfterPauseEnd = Between(pauseTo, longest.Answered),
            };
    }

    /// <summary>GET /api/version says <paramref name="version"/>.0.0; GET /api/stats says <paramref name="products"/> products, consistent.</summary>
    private static async Task CheckAsync(ShopServer server, int version, int products)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        using var stats = JsonDocument.Parse(await http.GetStringAsync(server.BaseUrl + "/api/stats"));
        var root = stats.RootElement;
        if (root.GetProperty("version").GetString() != $"{version}.0.0" || root.GetProperty("products").GetInt32() != products || !root.GetProperty("consistent").GetBoolean())
        {
            throw new InvalidOperationException($"expected release {version} with {products} products, consistent; /api/stats says {root}");
        }
    }

    /// <summary>What <c>molt update</c> printed: its outcome and timings, and when its phase lines arrived.</summary>
    internal sealed record UpdateOutput(string Text, string Outcome, TimeSpan Prepare, TimeSpan Quiesce, TimeSpan Transfer, TimeSpan Restart,
        TimeSpan Pause, TimeSpan Unload, long ObjectsRebuilt, TimeSpan Call, long Start, long? PrepareEnded, long? RestartEnded)
    {
        /// <summary>When the line "phase prepare" came, from the start of molt update (zero without the line).</summary>
        public TimeSpan LinesPauseStart => PrepareEnded is { } at ? Stopwatch.GetElapsedTime(Start, at) : TimeSpan.Zero;

        /// <summary>When the line "phase restart" came, from the start of molt update (zero without the line).</summary>
        public TimeSpan LinesPauseEnd => RestartEnded is { } at ? Stopwatch.GetElapsedTime(Start, at) : TimeSpan.Zero;
    }

    /// <summary>
    /// <c>dotnet molt/Molt.Cli.dll update NAME PATH</c>, its lines read as they come: "phase prepare: …" ends the
    /// prepare (the pause begins), "phase restart: …" ends the pause; then the outcome and the timings.
    /// </summary>
    private static async Task<UpdateOutput> UpdateAsync(string name, string path)
    {
        var start = Stopwatch.GetTimestamp();
        using var process = Process.Start(Run.Info("dotnet", [Paths.MoltCli, "update", name, path]))!;
        var text = new StringBuilder();
        long? prepareEnded = null, restartEnded = null;
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(300));
        try
        {
            while (await process.StandardOutput.ReadLineAsync(deadline.Token) is { } line)
            {
                var at = Stopwatch.GetTimestamp();
                text.AppendLine(line);
                if (line.StartsWith("phase prepare:", StringComparison.Ordinal))
                {
                    prepareEnded = at;
                }
                else if (line.StartsWith("phase restart:", StringComparison.Ordinal))
                {
                    restartEnded = at;
                }
            }
            await process.WaitForExitAsync(deadline.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        var call = Stopwatch.GetElapsedTime(start);
        var output = text.ToString();
        var timings = TimingsLine().Match(output);
        var outcome = OutcomeLine().Match(output);
        if (!timings.Success || !outcome.Success)
        {
            throw new InvalidOperationException($"molt update {name} {path} (exit {process.ExitCode}) printed no outcome and timings:\n{output}\n{await stderr}");
        }
        TimeSpan Ms(int group) => TimeSpan.FromMilliseconds(double.Parse(timings.Groups[group].Value, CultureInfo.InvariantCulture));
        var rebuilt = RebuiltLine().Match(output);
        return new UpdateOutput(output, outcome.Groups[1].Value, Ms(1), Ms(2), Ms(3), Ms(4), Ms(5), Ms(6),
            rebuilt.Success ? long.Parse(rebuilt.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture) : 0, call, start, prepareEnded, restartEnded);
    }

    // "timings: prepare 164.1 ms, quiesce 9.0 ms, transfer 58.3 ms, restart 18.1 ms, pause 85.5 ms, unload 54.8 ms"
    [GeneratedRegex(@"^timings: prepare ([0-9.]+) ms, quiesce ([0-9.]+) ms, transfer ([0-9.]+) ms, restart ([0-9.]+) ms, pause ([0-9.]+) ms, unload ([0-9.]+) ms", RegexOptions.Multiline)]
    private static partial Regex TimingsLine();

    [GeneratedRegex(@"^outcome: (\w+)", RegexOptions.Multiline)]
    private static partial Regex OutcomeLine();

    [GeneratedRegex(@"^objects rebuilt: ([0-9,]+)", RegexOptions.Multiline)]
    private static partial Regex RebuiltLine();

    private static void Report(List<Row> rows)
    {
        Directory.CreateDirectory(Results.Directory);
        var csv = Path.Combine(Results.Directory, "pause.csv");
        static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("0.000", CultureInfo.InvariantCulture);
        File.WriteAllLines(csv, ["from,to,products,run,prepare_ms,quiesce_ms,transfer_ms,restart_ms,pause_ms,unload_ms,update_call_ms,objects_rebuilt,wrk_max_ms,wrk_p99_ms,wrk_rps,wrk_requests,wrk_socket_errors,wrk_non2xx,prober_max_call_ms,prober_max_pause_ms,prober_longest_gap_ms,prober_max_before_ms,longest_sent_after_pause_start_ms,longest_answered_after_pause_end_ms,probes,probe_errors",
            .. rows.Select(r => string.Join(',', r.From, r.To, r.Products, r.Run,
                Ms(r.Update?.Prepare ?? TimeSpan.Zero), Ms(r.Update?.Quiesce ?? TimeSpan.Zero), Ms(r.Update?.Transfer ?? TimeSpan.Zero), Ms(r.Update?.Restart ?? TimeSpan.Zero),
                Ms(r.Update?.Pause ?? TimeSpan.Zero), Ms(r.Update?.Unload ?? TimeSpan.Zero), Ms(r.Update?.Call ?? TimeSpan.Zero), r.Update?.ObjectsRebuilt ?? 0,
                Ms(r.Wrk.Max), Ms(r.Wrk.P99), r.Wrk.RequestsPerSecond.ToString("0.0", CultureInfo.InvariantCulture), r.Wrk.Requests, r.Wrk.SocketErrors, r.Wrk.Non2xx,
                Ms(r.ProberMaxCall), Ms(r.ProberMaxPause), Ms(r.ProberGap), Ms(r.ProberMaxBefore), Ms(r.LongestSentAfterPauseStart), Ms(r.LongestAnsweredAfterPauseEnd), r.Probes, r.ProbeErrors))]);

        var table = new Table(Commands.Line,
            $"Update under wrk (-t{Wrk.Threads} -c{Wrk.Connections}, {Load.Name}) and the prober (GET /api/version every {Prober.Interval.TotalMilliseconds:0} ms), by products held" +
                (Repeats > 1 ? $"; median of {Repeats}" : ""),
            "update", "products", "prepare", "quiesce", "transfer", "restart", "host pause", "wrk max", "wrk max (no update)", "prober max", "prober max (pause)", "prober gap", "prober max (before)", "objects rebuilt", "errors");
        foreach (var group in rows.Where(r => r.Update is not null).GroupBy(r => (r.From, r.To, r.Products)))
        {
            TimeSpan M(Func<Row, TimeSpan> of) => TimeSpan.FromTicks((long)Stats.Median(group.Select(r => (double)of(r).Ticks)));
            var baseline = rows.Where(r => r.Update is null && r.Products == group.Key.Products).ToList();
            table.Add($"v{group.Key.From} -> v{group.Key.To}", group.Key.Products,
                M(r => r.Update!.Prepare), M(r => r.Update!.Quiesce), M(r => r.Update!.Transfer), M(r => r.Update!.Restart), M(r => r.Update!.Pause),
                M(r => r.Wrk.Max), TimeSpan.FromTicks((long)Stats.Median(baseline.Select(r => (double)r.Wrk.Max.Ticks))),
                M(r => r.ProberMaxCall), M(r => r.ProberMaxPause), M(r => r.ProberGap), M(r => r.ProberMaxBefore),
                group.First().Update!.ObjectsRebuilt, group.Sum(r => r.Wrk.Errors + r.ProbeErrors));
        }
        table.Print(
            "host pause: molt update's \"pause\" = quiesce + transfer + restart; prepare runs before it, while the old version serves.",
            $"wrk max: wrk's maximum latency over its run ({LeadSeconds:0.#} s, the update, {AfterSeconds:0.#} s); (no update): the same length of run just before, on v1, with no update.",
            "prober max: the longest GET /api/version in flight at some moment of the molt update call; (pause): of the pause (from molt update's line \"phase prepare\" to its line \"phase restart\");",
            $"prober gap: the longest time between two answers around the call; (before): the prober's longest GET in the {LeadSeconds:0.#} s before the call.",
            $"errors: wrk's socket errors and non-2xx responses, and the prober's, summed. Every run (and the baselines): {Paths.Short(csv)}");
    }
}

/// <summary>A wrk run in the background, for as long as the benchmark needs it: started with a long duration, stopped by SIGINT (wrk then prints its report).</summary>
internal sealed class WrkProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Task<string> _stdout;
    private readonly Task<string> _stderr;

    private WrkProcess(Process process)
    {
        _process = process;
        _stdout = process.StandardOutput.ReadToEndAsync();
        _stderr = process.StandardError.ReadToEndAsync();
    }

    /// <summary>Starts wrk on <paramref name="endpoint"/> for up to 300 s.</summary>
    public static WrkProcess Start(string baseUrl, Endpoint endpoint) =>
        new(Process.Start(Run.Info("wrk", Wrk.Arguments(baseUrl, endpoint, 300)))!);

    /// <summary>Stops it (SIGINT) and parses its report.</summary>
    public async Task<WrkResult> StopAsync()
    {
        using (var interrupt = Process.Start(Run.Info("kill", ["-INT", _process.Id.ToString(CultureInfo.InvariantCulture)]))!)
        {
            await interrupt.WaitForExitAsync();
        }
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(Wrk.TimeoutSeconds + 30));
        var output = await _stdout;
        if (!output.Contains("Requests/sec:", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"wrk printed no report (exit {_process.ExitCode}):\n{output}\n{await _stderr}");
        }
        return Wrk.Parse(output);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        }
        _process.Dispose();
    }
}
