using System.Diagnostics;
using System.Globalization;
using Molt.Benchmarks;

namespace Shop.Benchmarks;

/// <summary>
/// Molt's steady-state cost for an ASP.NET Core application: wrk against shop release 1 run standalone
/// (<c>dotnet Shop.dll</c>) and under <c>molt run</c>, alternated in rounds (standalone, molt, standalone, molt, …), each
/// server started fresh for its turn (the same state at the start of every measurement: the POST adds orders), warmed
/// up, then measured on each endpoint in turn.
/// </summary>
internal static class Throughput
{
    /// <summary>Rounds; each runs a fresh standalone server, then a fresh one under molt.</summary>
    public static int Rounds { get; set; } = 3;

    /// <summary>Seconds of each measured wrk run.</summary>
    public static double Seconds { get; set; } = 5;

    /// <summary>Seconds of wrk on each endpoint before the measured runs, per server.</summary>
    public static double WarmupSeconds { get; set; } = 2;

    /// <summary>
    /// The products the servers are seeded with: enough stock (0 to 40 units each, 20 on average) for every order the
    /// POST places in a server's turn, so that none is refused for want of stock (a 409 wrk would count as non-2xx).
    /// </summary>
    public static int Products { get; set; } = 20_000;

    /// <summary>Whether each round also runs a server under <c>molt run --keep-old-code</c> (code the runtime tiers), after the other two.</summary>
    public static bool WithCodeKept { get; set; }

    private const int Version = 1;

    private static string[] Servers => WithCodeKept ? ["standalone", "molt", "molt, code kept"] : ["standalone", "molt"];

    public static async Task RunAsync()
    {
        var endpoints = Endpoints();
        var samples = new List<Sample>();
        Console.WriteLine($"Servers, each started fresh for its turn and stopped after it ({Rounds} rounds: {string.Join(", then ", Servers)}):");
        Console.WriteLine($"  standalone  $ dotnet {Paths.Short(Paths.Shop(Version))} --urls http://127.0.0.1:PORT --products {Products}");
        Console.WriteLine($"  molt        $ dotnet {Paths.Short(Paths.MoltCli)} run {Paths.Short(Paths.Shop(Version))} --name shop-bench-… -- --urls http://127.0.0.1:PORT --products {Products}");
        if (WithCodeKept)
        {
            Console.WriteLine($"  molt, code kept  $ dotnet {Paths.Short(Paths.MoltCli)} run {Paths.Short(Paths.Shop(Version))} --name shop-bench-… --keep-old-code -- --urls http://127.0.0.1:PORT --products {Products}");
        }
        Console.WriteLine($"Per server: ready when GET /api/version answers; {WarmupSeconds:0.#} s of wrk on each endpoint (warm-up), then {Seconds:0.#} s on each, measured:");
        foreach (var endpoint in endpoints)
        {
            Console.WriteLine($"  {endpoint.Name,-22} $ wrk {string.Join(' ', Wrk.Arguments("http://127.0.0.1:PORT", endpoint, Seconds).Select(a => a == endpoint.Script ? "post_order.lua" : a))}");
        }
        Console.WriteLine($"  post_order.lua: {PostScriptSummary}");
        Console.WriteLine();
        for (var round = 1; round <= Rounds; round++)
        {
            foreach (var kind in Servers)
            {
                await using var server = kind == "standalone"
                    ? await ShopServer.StartStandaloneAsync(Version, Products)
                    : await ShopServer.StartUnderMoltAsync(Version, Products, $"shop-bench-{Environment.ProcessId}-{round}", keepOldCode: kind != "molt");
                foreach (var endpoint in endpoints)
                {
                    await Wrk.RunAsync(server.BaseUrl, endpoint, WarmupSeconds);
                }
                using var serving = Process.GetProcessById(server.ServingProcessId());
                foreach (var endpoint in endpoints)
                {
                    serving.Refresh();
                    var cpuBefore = serving.TotalProcessorTime;
                    var result = await Wrk.RunAsync(server.BaseUrl, endpoint, Seconds);
                    serving.Refresh();
                    var cpuMicros = (serving.TotalProcessorTime - cpuBefore).TotalMicroseconds / Math.Max(1, result.Requests);
                    var sample = new Sample(round, server.Label, endpoint.Name, result, cpuMicros);
                    samples.Add(sample);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"round {round} {server.Label,-15} {endpoint.Name,-22} {result.RequestsPerSecond,9:N0} req/s  p50 {Table.Ms(result.P50)}  p99 {Table.Ms(result.P99)}  max {Table.Ms(result.Max)}  " +
                        $"server cpu {cpuMicros:0.0} µs/req  errors {result.SocketErrors} socket, {result.Non2xx} non-2xx"));
                }
            }
        }
        Console.WriteLine();
        Report(samples, endpoints);
    }

    /// <summary>One measured wrk run: the round, the server, the endpoint, what wrk said, the server's processor time per request.</summary>
    private sealed record Sample(int Round, string Server, string Endpoint, WrkResult Wrk, double CpuMicrosPerRequest);

    private const string PostScriptSummary =
        "POST {\"productId\":ID,\"quantity\":1,\"customer\":\"wrk\"} with content-type application/json, ID stepping through the products (7,919 apart)";

    private static List<Endpoint> Endpoints()
    {
        var script = Path.Combine(Path.GetTempPath(), $"shop-bench-post-order-{Environment.ProcessId}.lua");
        File.WriteAllText(script, string.Create(CultureInfo.InvariantCulture, $$"""
            -- {{PostScriptSummary}}
            wrk.method = "POST"
            wrk.headers["Content-Type"] = "application/json"
            local n = 0
            request = function()
              n = n + 1
              local id = (n * 7919) % {{Products}} + 1
              return wrk.format(nil, nil, nil, '{"productId":' .. id .. ',"quantity":1,"customer":"wrk"}')
            end
            """));
        AppDomain.CurrentDomain.ProcessExit += (_, _) => File.Delete(script);
        return
        [
            new("GET /api/products/7", "/api/products/7"),
            new("GET /api/stats", "/api/stats"),
            new("POST /api/orders", "/api/orders", script),
        ];
    }

    private static void Report(List<Sample> samples, List<Endpoint> endpoints)
    {
        Directory.CreateDirectory(Results.Directory);
        var csv = Path.Combine(Results.Directory, "throughput.csv");
        static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("0.000", CultureInfo.InvariantCulture);
        File.WriteAllLines(csv, ["round,server,endpoint,rps,p50_ms,p99_ms,max_ms,requests,socket_errors,non2xx,server_cpu_us_per_request",
            .. samples.Select(s => string.Create(CultureInfo.InvariantCulture,
                $"{s.Round},{s.Server},{s.Endpoint},{s.Wrk.RequestsPerSecond:0.00},{Ms(s.Wrk.P50)},{Ms(s.Wrk.P99)},{Ms(s.Wrk.Max)},{s.Wrk.Requests},{s.Wrk.SocketErrors},{s.Wrk.Non2xx},{s.CpuMicrosPerRequest:0.000}"))]);

        IEnumerable<Sample> Of(string server, string endpoint) => samples.Where(s => s.Server == server && s.Endpoint == endpoint);
        double Median(string server, string endpoint, Func<Sample, double> of) => Stats.Median(Of(server, endpoint).Select(of));
        TimeSpan MedianTime(string server, string endpoint, Func<WrkResult, TimeSpan> of) =>
            TimeSpan.FromTicks((long)Median(server, endpoint, s => of(s.Wrk).Ticks));

        var table = new Table(Commands.Line,
            $"wrk -t{Wrk.Threads} -c{Wrk.Connections} against shop v1 ({Products:N0} products), {Seconds:0.#} s per run, median of {Rounds} rounds (requests/s: min … max)",
            "endpoint", "server", "requests/s", "min … max", "p50", "p99", "max", "server µs/request", "errors");
        foreach (var endpoint in endpoints)
        {
            foreach (var server in Servers)
            {
                var rps = Of(server, endpoint.Name).Select(s => s.Wrk.RequestsPerSecond).ToList();
                table.Add(endpoint.Name, server, (long)Stats.Median(rps), string.Create(CultureInfo.InvariantCulture, $"{rps.Min():N0} … {rps.Max():N0}"),
                    MedianTime(server, endpoint.Name, w => w.P50), MedianTime(server, endpoint.Name, w => w.P99), MedianTime(server, endpoint.Name, w => w.Max),
                    Median(server, endpoint.Name, s => s.CpuMicrosPerRequest), Of(server, endpoint.Name).Sum(s => s.Wrk.Errors));
            }
        }
        table.Print("p50, p99, max: wrk's latency distribution (--latency), medians of the rounds; server µs/request: the serving process's processor time " +
            "(user + system; under molt, molt run's child, molt serve) over the run, per request; errors: socket errors and non-2xx responses, summed.",
            "POST's non-2xx are 409 \"out of stock\" (the products seeded with no stock, and those the run sells out), the same requests for every server.",
            $"every run: {Paths.Short(csv)}");

        static string PerRound(List<double> perRound) =>
            string.Create(CultureInfo.InvariantCulture, $"{Stats.Median(perRound):0.000} ({perRound.Min():0.000} … {perRound.Max():0.000})");
        var ratios = new Table("(the same run)",
            "Ratios under molt/standalone: of the medians, and within each round (the two servers back to back), median (min … max)",
            "endpoint", "molt", "requests/s", "requests/s per round", "p50", "p99", "server µs/request");
        foreach (var endpoint in endpoints)
        {
            foreach (var molt in Servers.Skip(1))
            {
                List<double> Rounds(Func<Sample, double> of) => [.. Enumerable.Range(1, Throughput.Rounds).Select(r =>
                    of(samples.Single(s => s.Round == r && s.Server == molt && s.Endpoint == endpoint.Name)) /
                    of(samples.Single(s => s.Round == r && s.Server == "standalone" && s.Endpoint == endpoint.Name)))];
                double Ratio(Func<Sample, double> of) => Median(molt, endpoint.Name, of) / Median("standalone", endpoint.Name, of);
                ratios.Add(endpoint.Name, molt,
                    Ratio(s => s.Wrk.RequestsPerSecond).ToString("0.000", CultureInfo.InvariantCulture), PerRound(Rounds(s => s.Wrk.RequestsPerSecond)),
                    Ratio(s => s.Wrk.P50.Ticks), Ratio(s => s.Wrk.P99.Ticks), Ratio(s => s.CpuMicrosPerRequest));
            }
        }
        ratios.Print("requests/s: above 1 is molt faster (the aim: >= 0.99); p50, p99, server µs/request: above 1 is molt slower.");
    }
}
