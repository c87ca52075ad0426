using System.Diagnostics;
using System.Globalization;
using Molt.Benchmarks;

namespace Kv.Benchmarks;

/// <summary>
/// Molt's steady-state cost: redis-benchmark against the same kv release run on its own and under molt (each its
/// own process; under molt both with the release's code in a collectible context, the default, and kept loaded with
/// <c>--keep-old-code</c>; the last release also as reached by live updates from the first), with Debian's redis-server as
/// the reference, the configurations alternated in rounds.
/// </summary>
internal static class Throughput
{
    /// <summary>Rounds of measurement (after one warm-up run per configuration).</summary>
    public static int Rounds { get; set; } = 5;

    /// <summary>Requests per redis-benchmark run without pipelining; with -P 16, ten times as many.</summary>
    public static int Requests { get; set; } = 100_000;

    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(180);

    private sealed record Mode(string Name, string[] Extra, int Requests);

    public static async Task RunAsync()
    {
        var versions = Paths.Versions.Count > 1 ? new[] { Paths.Versions[0], Paths.Versions[^1] } : [.. Paths.Versions];
        if (ProcessUpdatesOnly)
        {
            versions = [versions[^1]];
        }
        Mode[] modes = [new("none", [], Requests), new("-P 16", ["-P", "16"], Requests * 10)];
        var servers = new List<ServerProcess>();
        var releases = new List<List<ServerProcess>>();
        var samples = new List<(int Round, string Server, string Mode, string Test, double Rps)>();
        var cpu = new List<(int Round, string Server, string Mode, double MicrosPerRequest)>();
        try
        {
            foreach (var version in versions)
            {
                var release = new List<ServerProcess>();
                releases.Add(release);
                release.Add(await ServerProcess.StartKvAsync(version));
                servers.Add(release[^1]);
                foreach (var variant in Variants(versions, version))
                {
                    release.Add(await ServerProcess.StartKvUnderMoltAsync(version, variant));
                    servers.Add(release[^1]);
                }
            }
            var redis = await ServerProcess.StartRedisServerAsync();
            servers.Add(redis);
            Console.WriteLine("Servers (all running for the whole benchmark, each its own process; only one is under load at a time):");
            foreach (var server in servers)
            {
                Console.WriteLine($"  {server.Name,-31} $ {server.Command}");
            }
            Console.WriteLine("Load, per server and round:");
            foreach (var mode in modes)
            {
                Console.WriteLine($"  $ {Command(0, mode)}");
            }
            Console.WriteLine($"Warm-up: one run of each with a quarter of the requests; then {Rounds} rounds, each running a release's servers back to back " +
                "(their order reversed every other round), redis-server last.");
            Console.WriteLine();

            foreach (var server in servers)
            {
                foreach (var mode in modes)
                {
                    await BenchmarkAsync(server, mode with { Requests = mode.Requests / 4 });
                }
            }
            for (var round = 1; round <= Rounds; round++)
            {
                foreach (var mode in modes)
                {
                    foreach (var server in Order(releases, redis, round))
                    {
                        var (rows, microsPerRequest) = await BenchmarkAsync(server, mode);
                        foreach (var (test, rps) in rows)
                        {
                            samples.Add((round, server.Name, mode.Name, test, rps));
                        }
                        cpu.Add((round, server.Name, mode.Name, microsPerRequest));
                    }
                }
                Console.WriteLine($"round {round}/{Rounds} done");
            }
        }
        finally
        {
            foreach (var server in servers)
            {
                await server.DisposeAsync();
            }
        }
        Console.WriteLine();
        Report(samples, cpu, versions, modes);
    }

    // The servers of one release (standalone, then under molt each way) back to back, in an order reversed every other
    // round; redis-server last.
    private static IEnumerable<ServerProcess> Order(List<List<ServerProcess>> releases, ServerProcess redis, int round)
    {
        foreach (var release in releases)
        {
            foreach (var server in round % 2 == 0 ? Enumerable.Reverse(release) : release)
            {
                yield return server;
            }
        }
        yield return redis;
    }

    /// <summary>Only the last release, standalone, under molt started at it, and reached by process updates from the first (and redis-server).</summary>
    public static bool ProcessUpdatesOnly { get; set; }

    // How a release runs under molt: its code unloaded when retired (the default) or kept, tiered; and, for the last
    // release, also as a server that reached it by live updates from the first (in process each way, and across processes).
    private static IEnumerable<MoltVariant> Variants(int[] versions, int version)
    {
        var first = Paths.Versions[0];
        yield return new("unloaded", false, null);
        if (!ProcessUpdatesOnly)
        {
            yield return new("kept", true, null);
        }
        if (version == versions[^1] && first < version)
        {
            if (!ProcessUpdatesOnly)
            {
                yield return new($"unloaded, from v{first}", false, first);
                yield return new($"kept, from v{first}", true, first);
            }
            yield return new($"process updates from v{first}", false, first, AcrossProcesses: true);
        }
    }

    // A CSV field: quoted when it holds a comma ("kv v5 molt, code kept").
    private static string Csv(string field) => field.Contains(',', StringComparison.Ordinal) ? $"\"{field.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : field;

    private static string Command(int port, Mode mode) =>
        $"redis-benchmark -p {(port == 0 ? "PORT" : port.ToString(CultureInfo.InvariantCulture))} -t get,set -c 50 -n {mode.Requests} -r 100000 -d 16 {string.Join(' ', mode.Extra)} --csv".Replace("  ", " ", StringComparison.Ordinal);

    // Also the server's own processor time (user + system, all its threads) per request over the run: what a request
    // costs the server, which the other process on a 2-core machine disturbs far less than it disturbs requests/s.
    private static async Task<(List<(string Test, double Rps)> Rows, double CpuMicrosPerRequest)> BenchmarkAsync(ServerProcess server, Mode mode)
    {
        string[] arguments = ["-p", server.Port.ToString(CultureInfo.InvariantCulture), "-t", "get,set", "-c", "50", "-n", mode.Requests.ToString(CultureInfo.InvariantCulture),
            "-r", "100000", "-d", "16", .. mode.Extra, "--csv"];
        using var serving = Process.GetProcessById(server.ServingProcessId());
        var cpuBefore = serving.TotalProcessorTime;
        var result = await Run.ToEndAsync("redis-benchmark", arguments, RunTimeout);
        serving.Refresh();
        var cpuMicrosPerRequest = (serving.TotalProcessorTime - cpuBefore).TotalMicroseconds / (2.0 * mode.Requests);
        var rows = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.Split(',').Select(c => c.Trim('"')).ToArray())
            .Where(c => c.Length >= 2 && c[0] is "GET" or "SET")
            .Select(c => (c[0], double.Parse(c[1], CultureInfo.InvariantCulture))).ToList();
        if (result.ExitCode != 0 || rows.Count != 2 || result.Stderr.Contains("rror", StringComparison.Ordinal) || result.Stdout.Contains("rror", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"redis-benchmark against {server.Name} failed (exit {result.ExitCode}):\n{result.Stdout}\n{result.Stderr}");
        }
        return (rows, cpuMicrosPerRequest);
    }

    private static void Report(List<(int Round, string Server, string Mode, string Test, double Rps)> samples,
        List<(int Round, string Server, string Mode, double MicrosPerRequest)> cpu, int[] versions, Mode[] modes)
    {
        Directory.CreateDirectory(Results.Directory);
        var csv = Path.Combine(Results.Directory, (ProcessUpdatesOnly ? "process-" : "") + "throughput.csv");
        File.WriteAllLines(csv, ["round,server,pipeline,test,rps",
            .. samples.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Round},{Csv(s.Server)},{s.Mode},{s.Test},{s.Rps:0.00}"))]);

        double Median(string server, string mode, string test) => Stats.Median(samples.Where(s => s.Server == server && s.Mode == mode && s.Test == test).Select(s => s.Rps));
        var servers = samples.Select(s => s.Server).Distinct().ToList();
        var table = new Table(Commands.Line,
            $"redis-benchmark requests/s, 50 clients, median of {Rounds} rounds (min … max)", "server", "pipeline", "GET", "GET min … max", "SET", "SET min … max");
        foreach (var mode in modes)
        {
            foreach (var server in servers)
            {
                string Range(string test)
                {
                    var values = samples.Where(s => s.Server == server && s.Mode == mode.Name && s.Test == test).Select(s => s.Rps).ToList();
                    return string.Create(CultureInfo.InvariantCulture, $"{values.Min():N0} … {values.Max():N0}");
                }
                table.Add(server, mode.Name, (long)Median(server, mode.Name, "GET"), Range("GET"), (long)Median(server, mode.Name, "SET"), Range("SET"));
            }
        }
        table.Print($"every run: {Paths.Short(csv)}");

        // Every way of running under molt (code unloaded when retired, the default; code kept, tiered; started at the
        // release or updated to it) against standalone.
        static string PerRound(List<double> perRound) =>
            string.Create(CultureInfo.InvariantCulture, $"{Stats.Median(perRound):0.00} ({perRound.Min():0.00} … {perRound.Max():0.00})");

        var ratios = new Table("(the same run)", "Ratios of the medians; per round: the ratio within each round (same round, back to back), median (min … max)",
            "release", "pipeline", "test", "molt code", "molt/standalone", "per round", "kv/redis-server", "molt kv/redis-server");
        foreach (var version in versions)
        {
            foreach (var mode in modes)
            {
                foreach (var test in new[] { "GET", "SET" })
                {
                    var standalone = $"kv v{version} standalone";
                    foreach (var variant in Variants(versions, version))
                    {
                        var molt = ServerProcess.UnderMolt(version, variant);
                        var perRound = Enumerable.Range(1, Rounds).Select(r =>
                            samples.Single(s => s.Round == r && s.Server == molt && s.Mode == mode.Name && s.Test == test).Rps /
                            samples.Single(s => s.Round == r && s.Server == standalone && s.Mode == mode.Name && s.Test == test).Rps).ToList();
                        ratios.Add($"v{version}", mode.Name, test, variant.Name,
                            Median(molt, mode.Name, test) / Median(standalone, mode.Name, test),
                            PerRound(perRound),
                            Median(standalone, mode.Name, test) / Median("redis-server", mode.Name, test),
                            Median(molt, mode.Name, test) / Median("redis-server", mode.Name, test));
                    }
                }
            }
        }
        ratios.Print();

        var cpuCsv = Path.Combine(Results.Directory, (ProcessUpdatesOnly ? "process-" : "") + "throughput-cpu.csv");
        File.WriteAllLines(cpuCsv, ["round,server,pipeline,cpu_us_per_request",
            .. cpu.Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Round},{Csv(c.Server)},{c.Mode},{c.MicrosPerRequest:0.000}"))]);
        double CpuMedian(string server, string mode) => Stats.Median(cpu.Where(c => c.Server == server && c.Mode == mode).Select(c => c.MicrosPerRequest));
        string Micros(string server, string mode) => string.Create(CultureInfo.InvariantCulture, $"{CpuMedian(server, mode):0.00}");
        var cost = new Table("(the same run)",
            $"The server's processor time per request (user + system, SET and GET together), µs, median of {Rounds} rounds; per round: the ratio within each round",
            "release", "pipeline", "molt code", "standalone", "under molt", "molt/standalone", "per round", "redis-server");
        foreach (var version in versions)
        {
            foreach (var mode in modes)
            {
                var standalone = $"kv v{version} standalone";
                foreach (var variant in Variants(versions, version))
                {
                    var molt = ServerProcess.UnderMolt(version, variant);
                    var perRound = Enumerable.Range(1, Rounds).Select(r =>
                        cpu.Single(c => c.Round == r && c.Server == molt && c.Mode == mode.Name).MicrosPerRequest /
                        cpu.Single(c => c.Round == r && c.Server == standalone && c.Mode == mode.Name).MicrosPerRequest).ToList();
                    cost.Add($"v{version}", mode.Name, variant.Name, Micros(standalone, mode.Name), Micros(molt, mode.Name),
                        CpuMedian(molt, mode.Name) / CpuMedian(standalone, mode.Name), PerRound(perRound), Micros("redis-server", mode.Name));
                }
            }
        }
        cost.Print($"every run: {Paths.Short(cpuCsv)}");
    }
}

/// <summary>The command line that ran the benchmarks, printed above their tables.</summary>
internal static class Commands
{
    public static string Line { get; set; } = "dotnet run --project bench/Kv.Benchmarks -c Release";
}
