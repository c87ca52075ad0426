using System.Diagnostics;
using System.Net;

namespace Shop.Benchmarks;

/// <summary>One request of the prober: when it was sent and when its answer arrived (Stopwatch timestamps), and whether it was a 200.</summary>
internal readonly record struct Probe(long Sent, long Answered, bool Ok)
{
    /// <summary>From sending to the whole answer.</summary>
    public TimeSpan Latency => Stopwatch.GetElapsedTime(Sent, Answered);

    /// <summary>Whether the prober was waiting for it at some moment of [from, to].</summary>
    public bool Overlaps(long from, long to) => Sent <= to && Answered >= from;
}

/// <summary>
/// A client that asks <c>GET /api/version</c> every 5 ms (the next request 5 ms after the previous one was sent, or at once
/// when the answer took longer), on one kept-alive connection, from a thread of its own, and keeps every request's times:
/// what a lightly loaded client sees of an update, besides wrk's heavy load.
/// </summary>
internal sealed class Prober : IDisposable
{
    /// <summary>The interval between two requests' sending.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(5);

    private readonly HttpClient _http;
    private readonly Uri _uri;
    private readonly Thread _thread;
    private readonly List<Probe> _probes = new(1 << 14);
    private volatile bool _stop;

    /// <summary>Starts probing <paramref name="baseUrl"/>.</summary>
    public Prober(string baseUrl)
    {
        _http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10) })
        {
            Timeout = TimeSpan.FromSeconds(60),
        };
        _uri = new Uri(baseUrl + "/api/version");
        _thread = new Thread(Loop) { IsBackground = true, Name = "prober" };
        _thread.Start();
    }

    /// <summary>The first error (an exception or a status other than 200), or null.</summary>
    public string? FirstError { get; private set; }

    /// <summary>Stops probing and returns every request's times, in order.</summary>
    public IReadOnlyList<Probe> Stop()
    {
        _stop = true;
        _thread.Join();
        return _probes;
    }

    private void Loop()
    {
        var next = Stopwatch.GetTimestamp();
        while (!_stop)
        {
            var sent = Stopwatch.GetTimestamp();
            var ok = false;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, _uri);
                using var response = _http.Send(request, HttpCompletionOption.ResponseContentRead);
                ok = response.StatusCode == HttpStatusCode.OK;
                if (!ok)
                {
                    FirstError ??= $"HTTP {(int)response.StatusCode}";
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                FirstError ??= $"{e.GetType().Name}: {e.Message}";
            }
            _probes.Add(new Probe(sent, Stopwatch.GetTimestamp(), ok));
            next += (long)(Interval.TotalSeconds * Stopwatch.Frequency);
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), next);
            if (wait > TimeSpan.Zero)
            {
                Thread.Sleep(wait);
            }
            else
            {
                next = Stopwatch.GetTimestamp(); // Late (a long answer): the next one now, and every 5 ms from it.
            }
        }
    }

    public void Dispose()
    {
        if (!_stop)
        {
            Stop();
        }
        _http.Dispose();
    }

    /// <summary>The longest request in flight at some moment of [from, to] (zero when none).</summary>
    public static TimeSpan MaxLatency(IEnumerable<Probe> probes, long from, long to) =>
        probes.Where(p => p.Overlaps(from, to)).Select(p => p.Latency).DefaultIfEmpty(TimeSpan.Zero).Max();

    /// <summary>The longest time without an answer, between two answers both in [from, to] or around it.</summary>
    public static TimeSpan LongestGap(IReadOnlyList<Probe> probes, long from, long to)
    {
        var longest = TimeSpan.Zero;
        for (var i = 1; i < probes.Count; i++)
        {
            if (probes[i].Answered >= from && probes[i - 1].Answered <= to)
            {
                var gap = Stopwatch.GetElapsedTime(probes[i - 1].Answered, probes[i].Answered);
                longest = gap > longest ? gap : longest;
            }
        }
        return longest;
    }
}
