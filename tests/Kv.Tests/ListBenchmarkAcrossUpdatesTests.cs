using System.Globalization;
using Kv.Demo;
using Molt.Hosting;
using Xunit.Abstractions;

namespace Kv.Tests;

/// <summary>
/// Redis-benchmark's list tests (<c>-t lpush,rpush,lpop,rpop,lrange</c>, the issue's list: <c>lrange</c> runs LRANGE_100,
/// _300, _500 and _600 after an LPUSH that fills the list) against kv under Molt, each update in the middle of a run:
/// v2 -> v3 -> v4 -> v5 -> v6 and a rollback v6 -> v5 (lists came with v2). Every update commits, every run reports
/// every test redis-server's run reports, with no error, and redis-benchmark's list <c>mylist</c> is intact after each
/// step: each run pushes 3n elements and pops 2n (the pops never find it empty: each test waits for the one before),
/// so it grows by n elements, each redis-benchmark's 3-byte value (the same in every run), as on redis-server.
/// </summary>
[Collection(KvCollection.Name)]
public class ListBenchmarkAcrossUpdatesTests(ITestOutputHelper output)
{
    private const string Tests = "lpush,rpush,lpop,rpop,lrange";
    private const string ListKey = "mylist";

    /// <summary>About this much load per step, the update requested a third of the way in (a few seconds: bounded).</summary>
    private static readonly TimeSpan LoadPerStep = TimeSpan.FromSeconds(4);

    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task RedisBenchmarkListTests_DuringUpdatesV2ToV6AndARollback_ZeroErrorsAndTheListIntact()
    {
        KvProcesses.RequireTool("redis-benchmark");
        await using var host = await MoltHost.StartAsync(Path.Combine(KvProcesses.VersionDirectory(2), "Kv.dll"), ["--port", "0"]);
        var port = HostedKvServer.ReadPort(host);
        // Opened to v2 and kept to the end: the list is read back on the same connection after every step.
        await using var reader = await RespConnection.ConnectAsync(port);

        // Calibration on v2, no update (after two runs that compile kv's list commands): how many requests per test keep
        // redis-benchmark busy for LoadPerStep, from the rates it reports; each step's rates set the next step's count.
        const int probe = 2_000;
        for (var i = 0; i < 2; i++)
        {
            AssertNoErrors("calibration on v2", await RunBenchmarkAsync(port, probe));
            Assert.Equal($":{probe}\r\n", await reader.CommandAsync("LLEN", ListKey));
            Assert.Equal(":1\r\n", await reader.CommandAsync("DEL", ListKey));
        }
        var calibration = await RunBenchmarkAsync(port, probe);
        AssertNoErrors("calibration on v2", calibration);
        Assert.Equal(":1\r\n", await reader.CommandAsync("DEL", ListKey));
        var requests = RequestsFor(calibration, probe);
        output.WriteLine($"calibration: {probe} requests per test in {calibration.RunTime.TotalSeconds:0.00} s; {requests} per test in the first step");

        // The same run against redis-server: the tests it reports, and the list it leaves, are what kv's must be.
        List<string> expectedTests;
        string element;
        await using (var redis = await KvProcesses.StartRedisServerAsync())
        {
            var reference = await RunBenchmarkAsync(redis.Port, requests);
            AssertNoErrors("redis-server", reference);
            expectedTests = reference.Tests;
            await using var redisReader = await RespConnection.ConnectAsync(redis.Port);
            Assert.Equal($":{requests}\r\n", await redisReader.CommandAsync("LLEN", ListKey));
            element = await redisReader.CommandAsync("LINDEX", ListKey, "0");
            Assert.Equal(Repeated(element, requests), await redisReader.CommandAsync("LRANGE", ListKey, "0", "-1"));
        }
        output.WriteLine($"redis-server's tests: {string.Join("; ", expectedTests)}");
        Assert.Equal(9, expectedTests.Count); // LPUSH, RPUSH, LPOP, RPOP, the LPUSH that fills the list, four LRANGEs.

        (string Name, Func<Task<UpdateResult>> Run)[] steps =
        [
            ("v2 -> v3", () => host.UpdateAsync(Path.Combine(KvProcesses.VersionDirectory(3), "Kv.dll"))),
            ("v3 -> v4", () => host.UpdateAsync(Path.Combine(KvProcesses.VersionDirectory(4), "Kv.dll"))),
            ("v4 -> v5", () => host.UpdateAsync(Path.Combine(KvProcesses.VersionDirectory(5), "Kv.dll"))),
            ("v5 -> v6", () => host.UpdateAsync(Path.Combine(KvProcesses.VersionDirectory(6), "Kv.dll"))),
            ("rollback v6 -> v5", () => host.RollbackAsync()),
        ];
        var expectedLength = 0L;
        foreach (var (name, update) in steps)
        {
            await using var benchmark = StartBenchmark(port, requests);
            await Task.Delay(LoadPerStep / 3);
            var runningBefore = !benchmark.HasExited;
            var result = await update();
            var runningAfter = !benchmark.HasExited;
            await benchmark.WaitAsync(RunTimeout, CancellationToken.None);
            var run = Read(benchmark);
            output.WriteLine($"{name}: {result.Outcome}, quiesce {result.QuiesceTime.TotalMilliseconds:0.0} ms, pause {result.PauseTime.TotalMilliseconds:0.0} ms; " +
                $"redis-benchmark ran {run.RunTime.TotalSeconds:0.00} s: {string.Join("; ", run.Rows.Select(r => $"{r[0]} {r[1]} rps, max {r[^1]} ms"))}");

            Assert.True(result.Outcome == UpdateOutcome.Committed, $"{name}: {result}");
            Assert.True(runningBefore && runningAfter, $"{name}: redis-benchmark was not running throughout the update (it ran {run.RunTime.TotalSeconds:0.00} s)");
            AssertNoErrors(name, run);
            Assert.Equal(expectedTests, run.Tests);
            expectedLength += requests;
            requests = RequestsFor(run, probe);
            Assert.Equal($":{expectedLength}\r\n", await reader.CommandAsync("LLEN", ListKey));
        }

        // Every element is redis-benchmark's value, none lost, none torn.
        var elements = await reader.CommandAsync("LRANGE", ListKey, "0", "-1");
        Assert.True(Repeated(element, expectedLength) == elements,
            $"{ListKey} after the steps is not {expectedLength} times {element.Trim()}: {elements[..Math.Min(200, elements.Length)]}…");
    }

    /// <summary>The RESP array of <paramref name="count"/> times the bulk string <paramref name="bulk"/> (as received, <c>$3\r\nabc\r\n</c>).</summary>
    private static string Repeated(string bulk, long count)
    {
        var array = new System.Text.StringBuilder($"*{count}\r\n");
        for (var i = 0; i < count; i++)
        {
            array.Append(bulk);
        }
        return array.ToString();
    }

    /// <summary>The request count per test that keeps redis-benchmark busy for about <see cref="LoadPerStep"/>, at the rates <paramref name="run"/> reported.</summary>
    private static int RequestsFor(BenchmarkRun run, int atLeast)
    {
        var secondsPerRequest = run.Rows.Sum(r => 1 / double.Parse(r[1], CultureInfo.InvariantCulture));
        return (int)Math.Clamp(LoadPerStep.TotalSeconds / secondsPerRequest, atLeast, 100_000);
    }

    private static ExternalTool StartBenchmark(int port, int requests) =>
        ExternalTool.Start("redis-benchmark", ["-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture),
            "-n", requests.ToString(CultureInfo.InvariantCulture), "-t", Tests, "--csv"]);

    private static async Task<BenchmarkRun> RunBenchmarkAsync(int port, int requests)
    {
        await using var benchmark = StartBenchmark(port, requests);
        await benchmark.WaitAsync(RunTimeout, CancellationToken.None);
        return Read(benchmark);
    }

    /// <summary>Reads --csv's rows (a header, then "TEST","rps",latencies…,"max_latency_ms" per test) and anything that reads as an error.</summary>
    private static BenchmarkRun Read(ExternalTool benchmark)
    {
        var lines = benchmark.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var rows = lines.Where(l => l.StartsWith('"') && !l.StartsWith("\"test\"", StringComparison.Ordinal))
            .Select(l => l.Split("\",\"").Select(f => f.Trim('"')).ToArray())
            .ToList();
        var errors = (benchmark.Output + "\n" + benchmark.Errors).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => l.Contains("error", StringComparison.OrdinalIgnoreCase) || l.StartsWith("ERR", StringComparison.Ordinal))
            .ToList();
        return new BenchmarkRun(benchmark.ExitCode, rows, errors, benchmark.RunTime, benchmark.Output + benchmark.Errors);
    }

    private static void AssertNoErrors(string step, BenchmarkRun run)
    {
        Assert.True(run.ExitCode == 0, $"{step}: redis-benchmark exited with code {run.ExitCode}: {run.Text}");
        Assert.True(run.Errors.Count == 0, $"{step}: redis-benchmark reported errors: {string.Join(" | ", run.Errors.Take(5))}");
        // Every test's row is a whole one, with a request rate.
        Assert.All(run.Rows, r => Assert.True(r.Length == 8 && double.Parse(r[1], CultureInfo.InvariantCulture) > 0, $"{step}: {string.Join(',', r)}"));
    }

    private sealed record BenchmarkRun(int ExitCode, List<string[]> Rows, List<string> Errors, TimeSpan RunTime, string Text)
    {
        public List<string> Tests => Rows.Select(r => r[0]).ToList();
    }
}
