using System.Globalization;

namespace Kv.Benchmarks;

/// <summary>
/// The resident memory of the program's processes under <c>molt run</c>: the children of the supervisor (the serving
/// process and, during a process update, its successor), read from <c>/proc/PID/status</c> (VmRSS).
/// </summary>
internal static class ProcessMemory
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(5);

    /// <summary>What a sampling saw: the children's total before it, its peak (and how many processes then), and at its end, in KiB.</summary>
    internal sealed record Peak(long BeforeKiB, long PeakKiB, int PeakProcesses, long AfterKiB, int Samples)
    {
        public double BeforeMiB => BeforeKiB / 1024.0;
        public double PeakMiB => PeakKiB / 1024.0;
        public double AfterMiB => AfterKiB / 1024.0;
    }

    /// <summary>Starts sampling the children of <paramref name="supervisor"/> on a thread of its own, every 5 ms, until stopped.</summary>
    public static Sampler Sample(int supervisor) => new(supervisor);

    /// <summary>A process's resident set (VmRSS) in KiB; 0 once it is gone (or a zombie, which has none).</summary>
    public static long ResidentKiB(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return 0;
    }

    /// <summary>Samples until <see cref="Stop"/>.</summary>
    internal sealed class Sampler : IDisposable
    {
        private readonly int _supervisor;
        private readonly Thread _thread;
        private readonly long _before;
        private volatile bool _stop;
        private long _peak;
        private int _peakProcesses;
        private int _samples;
        private Peak? _result;

        public Sampler(int supervisor)
        {
            _supervisor = supervisor;
            _before = Total(out _);
            _thread = new Thread(Run) { IsBackground = true, Name = "rss sampler" };
            _thread.Start();
        }

        private long Total(out int processes)
        {
            var children = Kv.Demo.MoltRunKvServer.ChildrenOf(_supervisor);
            var sizes = children.Select(ResidentKiB).Where(k => k > 0).ToList();
            processes = sizes.Count;
            return sizes.Sum();
        }

        private void Run()
        {
            while (!_stop)
            {
                var total = Total(out var processes);
                _samples++;
                if (total > _peak)
                {
                    _peak = total;
                    _peakProcesses = processes;
                }
                Thread.Sleep(Interval);
            }
        }

        /// <summary>Stops sampling; the children's total now is the "after".</summary>
        public Peak Stop()
        {
            if (_result is null)
            {
                _stop = true;
                _thread.Join();
                _result = new Peak(_before, _peak, _peakProcesses, Total(out _), _samples);
            }
            return _result;
        }

        public void Dispose() => Stop();
    }
}
