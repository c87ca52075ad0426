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

    /// <summary>The products the servers of the GET endpoints are seeded with: the shop's default.</summary>
    public static int Products { get; set; } = 2_000;

    /// <summary>
    /// The products the servers of the POST are seeded with: enough stock (0 to 40 units each) that no order of a
    /// server's turn is refused for want of stock (a 409, which wrk counts as non-2xx): the orders go to the products with
    /// <see cref="PostMinimumStock"/> units or more, in turn, so that none is ordered more than twice in 250,000 orders.
    /// </summary>
    public static int PostProducts { get; set; } = 200_000;

    /// <summary>
    /// The least stock of a product the POST orders: its two orders at most, and an order of the shop's simulator (up to
    /// 3 units every 500 ms), leave it one unit.
    /// </summary>
    private const int PostMinimumStock = 6;

    /// <summary>Whether each round also runs a server under <c>molt run --keep-old-code</c> (code the runtime tiers), after the other two.</summary>
    public static bool WithCodeKept { get; set; }

    private const int Version = 1;

    private static string[] Servers => WithCodeKept ? ["standalone", "molt", "molt, code kept"] : ["standalone", "molt"];

    public static async Task RunAsync()
    {
        var endpoints = Endpoints();
        var gets = endpoints.Where(e => e.Script is null).ToList();
        var post = endpoints.Single(e => e.Script is not null);
        var samples = new List<Sample>();
        Console.WriteLine($"Servers, each started fresh for its turn and stopped after it ({Rounds} rounds: {string.Join(", then ", Servers)}):");
        Console.WriteLine($"  standalone  $ dotnet {Paths.Short(Paths.Shop(Version))} --urls http://127.0.0.1:PORT --products {Products}");
        Console.WriteLine($"  molt        $ dotnet {Paths.Short(Paths.MoltCli)} run {Paths.Short(Paths.Shop(Version))} --name shop-bench-… -- --urls http://127.0.0.1:PORT --products {Products}");
        if (WithCodeKept)
        {
            Console.WriteLine($"  molt, code kept  $ dotnet {Paths.Short(Paths.MoltCli)} run {Paths.Short(Paths.Shop(Version))} --name shop-bench-… --keep-old-code -- --urls http://127.0.0.1:PORT --products {Products}");
        }
        Console.WriteLine($"  each started twice in its turn: with --products {Products} (the default) for the GETs, then with --products {PostProducts} for the POST (stock for every order)");
        Console.WriteLine($"Per server: ready when GET /api/version answers; {WarmupSeconds:0.#} s of wrk on each endpoint (warm-up), then {Seconds:0.#} s on each, measured:");
        foreach (var endpoint in endpoints)
        {
            Console.WriteLine($"  {endpoint.Name,-22} $ wrk {string.Join(' ', Wrk.Arguments("http://127.0.0.1:PORT", endpoint, Seconds).Select(a => a == endpoint.Script ? "post_order.lua" : a))}");
        }
        Console.WriteLine($"  post_order.lua: {PostScriptSummary}");
        Console.WriteLine($"  the products with {PostMinimumStock} units or more: read once from the first POST server (GET /api/products?skip=…&take=500), the same in every server (the seed is fixed)");
        Console.WriteLine();
        for (var round = 1; round <= Rounds; round++)
        {
            foreach (var kind in Servers)
            {
                foreach (var (group, products) in new[] { (gets, Products), ([post], PostProducts) })
                {
                    await using var server = kind == "standalone"
                        ? await ShopServer.StartStandaloneAsync(Version, products)
                        : await ShopServer.StartUnderMoltAsync(Version, products, $"shop-bench-{Environment.ProcessId}-{round}-{products}", keepOldCode: kind != "molt");
                    if (group.Contains(post) && !File.Exists(PostIdsFile))
                    {
                        await WritePostIdsAsync(server);
                    }
                    foreach (var endpoint in group)
                    {
                        await Wrk.RunAsync(server.BaseUrl, endpoint, WarmupSeconds);
                    }
                    using var serving = Process.GetProcessById(server.ServingProcessId());
                    foreach (var endpoint in group)
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
                        if (result.Errors > 0)
                        {
                            // What the server logged about them (the shop logs warnings and errors only): an exception, a refusal.
                            var logged = server.Output.Split('\n').Where(l => l.Contains("fail:", StringComparison.Ordinal) || l.Contains("warn:", StringComparison.Ordinal)).Take(5).ToList();
                            Console.WriteLine(logged.Count == 0 ? "  (the server logged no warning or error)" : "  the server logged: " + string.Join(" | ", logged));
                        }
                    }
                }
            }
        }
        Console.WriteLine();
        Report(samples, endpoints);
    }

    /// <summary>One measured wrk run: the round, the server, the endpoint, what wrk said, the server's processor time per request.</summary>
    private sealed record Sample(int Round, string Server, string Endpoint, WrkResult Wrk, double CpuMicrosPerRequest);

    private const string PostScriptSummary =
        "POST {\"productId\":ID,\"quantity\":1,\"customer\":\"wrk\"} with content-type application/json, ID the next of the products listed in a file (each wrk thread its share)";

    /// <summary>The ids the POST orders, one a line: read by post_order.lua.</summary>
    private static readonly string PostIdsFile = Path.Combine(Path.GetTempPath(), $"shop-bench-post-ids-{Environment.ProcessId}.txt");

    /// <summary>Lists the products with <see cref="PostMinimumStock"/> units or more, as the server holds them, into <see cref="PostIdsFile"/>.</summary>
    private static async Task WritePostIdsAsync(ShopServer server)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var ids = new List<long>();
        for (var skip = 0; skip < PostProducts; skip += 500)
        {
            using var page = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync(string.Create(CultureInfo.InvariantCulture, $"{server.BaseUrl}/api/products?skip={skip}&take=500")));
            ids.AddRange(page.RootElement.GetProperty("items").EnumerateArray()
                .Where(p => p.GetProperty("stock").GetInt32() >= PostMinimumStock).Select(p => p.GetProperty("id").GetInt64()));
        }
        await File.WriteAllLinesAsync(PostIdsFile, ids.Select(id => id.ToString(CultureInfo.InvariantCulture)));
        Console.WriteLine($"  (the POST orders {ids.Count:N0} products of {PostProducts:N0}: those with {PostMinimumStock} units or more)");
    }

    private static List<Endpoint> Endpoints()
    {
        var script = Path.Combine(Path.GetTempPath(), $"shop-bench-post-order-{Environment.ProcessId}.lua");
        File.WriteAllText(script, string.Create(CultureInfo.InvariantCulture, $$"""
            -- {{PostScriptSummary}}
            wrk.method = "POST"
            wrk.headers["Content-Type"] = "application/json"
            local threads = 0
            function setup(thread)
              thread:set("share", threads)
              threads = threads + 1
            end
            local ids = nil
            local n = 0
            request = function()
              if ids == nil then
                ids = {}
                for line in io.lines("{{PostIdsFile}}") do ids[#ids + 1] = tonumber(line) end
              end
              local id = ids[(n * {{Wrk.Threads}} + share) % #ids + 1]
              n = n + 1
              return wrk.format(nil, nil, nil, '{"productId":' .. id .. ',"quantity":1,"customer":"wrk"}')
            end
            """));
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            File.Delete(script);
            File.Delete(PostIdsFile);
        };
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
            $"wrk -t{Wrk.Threads} -c{Wrk.Connections} against shop v1 ({Products:N0} products; {PostProducts:N0} for the POST), {Seconds:0.#} s per run, median of {Rounds} rounds (requests/s: min … max)",
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
