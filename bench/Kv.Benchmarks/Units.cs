using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
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
            var port = Pause.ReadPort(host);
            await using var crowd = count > 0 ? await Crowd.OpenAsync(port, count) : null;
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
            var checkedCount = crowd is null ? 0 : await crowd.CheckAsync();
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

    /// <summary>The Python client's crowd of named connections, in its own process.</summary>
    private sealed class Crowd : IAsyncDisposable
    {
        private readonly Process _process;

        private Crowd(Process process) => _process = process;

        public static async Task<Crowd> OpenAsync(int port, int connections)
        {
            var script = Path.Combine(AppContext.BaseDirectory, "clients", "kv_data.py");
            var start = Run.Info("/usr/bin/python3", [script, "crowd", "--port", port.ToString(CultureInfo.InvariantCulture), "--connections", connections.ToString(CultureInfo.InvariantCulture)]);
            start.RedirectStandardInput = true;
            var crowd = new Crowd(Process.Start(start)!);
            try
            {
                using var ready = await crowd.NextAsync();
                if (!ready.RootElement.TryGetProperty("ready", out var opened) || opened.GetInt32() != connections)
                {
                    throw new InvalidOperationException($"the crowd did not open its connections: {ready.RootElement}");
                }
                return crowd;
            }
            catch
            {
                await crowd.DisposeAsync();
                throw;
            }
        }

        /// <summary>Asks every connection its name; how many were checked. Throws when one is not the same, with its name.</summary>
        public async Task<int> CheckAsync()
        {
            await _process.StandardInput.WriteLineAsync("check");
            await _process.StandardInput.FlushAsync();
            using var reply = await NextAsync();
            var root = reply.RootElement;
            if (!root.TryGetProperty("problem_count", out var problems) || problems.GetInt32() != 0)
            {
                throw new InvalidOperationException($"the crowd's connections did not all survive: {root}");
            }
            return root.GetProperty("checked").GetInt32();
        }

        private async Task<JsonDocument> NextAsync()
        {
            using var timeout = new CancellationTokenSource(Patience);
            while (true)
            {
                var line = await _process.StandardOutput.ReadLineAsync(timeout.Token)
                    ?? throw new InvalidOperationException($"the crowd ended: {await _process.StandardError.ReadToEndAsync()}");
                if (line.StartsWith('{'))
                {
                    return JsonDocument.Parse(line);
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                _process.StandardInput.Close(); // It disconnects and exits at the end of its input.
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }
            catch (TimeoutException)
            {
                _process.Kill(entireProcessTree: true);
            }
            _process.Dispose();
        }
    }
}
