using System.Globalization;
using Molt.Benchmarks;

namespace Kv.Benchmarks;

/// <summary>
/// A code-only update (issue 13): kv v5 -> v6, which changes commands and ships the same build of the keyspace's library
/// (Kv.State), with the library shared (the keyspace passes by reference) and with every library loaded per version (the
/// engine before shared libraries: every entry rebuilt), alternated run by run in one process, by keys held.
/// </summary>
internal static class CodeOnly
{
    public static async Task RunAsync()
    {
        if (!Paths.Versions.Contains(6))
        {
            Console.WriteLine("code-only: kv v6 is not built beside the benchmarks; nothing to measure.");
            return;
        }
        Console.WriteLine("Per size and run, the pause benchmark's measure (see `pause`) of v5 -> v6, once with MoltHostOptions.ShareLibraries = true");
        Console.WriteLine("(the default) and once with false, alternated.");
        Console.WriteLine();
        var rows = new List<(bool Shared, Pause.Row Row)>();
        foreach (var keys in Pause.Sizes)
        {
            for (var run = 1; run <= Pause.Repeats; run++)
            {
                foreach (var shared in run % 2 == 1 ? new[] { true, false } : [false, true])
                {
                    Pause.ShareLibraries = shared;
                    var row = await Pause.MeasureAsync(5, 6, keys, run, underMolt: null);
                    if (shared && row.Result.SharedLibraries.Count == 0)
                    {
                        throw new InvalidOperationException($"v5 -> v6 shared no library: {row.Result}");
                    }
                    rows.Add((shared, row));
                    Pause.Print(row, shared ? " (shared library)" : " (libraries per version)");
                }
            }
        }
        Pause.ShareLibraries = true;
        Console.WriteLine();
        Directory.CreateDirectory(Results.Directory);
        var csv = Path.Combine(Results.Directory, "code-only.csv");
        static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("0.000", CultureInfo.InvariantCulture);
        File.WriteAllLines(csv, ["shared,keys,run,prepare_ms,quiesce_ms,transfer_ms,restart_ms,pause_ms,unload_ms,client_max_pause_window_ms,objects_rebuilt,references_passed,errors",
            .. rows.Select(x => string.Join(',', x.Shared, x.Row.Keys, x.Row.Run, Ms(x.Row.Prepare), Ms(x.Row.Quiesce), Ms(x.Row.Transfer), Ms(x.Row.Restart),
                Ms(x.Row.HostPause), Ms(x.Row.Unload), Ms(x.Row.ClientMaxPause), x.Row.Result.ObjectsRebuilt, x.Row.Result.ReferencesPassed, x.Row.Errors))]);
        var table = new Table(Commands.Line,
            $"Code-only update v5 -> v6 under a probing load ({Pause.ProbeConnections} connections of GET), by keys held: the keyspace's library shared, " +
            $"against every library loaded per version (the engine before); median of {Pause.Repeats} each",
            "keys", "transfer (shared)", "host pause (shared)", "client max (shared)", "rebuilt (shared)",
            "transfer (per version)", "host pause (per version)", "client max (per version)", "rebuilt (per version)", "pause ratio", "errors");
        foreach (var size in rows.GroupBy(x => x.Row.Keys))
        {
            TimeSpan M(bool shared, Func<Pause.Row, TimeSpan> of) =>
                TimeSpan.FromTicks((long)Stats.Median(size.Where(x => x.Shared == shared).Select(x => (double)of(x.Row).Ticks)));
            var (sharedPause, perVersionPause) = (M(true, r => r.HostPause), M(false, r => r.HostPause));
            table.Add(size.Key, M(true, r => r.Transfer), sharedPause, M(true, r => r.ClientMaxPause), size.First(x => x.Shared).Row.Result.ObjectsRebuilt,
                M(false, r => r.Transfer), perVersionPause, M(false, r => r.ClientMaxPause), size.First(x => !x.Shared).Row.Result.ObjectsRebuilt,
                (sharedPause.TotalMilliseconds / perVersionPause.TotalMilliseconds).ToString("0.000", CultureInfo.InvariantCulture),
                size.Sum(x => x.Row.Errors));
        }
        table.Print(
            "host pause: UpdateResult.PauseTime; client max: the longest GET in flight during the pause window; rebuilt: UpdateResult.ObjectsRebuilt (first run);",
            $"pause ratio: shared / per version. Every run: {Paths.Short(csv)}");
    }
}
