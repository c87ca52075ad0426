using System.Globalization;
using System.Text.RegularExpressions;

namespace Shop.Benchmarks;

/// <summary>What one wrk run reported: requests/s, the latency percentiles and maximum, the errors.</summary>
internal sealed record WrkResult(double RequestsPerSecond, long Requests, TimeSpan P50, TimeSpan P99, TimeSpan Max,
    long SocketErrors, long Non2xx, string Output)
{
    /// <summary>Socket errors and responses that were not 2xx or 3xx, together.</summary>
    public long Errors => SocketErrors + Non2xx;
}

/// <summary>An endpoint under load: its name in the tables and how wrk calls it (a URL path, and a Lua script for a POST).</summary>
internal sealed record Endpoint(string Name, string Path, string? Script = null);

/// <summary>Debian's wrk, run to its end and its output parsed.</summary>
internal static partial class Wrk
{
    /// <summary>wrk's threads and connections: 2 threads (the machine's cores), 32 connections.</summary>
    public const int Threads = 2, Connections = 32;

    /// <summary>
    /// Long enough that no request of an update's pause is counted as a timeout (wrk leaves those out of its latencies);
    /// wrk's default is 2 s.
    /// </summary>
    public const int TimeoutSeconds = 30;

    /// <summary>The arguments of a run of <paramref name="seconds"/> against <paramref name="baseUrl"/>'s <paramref name="endpoint"/>.</summary>
    public static string[] Arguments(string baseUrl, Endpoint endpoint, double seconds) =>
    [
        $"-t{Threads}", $"-c{Connections}", string.Create(CultureInfo.InvariantCulture, $"-d{seconds:0.#}s"), $"--timeout", $"{TimeoutSeconds}s", "--latency",
        .. endpoint.Script is { } script ? new[] { "-s", script } : [],
        baseUrl + endpoint.Path,
    ];

    /// <summary>Runs wrk for <paramref name="seconds"/> and parses what it printed; fails when wrk did.</summary>
    public static async Task<WrkResult> RunAsync(string baseUrl, Endpoint endpoint, double seconds)
    {
        var result = await Run.ToEndAsync("wrk", Arguments(baseUrl, endpoint, seconds), TimeSpan.FromSeconds(seconds + TimeoutSeconds + 30));
        if (result.ExitCode != 0 || !result.Stdout.Contains("Requests/sec:", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"wrk against {baseUrl}{endpoint.Path} failed (exit {result.ExitCode}):\n{result.Stdout}\n{result.Stderr}");
        }
        return Parse(result.Stdout);
    }

    /// <summary>Reads wrk's report (with <c>--latency</c>).</summary>
    public static WrkResult Parse(string output)
    {
        var latency = LatencyLine().Match(output);
        var socket = SocketErrors().Match(output);
        var non2xx = Non2xx().Match(output);
        return new WrkResult(
            double.Parse(RequestsPerSecond().Match(output).Groups[1].Value, CultureInfo.InvariantCulture),
            long.Parse(RequestCount().Match(output).Groups[1].Value, CultureInfo.InvariantCulture),
            Percentile(output, "50"), Percentile(output, "99"),
            latency.Success ? Time(latency.Groups[1].Value, latency.Groups[2].Value) : TimeSpan.Zero,
            socket.Success ? Enumerable.Range(1, 4).Sum(i => long.Parse(socket.Groups[i].Value, CultureInfo.InvariantCulture)) : 0,
            non2xx.Success ? long.Parse(non2xx.Groups[1].Value, CultureInfo.InvariantCulture) : 0,
            output);
    }

    private static TimeSpan Percentile(string output, string percent)
    {
        var match = Regex.Match(output, $@"^\s+{percent}%\s+([0-9.]+)(us|ms|s|m)\s*$", RegexOptions.Multiline);
        return match.Success ? Time(match.Groups[1].Value, match.Groups[2].Value) : throw new InvalidDataException($"no {percent}% line in wrk's output:\n{output}");
    }

    private static TimeSpan Time(string value, string unit)
    {
        var number = double.Parse(value, CultureInfo.InvariantCulture);
        return unit switch
        {
            "us" => TimeSpan.FromMicroseconds(number),
            "ms" => TimeSpan.FromMilliseconds(number),
            "s" => TimeSpan.FromSeconds(number),
            "m" => TimeSpan.FromMinutes(number),
            _ => throw new InvalidDataException($"wrk's unit '{unit}'"),
        };
    }

    // "    Latency     1.89ms    8.44ms  91.32ms   97.58%": average, deviation, maximum.
    [GeneratedRegex(@"^\s+Latency\s+\S+\s+\S+\s+([0-9.]+)(us|ms|s|m)\s", RegexOptions.Multiline)]
    private static partial Regex LatencyLine();

    [GeneratedRegex(@"^Requests/sec:\s+([0-9.]+)", RegexOptions.Multiline)]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"^\s+(\d+) requests in", RegexOptions.Multiline)]
    private static partial Regex RequestCount();

    [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")]
    private static partial Regex SocketErrors();

    [GeneratedRegex(@"Non-2xx or 3xx responses: (\d+)")]
    private static partial Regex Non2xx();
}
