using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.Loader;
using System.Text;
using Molt.Benchmarks;

namespace Kv.Benchmarks;

/// <summary>
/// Why a program can run slower under Molt, without sockets in the way: kv's own command path (parse a pipelined batch,
/// execute it, write the replies: <c>Commands.ExecuteAll</c>) run in this process from a collectible context, as Molt
/// runs each version by default, and from a context that is not (as with <c>--keep-old-code</c>, and as a standalone
/// program's code is tiered), the two alternated in rounds. The runtime never tiers code in a collectible context.
/// </summary>
internal static class CodePath
{
    /// <summary>Rounds of measurement, each running both contexts.</summary>
    public static int Rounds { get; set; } = 10;

    private const int CommandsPerBatch = 200;
    private const int BatchesPerRun = 10_000;

    public static Task RunAsync()
    {
        var table = new Table(Commands.Line,
            $"kv's command path in process (Commands.ExecuteAll over batches of {CommandsPerBatch} pipelined commands), ns per command, median of {Rounds} rounds (min … max)",
            "release", "commands", "not collectible", "collectible", "collectible/not", "per round");
        var versions = Paths.Versions.Count > 1 ? new[] { Paths.Versions[0], Paths.Versions[^1] } : [.. Paths.Versions];
        foreach (var version in versions)
        {
            foreach (var commands in new[] { "GET", "SET", "GET+SET" })
            {
                var batch = Batch(commands);
                var plain = new CommandPath(Paths.Kv(version), collectible: false);
                var collectible = new CommandPath(Paths.Kv(version), collectible: true);
                // Warm-up: long enough for tiering to finish recompiling the context that is tiered.
                for (var i = 0; i < 4; i++)
                {
                    plain.Run(batch, BatchesPerRun);
                    collectible.Run(batch, BatchesPerRun);
                    Thread.Sleep(200);
                }
                var (p, c) = (new List<double>(), new List<double>());
                for (var round = 0; round < Rounds; round++)
                {
                    if (round % 2 == 0)
                    {
                        p.Add(plain.Run(batch, BatchesPerRun));
                        c.Add(collectible.Run(batch, BatchesPerRun));
                    }
                    else
                    {
                        c.Add(collectible.Run(batch, BatchesPerRun));
                        p.Add(plain.Run(batch, BatchesPerRun));
                    }
                }
                var perRound = p.Zip(c, (a, b) => b / a).ToList();
                table.Add($"v{version}", commands,
                    string.Create(CultureInfo.InvariantCulture, $"{Stats.Median(p):0.0} ({p.Min():0.0} … {p.Max():0.0})"),
                    string.Create(CultureInfo.InvariantCulture, $"{Stats.Median(c):0.0} ({c.Min():0.0} … {c.Max():0.0})"),
                    Stats.Median(c) / Stats.Median(p),
                    string.Create(CultureInfo.InvariantCulture, $"{Stats.Median(perRound):0.00} ({perRound.Min():0.00} … {perRound.Max():0.00})"));
                Console.WriteLine($"v{version} {commands} done");
            }
        }
        Console.WriteLine();
        table.Print("each context holds its own copy of the release (its own keyspace); Molt is shared from the default context, as under molt");
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

        public CommandPath(string kvPath, bool collectible)
        {
            var context = new ReleaseContext(kvPath, collectible);
            var kv = context.LoadFromAssemblyPath(kvPath);
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

    /// <summary>Loads a release and the libraries beside it, sharing Molt with the default context as Molt's own contexts do.</summary>
    private sealed class ReleaseContext(string kvPath, bool collectible) : AssemblyLoadContext($"codepath-{(collectible ? "collectible" : "kept")}", collectible)
    {
        protected override Assembly? Load(AssemblyName name)
        {
            var path = Path.Combine(Path.GetDirectoryName(kvPath)!, name.Name + ".dll");
            return name.Name is "Molt" or "Kv" || !File.Exists(path) ? null : LoadFromAssemblyPath(path);
        }
    }
}
