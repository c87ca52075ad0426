using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using Molt.Benchmarks;
using Molt.Hosting.Loading;

namespace Kv.Benchmarks;

/// <summary>
/// Why a program can run slower under Molt, without sockets in the way: kv's own command path (parse a pipelined batch,
/// execute it, write the replies: <c>Commands.ExecuteAll</c>) run in this process from a collectible context, as Molt
/// runs each version by default, and from a context that is not (as with <c>--keep-old-code</c>, and as a standalone
/// program's code is tiered), alternated in rounds. The runtime never tiers code in a collectible context. The collectible
/// copy runs twice: compiled method by method at first call (as a version molt starts), and compiled whole before it
/// runs, before any of its class constructors (as an update's prepare phase compiles the new version).
/// </summary>
internal static class CodePath
{
    /// <summary>Rounds of measurement, each running every copy of the release.</summary>
    public static int Rounds { get; set; } = 10;

    private const int CommandsPerBatch = 200;
    private const int BatchesPerRun = 10_000;

    public static Task RunAsync()
    {
        var modes = new (string Name, bool Collectible, bool Prepared)[]
        {
            ("not collectible", false, false),
            ("collectible", true, false),
            ("collectible, prepared", true, true),
        };
        var headers = new List<string> { "release", "commands" };
        headers.AddRange(modes.Select(m => m.Name));
        foreach (var mode in modes.Skip(1))
        {
            headers.AddRange([$"{mode.Name}/not", "per round"]);
        }
        var table = new Table(Commands.Line,
            $"kv's command path in process (Commands.ExecuteAll over batches of {CommandsPerBatch} pipelined commands), ns per command, median of {Rounds} rounds; " +
            "per round: the ratio within each round, median (min … max)",
            [.. headers]);
        var versions = Paths.Versions.Count > 1 ? new[] { Paths.Versions[0], Paths.Versions[^1] } : [.. Paths.Versions];
        foreach (var version in versions)
        {
            foreach (var commands in new[] { "GET", "SET", "GET+SET" })
            {
                var batch = Batch(commands);
                var paths = modes.Select(m => new CommandPath(Paths.Kv(version), m.Collectible, m.Prepared)).ToArray();
                // Warm-up: long enough for tiering to finish recompiling the copy that is tiered.
                for (var i = 0; i < 4; i++)
                {
                    foreach (var path in paths)
                    {
                        path.Run(batch, BatchesPerRun);
                    }
                    Thread.Sleep(200);
                }
                var times = paths.Select(_ => new List<double>()).ToArray();
                for (var round = 0; round < Rounds; round++)
                {
                    var order = Enumerable.Range(0, paths.Length).ToArray();
                    if (round % 2 == 1)
                    {
                        Array.Reverse(order);
                    }
                    foreach (var i in order)
                    {
                        times[i].Add(paths[i].Run(batch, BatchesPerRun));
                    }
                }
                var cells = new List<object> { $"v{version}", commands };
                cells.AddRange(times.Select(t => string.Create(CultureInfo.InvariantCulture, $"{Stats.Median(t):0.0}")));
                foreach (var t in times.Skip(1))
                {
                    var perRound = t.Zip(times[0], (a, b) => a / b).ToList();
                    cells.Add(Stats.Median(t) / Stats.Median(times[0]));
                    cells.Add(string.Create(CultureInfo.InvariantCulture, $"{Stats.Median(perRound):0.00} ({perRound.Min():0.00} … {perRound.Max():0.00})"));
                }
                table.Add([.. cells]);
                Console.WriteLine($"v{version} {commands} done");
            }
        }
        Console.WriteLine();
        table.Print("each copy of the release is loaded as molt loads a version (its own context and keyspace; Molt shared from the default context);",
            "prepared: every method compiled before the first call, before any class constructor ran, as an update's prepare phase does");
        return Task.CompletedTask;
    }

    // A batch as redis-benchmark sends it: RESP arrays, keys drawn from 100,000, 16-byte values.
    private static byte[] Batch(string commands)
    {
        var text = new StringBuilder();
        var random = new Random(1);
        for (var i = 0; i < CommandsPerBatch; i++)
        {
            var key = string.Create(CultureInfo.InvariantCulture, $"key:{random.Next(100_000):D12}");
            var set = commands == "SET" || (commands == "GET+SET" && i % 2 == 0);
            text.Append(set
                ? $"*3\r\n$3\r\nSET\r\n${key.Length}\r\n{key}\r\n$16\r\nxxxxxxxxxxxxxxxx\r\n"
                : $"*2\r\n$3\r\nGET\r\n${key.Length}\r\n{key}\r\n");
        }
        return Encoding.ASCII.GetBytes(text.ToString());
    }

    /// <summary>One copy of a release in its own context, and a connection object of its own to run commands on.</summary>
    private sealed class CommandPath
    {
        private readonly object _connection;
        private readonly MethodInfo _executeAll;
        private readonly byte[] _received;
        private readonly FieldInfo _receivedCount;
        private readonly object _output;
        private readonly MethodInfo _clearOutput;

        public CommandPath(string kvPath, bool collectible, bool prepared)
        {
            // Loaded as molt loads a version: its own VersionLoadContext, Molt shared from the default context.
            var version = ProgramVersion.Load(kvPath, generation: 1, TimeProvider.System, collectible);
            if (prepared)
            {
                version.PrepareCode();
            }
            var kv = version.MainAssembly;
            var connection = kv.GetType("Kv.Connection", throwOnError: true)!;
            _connection = Activator.CreateInstance(connection, 1L, null)!;
            _executeAll = kv.GetType("Kv.Commands", throwOnError: true)!.GetMethod("ExecuteAll", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)!;
            _received = (byte[])connection.GetField("Received")!.GetValue(_connection)!;
            _receivedCount = connection.GetField("ReceivedCount")!;
            _output = connection.GetField("Output")!.GetValue(_connection)!;
            _clearOutput = _output.GetType().GetMethod("Clear")!;
        }

        /// <summary>Runs the batch <paramref name="batches"/> times; nanoseconds per command.</summary>
        public double Run(byte[] batch, int batches)
        {
            object[] arguments = [_connection];
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < batches; i++)
            {
                batch.CopyTo(_received, 0);
                _receivedCount.SetValue(_connection, batch.Length);
                _executeAll.Invoke(null, arguments);
                _clearOutput.Invoke(_output, null);
            }
            return Stopwatch.GetElapsedTime(start).TotalNanoseconds / ((double)batches * CommandsPerBatch);
        }
    }
}
