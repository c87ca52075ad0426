using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Molt.Benchmarks;

/// <summary>
/// The cost of an update point when no update is pending (what a program pays on every pass through its
/// loops), side by side with a volatile field read and an empty call.
/// </summary>
[MemoryDiagnoser]
public class UpdatePointBenchmarks
{
    private static volatile int s_flag;

    /// <summary>A short job, in process (no generated project to build): about a minute in all.</summary>
    public static IConfig Config() => DefaultConfig.Instance
        .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
        .WithArtifactsPath(Path.Combine(AppContext.BaseDirectory, "BenchmarkDotNet.Artifacts"))
        .WithOptions(ConfigOptions.DisableLogFile);

    /// <summary>Like the update point's counter of pending updates: written elsewhere, zero here.</summary>
    [GlobalSetup]
    public void Setup() => s_flag = 0;

    [Benchmark(Baseline = true, Description = "volatile static int read")]
    public int VolatileRead() => s_flag;

    [Benchmark(Description = "empty method call")]
    public void EmptyCall() => Empty();

    [Benchmark(Description = "Live.UpdatePoint(\"x\")")]
    public void UpdatePoint() => Live.UpdatePoint("x");

    [Benchmark(Description = "Live.UpdatePointAsync(\"x\").IsCompleted")]
    public bool UpdatePointAsync() => Live.UpdatePointAsync("x").IsCompleted;

    [Benchmark(Description = "async method: await ValueTask.CompletedTask")]
    public async ValueTask AwaitCompleted() => await ValueTask.CompletedTask;

    [Benchmark(Description = "async method: await Live.UpdatePointAsync(\"x\")")]
    public async ValueTask AwaitUpdatePointAsync() => await Live.UpdatePointAsync("x");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Empty()
    {
    }
}
