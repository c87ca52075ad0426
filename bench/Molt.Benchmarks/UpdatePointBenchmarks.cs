using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;

namespace Molt.Benchmarks;

/// <summary>
/// The cost of an update point when no update is pending (what a program pays on every pass through its
/// loops), side by side with a volatile field read and an empty call.
/// </summary>
[MemoryDiagnoser]
public class UpdatePointBenchmarks
{
    private const int N = 1000;
    private static volatile int s_flag;

    /// <summary>A short job, in process (no generated project to build): about a minute in all.</summary>
    public static IConfig Config() => DefaultConfig.Instance
        .AddJob(Job.Default.WithWarmupCount(5).WithIterationCount(10).WithIterationTime(TimeInterval.FromMilliseconds(250))
            .WithToolchain(InProcessEmitToolchain.Instance).WithId("Short"))
        .WithSummaryStyle(SummaryStyle.Default.WithZeroMetricValuesInContent())
        .WithArtifactsPath(Path.Combine(AppContext.BaseDirectory, "BenchmarkDotNet.Artifacts"))
        .WithOptions(ConfigOptions.DisableLogFile);

    /// <summary>Like the update point's counter of pending updates: written elsewhere, zero here.</summary>
    [GlobalSetup]
    public void Setup() => s_flag = 0;

    // Each invocation does N operations (reported per operation): one is below a nanosecond, under the harness's resolution.
    [Benchmark(Baseline = true, OperationsPerInvoke = N, Description = "volatile static int read")]
    public int VolatileRead()
    {
        var sum = 0;
        for (var i = 0; i < N; i++)
        {
            sum += s_flag;
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = N, Description = "empty method call")]
    public void EmptyCall()
    {
        for (var i = 0; i < N; i++)
        {
            Empty();
        }
    }

    [Benchmark(OperationsPerInvoke = N, Description = "Live.UpdatePoint(\"x\")")]
    public void UpdatePoint()
    {
        for (var i = 0; i < N; i++)
        {
            Live.UpdatePoint("x");
        }
    }

    [Benchmark(OperationsPerInvoke = N, Description = "await ValueTask.CompletedTask")]
    public async ValueTask AwaitCompleted()
    {
        for (var i = 0; i < N; i++)
        {
            await ValueTask.CompletedTask;
        }
    }

    [Benchmark(OperationsPerInvoke = N, Description = "await Live.UpdatePointAsync(\"x\")")]
    public async ValueTask AwaitUpdatePointAsync()
    {
        for (var i = 0; i < N; i++)
        {
            await Live.UpdatePointAsync("x");
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Empty()
    {
    }
}
