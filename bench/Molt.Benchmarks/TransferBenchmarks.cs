using System.Diagnostics;
using System.Globalization;
using Molt.Hosting;
using Molt.Testing;

namespace Molt.Benchmarks;

/// <summary>
/// End-to-end updates with the real host: BigState v1 (bench/Programs/BigState/v1) started with some state,
/// then updated to v2 (Entry has one field more). Each measurement is the median of <see cref="Repeats"/>
/// updates, each with a fresh host in this process.
/// </summary>
internal static class TransferBenchmarks
{
    /// <summary>Updates measured per row (the median is printed); <c>--repeats N</c> changes it.</summary>
    public static int Repeats { get; set; } = 3;

    /// <summary>The numbers of entries <c>transfer-objects</c> measures (<c>--entries N,M</c>); null for 100k and 1M.</summary>
    public static int[]? Entries { get; set; }

    /// <summary>Whether to print every update's result, not only the medians (<c>--verbose</c>).</summary>
    public static bool Verbose { get; set; }
    private const string Run = "dotnet run --project bench/Molt.Benchmarks -c Release --";

    private static readonly Lazy<(string V1, string V2)> Versions = new(() =>
    {
        var compiler = new ProgramCompiler("molt-bench");
        string Build(string version) => compiler.Build("BigState", version,
            File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Programs", "BigState", version, "Program.cs")));
        return (Build("v1"), Build("v2"));
    });

    /// <summary>
    /// The engines compared side by side: sequential with the collector running as usual (the engine before issue 13 held
    /// it off), sequential, and parallel on the machine's cores (2 at least, so that one core shows what splitting costs).
    /// </summary>
    private static readonly (string Name, int Parallelism, bool HoldCollections)[] Engines =
    [
        ("sequential, GC as usual", 1, false),
        ("sequential", 1, true),
        ($"parallel ({Math.Max(2, Environment.ProcessorCount)})", Math.Max(2, Environment.ProcessorCount), true),
    ];

    /// <summary>Program-typed objects: the transfer against building the same dictionary from scratch in the same process.</summary>
    public static async Task TransferObjectsAsync()
    {
        var table = new Table($"{Run} transfer-objects",
            $"Transfer of a Dictionary<string, Entry> (Entry: long, int, string, byte[16]) from v1 to v2, median of {Repeats}",
            "entries", "engine", "build from scratch", "copy by hand", "transfer", "objects/s", "transfer/build", "transfer/copy", "pause", "unload (after)", "objects rebuilt", "references passed");
        foreach (var n in Entries ?? [100_000, 1_000_000])
        {
            foreach (var engine in Engines)
            {
                var runs = new List<Measured>();
                for (var i = 0; i < Repeats; i++)
                {
                    runs.Add(await UpdateOnceAsync("objects", n, baseline: true, engine.Parallelism, engine.HoldCollections));
                }
                var build = Median(runs.Select(r => r.Build));
                var copy = Median(runs.Select(r => r.Copy));
                var transfer = Median(runs.Select(r => r.Result.TransferTime));
                table.Add(n, engine.Name, build, copy, transfer, PerSecond(runs[0].Result.ObjectsRebuilt, transfer), transfer / build, transfer / copy,
                    Median(runs.Select(r => r.Result.PauseTime)), Median(runs.Select(r => r.Result.UnloadTime)), runs[0].Result.ObjectsRebuilt, runs[0].Result.ReferencesPassed);
            }
        }
        table.Print(
            "build from scratch: v1's Program.Build(n), in the running v1: new keys, entries, names and arrays, inserted into a new dictionary.",
            "copy by hand: v1's Program.Copy(): a new dictionary of new entries sharing the keys, names and arrays (what the transfer does).",
            "transfer: UpdateResult.TransferTime (statics and unit states rebuilt as v2's objects); pause: UpdateResult.PauseTime.",
            "objects/s: objects rebuilt / transfer; engine: MoltHostOptions.TransferParallelism, and whether the transfer held the GC off.",
            "unload (after): UpdateResult.UnloadTime, after the pause: the full collections that prove v1 collected; held off during the transfer, the",
            "collector promotes the new state there instead (or, with VerifyUnload off, at its next collection).",
            "objects rebuilt: the entries, their dictionary and the unit's state; references passed: the keys and the (empty) dictionary of arrays.");
    }

    /// <summary>Millions of objects a second, with two decimals.</summary>
    private static string PerSecond(long objects, TimeSpan time) =>
        (objects / time.TotalSeconds / 1e6).ToString("0.00", CultureInfo.InvariantCulture) + " M";

    /// <summary>Byte arrays pass by reference: the transfer does not grow with their size.</summary>
    public static async Task TransferBytesAsync()
    {
        var table = new Table($"{Run} transfer-bytes",
            $"Transfer of a Dictionary<string, byte[]> of 1 MiB arrays from v1 to v2, median of {Repeats}",
            "size", "transfer", "pause", "objects rebuilt", "references passed");
        foreach (var mebibytes in new[] { 64, 256, 1024 })
        {
            var runs = new List<Measured>();
            for (var i = 0; i < Repeats; i++)
            {
                runs.Add(await UpdateOnceAsync("bytes", mebibytes, baseline: false));
            }
            table.Add(mebibytes >= 1024 ? $"{mebibytes / 1024} GiB" : $"{mebibytes} MiB", Median(runs.Select(r => r.Result.TransferTime)),
                Median(runs.Select(r => r.Result.PauseTime)), runs[0].Result.ObjectsRebuilt, runs[0].Result.ReferencesPassed);
        }
        table.Print("objects rebuilt: the (empty) dictionary of entries and the unit's state; the dictionary of arrays is the one reference passed.");
    }

    /// <summary>The pause of an update, phase by phase, by the number of program-typed objects the program holds.</summary>
    public static async Task PauseAsync()
    {
        var table = new Table($"{Run} pause",
            $"Pause of an update from v1 to v2 by entries held (Dictionary<string, Entry>), median of {Repeats} for each column",
            "entries", "quiesce", "transfer", "restart", "pause", "objects rebuilt");
        foreach (var n in new[] { 1_000, 10_000, 100_000, 1_000_000 })
        {
            var runs = new List<Measured>();
            for (var i = 0; i < Repeats; i++)
            {
                runs.Add(await UpdateOnceAsync("objects", n, baseline: false));
            }
            table.Add(n, Median(runs.Select(r => r.Result.QuiesceTime)), Median(runs.Select(r => r.Result.TransferTime)),
                Median(runs.Select(r => r.Result.RestartTime)), Median(runs.Select(r => r.Result.PauseTime)), runs[0].Result.ObjectsRebuilt);
        }
        table.Print("pause = quiesce (the unit parks at its update point) + transfer + restart (v2's Main, its unit up to its first update point).");
    }

    private sealed record Measured(UpdateResult Result, TimeSpan Build, TimeSpan Copy);

    /// <summary>Starts v1 holding the state, optionally measures the baselines in it, updates it to v2 and checks that the state arrived.</summary>
    private static async Task<Measured> UpdateOnceAsync(string kind, int count, bool baseline, int parallelism = 0, bool holdCollections = true)
    {
        var (v1, v2) = Versions.Value;
        var options = new MoltHostOptions { TransferHoldsCollections = holdCollections };
        if (parallelism > 0)
        {
            options.TransferParallelism = parallelism;
        }
        await using var host = await MoltHost.StartAsync(v1, [kind, count.ToString(CultureInfo.InvariantCulture)], options);
        TimeSpan build = default, copy = default;
        if (baseline)
        {
            Collect();
            build = Stopwatch.GetElapsedTime(0, (long)ProgramState.Call(host, "Program", "Build", count)!);
            Collect();
            copy = Stopwatch.GetElapsedTime(0, (long)ProgramState.Call(host, "Program", "Copy")!);
        }
        Collect();
        var result = await host.UpdateAsync(v2);
        result.EnsureCommitted();
        if (Verbose)
        {
            Console.WriteLine($"  {kind} {count} (parallelism {options.TransferParallelism}{(holdCollections ? "" : ", GC as usual")}): {(baseline ? $"build {Table.Ms(build)}, copy {Table.Ms(copy)}; " : "")}{result}");
        }
        var state = (string)ProgramState.Call(host, "Program", "Describe")!;
        var expected = kind == "objects" ? $"v2 {count} entries ({count} with Version 2), 0 blobs (0 bytes)" : $"v2 0 entries (0 with Version 2), {count} blobs ({count * (1L << 20)} bytes)";
        if (state != expected)
        {
            throw new InvalidOperationException($"The state did not arrive in v2: expected \"{expected}\", got \"{state}\".");
        }
        return new Measured(result, build, copy);
    }

    private static void Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private static TimeSpan Median(IEnumerable<TimeSpan> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}
