using System.Globalization;
using Kv.Demo;
using Molt.Benchmarks;
using Molt.Hosting;

namespace Kv.Benchmarks;

/// <summary>
/// What an update owes to the number of units: kv v5 under Molt in this process with N idle client connections held
/// open, each one a unit of the server (<c>kv_data.py crowd</c>: Debian's Python redis client, its own process, each
/// connection named), updated to itself a few times. Quiescence parks every unit, the restart resumes every one in the
/// new version: their times and the pause by N. Afterwards each connection must still be the same, with its name.
/// </summary>
internal static class Units
{
    /// <summary>The numbers of idle connections.</summary>
    public static int[] Counts { get; set; } = [0, 100, 500, 1_000, 2_000];

    /// <summary>Updates measured per count.</summary>
    public static int Updates { get; set; } = 3;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    public static async Task RunAsync()
    {
        Console.WriteLine("Per count N, in this process: await using var host = await MoltHost.StartAsync(\"versions/v5/Kv.dll\", [\"--port\", \"0\"]);");
        Console.WriteLine("  $ /usr/bin/python3 clients/kv_data.py crowd --port PORT --connections N   (its own process: N connections, each named with CLIENT SETNAME, idle)");
        Console.WriteLine($"  then {Updates} times: await host.UpdateAsync(\"versions/v5/Kv.dll\") (the release to itself: every unit parked, its state carried, resumed);");
        Console.WriteLine("  checked: Committed each time; then each connection asked CLIENT GETNAME: the same socket, its own name.");
        Console.WriteLine();
        var table = new Table(Commands.Line,
            $"Update of kv v5 to itself with N idle connections (each a unit), median of {Updates} (max)",
            "connections", "units", "quiesce", "restart", "pause", "pause max", "objects rebuilt", "connections checked");
        var csv = new List<string> { "connections,units,run,quiesce_ms,transfer_ms,restart_ms,pause_ms,objects_rebuilt" };
        foreach (var count in Counts)
        {
            var options = new MoltHostOptions { QuiesceTimeout = TimeSpan.FromSeconds(30), RestartTimeout = TimeSpan.FromSeconds(60) };
            await using var host = await MoltHost.StartAsync(Paths.Kv(5), ["--port", "0"], options);
            var port = Kv.Demo.HostedKvServer.ReadPort(host);
            await using var crowd = count > 0
                ? await LiveSession.OpenCrowdAsync(Path.Combine(AppContext.BaseDirectory, "clients"), port, count, Patience, CancellationToken.None)
                : null;
            var units = await UnitsAtLeastAsync(host, count + 2);
            var results = new List<UpdateResult>();
            for (var run = 1; run <= Updates; run++)
            {
                var result = await host.UpdateAsync(Paths.Kv(5));
                if (result.Outcome != UpdateOutcome.Committed)
                {
                    throw new InvalidOperationException($"{count} connections, update {run}: {result}");
                }
                results.Add(result);
                csv.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{count},{units},{run},{result.QuiesceTime.TotalMilliseconds:0.00},{result.TransferTime.TotalMilliseconds:0.00},{result.RestartTime.TotalMilliseconds:0.00},{result.PauseTime.TotalMilliseconds:0.00},{result.ObjectsRebuilt}"));
                Console.WriteLine($"{count} connections ({units} units), update {run}: {result}");
            }
            var checkedCount = 0;
            if (crowd is not null)
            {
                var (asked, problems) = await crowd.CheckCrowdAsync(CancellationToken.None);
                checkedCount = problems.Count == 0 ? asked
                    : throw new InvalidOperationException($"the crowd's connections did not all survive: {string.Join("; ", problems)}");
            }
            static TimeSpan Median(IEnumerable<TimeSpan> times) => TimeSpan.FromMilliseconds(Stats.Median(times.Select(t => t.TotalMilliseconds)));
            table.Add(count.ToString("N0", CultureInfo.InvariantCulture), units.ToString(CultureInfo.InvariantCulture),
                Table.Ms(Median(results.Select(r => r.QuiesceTime))), Table.Ms(Median(results.Select(r => r.RestartTime))),
                Table.Ms(Median(results.Select(r => r.PauseTime))), Table.Ms(results.Max(r => r.PauseTime)),
                (long)Stats.Median(results.Select(r => (double)r.ObjectsRebuilt)), crowd is null ? "-" : $"{checkedCount}: same, named");
        }
        Directory.CreateDirectory(Results.Directory);
        var file = Path.Combine(Results.Directory, "units.csv");
        await File.WriteAllLinesAsync(file, csv);
        Console.WriteLine();
        table.Print($"units: the host's units when measured (the connections', accept and expire); every run: {Paths.Short(file)}");
    }

    // The server accepts the crowd's connections in its own time: wait until each has its unit.
    private static async Task<int> UnitsAtLeastAsync(MoltHost host, int expected)
    {
        var until = DateTime.UtcNow + Patience;
        while (host.Units.Count < expected)
        {
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"the server has {host.Units.Count} units, not the {expected} expected");
            }
            await Task.Delay(50);
        }
        return host.Units.Count;
    }
}
