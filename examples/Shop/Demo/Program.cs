using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

// The Shop updated live, as an operator does it: `molt run` starts release 1.0.0 on 127.0.0.1:PORT, a loop places
// orders through the API (open the page in a browser to watch its live feed), and every few seconds `molt update`
// moves it to the next release: 2.0.0 (the data change shape), then 3.0.0 (search, cancellation, the stock fix).
// Options: --port N (5080), --interval SECONDS between updates (5), --keep (leave the shop running at the end until
// Ctrl-C). Exit code 0 when every update committed and every order the loop placed was answered.
var port = Option("--port") is { } p ? int.Parse(p, CultureInfo.InvariantCulture) : 5080;
var interval = TimeSpan.FromSeconds(Option("--interval") is { } i ? double.Parse(i, CultureInfo.InvariantCulture) : 5);
var keep = args.Contains("--keep");
var baseUrl = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
const string Name = "shop-demo";
var molt = Path.Combine(AppContext.BaseDirectory, "molt", "Molt.Cli.dll");
string Release(int major) => Path.Combine(AppContext.BaseDirectory, "shop-versions", $"v{major.ToString(CultureInfo.InvariantCulture)}", "Shop.dll");

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true; // Ends the demo in order: the load stops, then `molt run`.
    stop.Cancel();
};

var log = Path.Combine(Path.GetTempPath(), $"shop-demo-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}.log");
Console.WriteLine($"Shop demo: release 1.0.0 under `molt run --name {Name}`, updated live to 2.0.0 then 3.0.0 every {interval.TotalSeconds:0.#} s");
using var host = StartMoltRun();
using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(10) };
try
{
    if (!await WaitUntilServingAsync())
    {
        Console.Error.WriteLine($"the shop did not start (is port {port} free? try --port N); molt run's log: {log}");
        return 1;
    }
    Console.WriteLine($"open {baseUrl}/ in a browser: the page loaded from 1.0.0 shows the next releases' events live");
    Console.WriteLine($"molt run's log: {log}; meanwhile try: molt status {Name}");
    await PrintStatsAsync();

    var load = new OrderLoad(http);
    var loadTask = load.RunAsync(stop.Token);
    var allCommitted = true;
    for (var major = 2; major <= 3 && !stop.IsCancellationRequested; major++)
    {
        await Delay(interval);
        if (stop.IsCancellationRequested)
        {
            break;
        }
        var (exit, summary) = await UpdateAsync(major);
        var outcome = summary?.GetProperty("outcome").GetString() ?? "no summary";
        var pause = summary?.GetProperty("pauseMilliseconds").GetDouble() ?? 0;
        allCommitted &= outcome == "Committed";
        Console.WriteLine($"update {major - 1}.0.0 -> {major}.0.0: {outcome} (exit {exit}), pause {pause:0.0} ms; " +
            $"the demo's orders so far: {load.Placed} placed, {load.Refused} refused by the shop, {load.Failed} failed");
        await PrintStatsAsync();
    }
    await Delay(interval);
    await stop.CancelAsync();
    await loadTask;
    Console.WriteLine($"done: {load.Placed} orders placed by the demo, {load.Refused} refused by the shop (stock), {load.Failed} failed, " +
        $"slowest answer {load.SlowestMilliseconds:0} ms; every update committed: {(allCommitted ? "yes" : "NO")}");
    if (keep)
    {
        using var ctrlC = new CancellationTokenSource();
        Console.CancelKeyPress += (_, _) => ctrlC.Cancel();
        Console.WriteLine($"the shop keeps running at {baseUrl}/ (molt status {Name}); Ctrl-C to stop it");
        await Delay(Timeout.InfiniteTimeSpan, ctrlC.Token);
    }
    return allCommitted && load.Failed == 0 ? 0 : 1;
}
finally
{
    if (!host.HasExited)
    {
        host.Kill(entireProcessTree: true);
        await host.WaitForExitAsync(CancellationToken.None);
    }
}

Process StartMoltRun()
{
    var start = new ProcessStartInfo("dotnet")
    {
        RedirectStandardOutput = true,
        RedirectStandardError = true,
        UseShellExecute = false,
    };
    foreach (var argument in new[] { molt, "run", Release(1), "--name", Name, "--", "--urls", baseUrl })
    {
        start.ArgumentList.Add(argument);
    }
    var process = Process.Start(start)!;
    var writer = new StreamWriter(log) { AutoFlush = true };
    process.OutputDataReceived += (_, e) => WriteLine(writer, e.Data);
    process.ErrorDataReceived += (_, e) => WriteLine(writer, e.Data);
    process.BeginOutputReadLine();
    process.BeginErrorReadLine();
    return process;
}

static void WriteLine(StreamWriter writer, string? line)
{
    if (line is not null)
    {
        lock (writer)
        {
            writer.WriteLine(line);
        }
    }
}

async Task<bool> WaitUntilServingAsync()
{
    var until = DateTime.UtcNow + TimeSpan.FromSeconds(60);
    while (DateTime.UtcNow < until && !host.HasExited && !stop.IsCancellationRequested)
    {
        try
        {
            using var response = await http.GetAsync("/api/version", stop.Token);
            if (response.IsSuccessStatusCode)
            {
                return true;
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            // Not listening yet.
        }
        await Delay(TimeSpan.FromMilliseconds(200));
    }
    return false;
}

async Task<(int Exit, JsonElement? Summary)> UpdateAsync(int major)
{
    var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
    foreach (var argument in new[] { molt, "update", Name, Release(major), "--json" })
    {
        start.ArgumentList.Add(argument);
    }
    using var update = Process.Start(start)!;
    var stdout = update.StandardOutput.ReadToEndAsync(CancellationToken.None);
    var stderr = update.StandardError.ReadToEndAsync(CancellationToken.None);
    await update.WaitForExitAsync(CancellationToken.None);
    try
    {
        using var json = JsonDocument.Parse(await stdout);
        return (update.ExitCode, json.RootElement.TryGetProperty("outcome", out _) ? json.RootElement.Clone() : null);
    }
    catch (JsonException)
    {
        Console.Error.WriteLine(await stderr);
        return (update.ExitCode, null);
    }
}

async Task PrintStatsAsync()
{
    try
    {
        using var stats = JsonDocument.Parse(await http.GetStringAsync("/api/stats", stop.Token));
        var s = stats.RootElement;
        var revenue = s.TryGetProperty("revenue", out var money)
            ? $"{money.GetProperty("amount").GetDecimal():0.00} {money.GetProperty("currency").GetString()}"
            : $"{s.GetProperty("revenueCents").GetInt64() / 100m:0.00} (no currency in 1.0.0)";
        Console.WriteLine($"  /api/stats: {s.GetProperty("version").GetString()}, {s.GetProperty("orders").GetInt64()} orders, revenue {revenue}, " +
            $"{s.GetProperty("stockOnHand").GetInt64()} units in stock (products below zero: {s.GetProperty("productsBelowZero").GetInt64()}), " +
            $"simulator turn {s.GetProperty("simulatorTurns").GetInt64()}, feed event {s.GetProperty("feedSequence").GetInt64()}, " +
            $"consistent: {s.GetProperty("consistent").GetBoolean()}");
    }
    catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
    {
        Console.WriteLine($"  /api/stats: {e.Message}");
    }
}

async Task Delay(TimeSpan time, CancellationToken? token = null)
{
    try
    {
        await Task.Delay(time, token ?? stop.Token);
    }
    catch (OperationCanceledException)
    {
        // Ctrl-C: the caller goes on to the end.
    }
}

string? Option(string name) => Array.IndexOf(args, name) is var at and >= 0 && at + 1 < args.Length ? args[at + 1] : null;

/// <summary>Customers of the demo: two loops placing orders of 1 or 2 units of random products, up to 40 a second in all.</summary>
internal sealed class OrderLoad(HttpClient http)
{
    private long _placed;
    private long _refused;
    private long _failed;
    private long _slowestTicks;

    /// <summary>Orders the shop placed (201).</summary>
    public long Placed => Interlocked.Read(ref _placed);

    /// <summary>Orders the shop answered but refused (409: no stock), as it should.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Orders with no answer or an unexpected one: a live update should cause none.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>The slowest answer, in milliseconds (an update's pause shows here).</summary>
    public double SlowestMilliseconds => TimeSpan.FromTicks(Interlocked.Read(ref _slowestTicks)).TotalMilliseconds;

    public Task RunAsync(CancellationToken stop) => Task.WhenAll(CustomerAsync(1, stop), CustomerAsync(2, stop));

    private async Task CustomerAsync(int customer, CancellationToken stop)
    {
        var random = new Random(customer);
        while (!stop.IsCancellationRequested)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                using var response = await http.PostAsJsonAsync("/api/orders",
                    new { productId = random.Next(1, 2001), quantity = random.Next(1, 3), customer = $"demo-{customer}" }, CancellationToken.None);
                switch ((int)response.StatusCode)
                {
                    case 201:
                        Interlocked.Increment(ref _placed);
                        break;
                    case 409:
                        Interlocked.Increment(ref _refused);
                        break;
                    default:
                        Interlocked.Increment(ref _failed);
                        break;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                Interlocked.Increment(ref _failed);
            }
            var elapsed = Stopwatch.GetElapsedTime(started).Ticks;
            long slowest;
            while (elapsed > (slowest = Interlocked.Read(ref _slowestTicks)) && Interlocked.CompareExchange(ref _slowestTicks, elapsed, slowest) != slowest)
            {
            }
            try
            {
                await Task.Delay(50, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
