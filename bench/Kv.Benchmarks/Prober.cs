using System.Diagnostics;
using System.Globalization;

namespace Kv.Benchmarks;

/// <summary>One request the prober timed: when it was sent (UTC ticks) and how long its reply took.</summary>
internal readonly record struct Probe(long SentUtcTicks, long LatencyTicks)
{
    /// <summary>When its reply arrived (UTC ticks).</summary>
    public long ReceivedUtcTicks => SentUtcTicks + LatencyTicks;

    /// <summary>Whether the client was waiting for it at some moment of [from, to].</summary>
    public bool Overlaps(long fromUtcTicks, long toUtcTicks) => SentUtcTicks <= toUtcTicks && ReceivedUtcTicks >= fromUtcTicks;
}

/// <summary>
/// The latency prober, run as its own process (<c>Kv.Benchmarks probe …</c>) so that the server's pauses and
/// collections do not stop its clock: K connections, each sends GET of a random key and waits for the reply, in a
/// tight loop, and every request's send time and latency is kept. It stops at a line (or the end) on its stdin, at
/// its time limit, or at its request limit, and writes the probes to a file.
/// </summary>
internal static class Prober
{
    private const int MaxRequestsPerConnection = 20_000_000;
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(30);

    /// <summary><c>probe --port P --connections K --keys N --max-seconds S --out FILE</c>; prints one line: requests, errors.</summary>
    public static int Probe(string[] args)
    {
        string Arg(string name) => args[Array.IndexOf(args, name) + 1];
        var port = int.Parse(Arg("--port"), CultureInfo.InvariantCulture);
        var connections = int.Parse(Arg("--connections"), CultureInfo.InvariantCulture);
        var keys = int.Parse(Arg("--keys"), CultureInfo.InvariantCulture);
        var maxTime = TimeSpan.FromSeconds(double.Parse(Arg("--max-seconds"), CultureInfo.InvariantCulture));
        var output = Arg("--out");

        var stop = new CancellationTokenSource(maxTime);
        var errors = 0L;
        var firstError = (string?)null;
        var probes = new List<Probe>[connections];
        var threads = Enumerable.Range(0, connections).Select(c => new Thread(() =>
        {
            var mine = probes[c] = new List<Probe>(1 << 16);
            var random = new Random(c);
            RespConnection? connection = null;
            try
            {
                while (!stop.IsCancellationRequested && mine.Count < MaxRequestsPerConnection)
                {
                    var command = RespConnection.Encode("GET", $"key:{random.Next(keys)}");
                    var sent = DateTime.UtcNow.Ticks;
                    var started = Stopwatch.GetTimestamp();
                    try
                    {
                        connection ??= new RespConnection(port, ReplyTimeout);
                        connection.Send(command);
                        var (kind, text) = connection.ReadReply();
                        if (kind == '-')
                        {
                            throw new InvalidOperationException($"-{text}");
                        }
                        mine.Add(new Probe(sent, Stopwatch.GetElapsedTime(started).Ticks));
                    }
                    catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or InvalidOperationException or InvalidDataException)
                    {
                        // An error is what the benchmark reports; the next request goes on a new connection.
                        Interlocked.Increment(ref errors);
                        Interlocked.CompareExchange(ref firstError, $"{e.GetType().Name}: {e.Message}", null);
                        connection?.Dispose();
                        connection = null;
                        Thread.Sleep(10);
                    }
                }
            }
            finally
            {
                connection?.Dispose();
            }
        }) { IsBackground = true, Name = $"probe-{c}" }).ToList();
        threads.ForEach(t => t.Start());
        // The benchmark ends the probe through stdin (a line or its closing); the time limit bounds it anyway.
        var reader = new Thread(() =>
        {
            Console.In.ReadLine();
            stop.Cancel();
        }) { IsBackground = true };
        reader.Start();
        threads.ForEach(t => t.Join());

        using (var file = new BinaryWriter(File.Create(output)))
        {
            foreach (var probe in probes.SelectMany(p => p))
            {
                file.Write(probe.SentUtcTicks);
                file.Write(probe.LatencyTicks);
            }
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"requests={probes.Sum(p => p.Count)} errors={errors} first_error={firstError ?? "none"}"));
        return 0;
    }

    /// <summary>Reads the probes a prober wrote.</summary>
    public static List<Probe> Read(string path)
    {
        var probes = new List<Probe>();
        using var file = new BinaryReader(File.OpenRead(path));
        while (file.BaseStream.Position < file.BaseStream.Length)
        {
            probes.Add(new Probe(file.ReadInt64(), file.ReadInt64()));
        }
        return probes;
    }
}
