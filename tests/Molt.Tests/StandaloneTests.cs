namespace Molt.Tests;

/// <summary>
/// A program that references Molt but runs on its own (<c>dotnet run</c>): update points cost nothing and never
/// park, nothing is updating, units run and end like ordinary tasks and threads, and <see cref="Live.RunAsync"/>
/// waits for them.
/// </summary>
/// <remarks>These tests share the process's standalone program, so they run one at a time (one class) and every unit they start ends.</remarks>
public class StandaloneTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    public sealed class Probe
    {
        public readonly TaskCompletionSource Release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly TaskCompletionSource<string> Seen = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Rounds;
    }

    [Fact]
    public void UpdatePoints_OutsideAnyUnit_AreNoOps()
    {
        Live.UpdatePoint("sync");
        var point = Live.UpdatePointAsync("async");

        Assert.True(point.IsCompletedSuccessfully);
        Assert.False(Live.IsUpdating);
        Assert.Null(Live.ResumedFrom);
        Assert.Null(Live.CurrentUnit);
        Assert.False(Live.UpdateRequested.IsCancellationRequested);
    }

    private static async Task Observe(Probe p)
    {
        for (var i = 0; i < 100; i++)
        {
            var point = Live.UpdatePointAsync("observe");
            if (!point.IsCompletedSuccessfully)
            {
                p.Seen.TrySetResult("an update point parked");
                return;
            }
            Live.UpdatePoint("observe-sync");
            p.Rounds++;
        }
        p.Seen.TrySetResult($"{Live.CurrentUnit} updating={Live.IsUpdating} resumed={Live.ResumedFrom ?? "null"} cancelled={Live.UpdateRequested.IsCancellationRequested}");
    }

    private static void ObserveOnThread(Probe p) => Observe(p).GetAwaiter().GetResult();

    [Fact]
    public async Task Units_RunTheirUpdatePointsAsNoOps_AndKnowTheirName()
    {
        var task = new Probe();
        var thread = new Probe();

        Live.StartUnit("standalone-observe-task", task, Observe);
        Live.StartThreadUnit("standalone-observe-thread", thread, ObserveOnThread);

        Assert.Equal("standalone-observe-task updating=False resumed=null cancelled=False", await task.Seen.Task.WaitAsync(Patience));
        Assert.Equal("standalone-observe-thread updating=False resumed=null cancelled=False", await thread.Seen.Task.WaitAsync(Patience));
        Assert.Equal(100, task.Rounds);
        Assert.Equal(100, thread.Rounds);
    }

    private static async Task WaitForRelease(Probe p)
    {
        p.Seen.TrySetResult(Live.CurrentUnit!);
        await p.Release.Task.WaitAsync(Patience);
    }

    private static void WaitForReleaseOnThread(Probe p) => WaitForRelease(p).GetAwaiter().GetResult();

    private Task InstanceEntry(Probe p) => p.Release.Task;

    [Fact]
    public void StartUnit_RejectsLambdasInstanceMethodsAndLocalFunctions()
    {
        var probe = new Probe();

        var lambda = Assert.Throws<ArgumentException>(() => Live.StartUnit("standalone-lambda", probe, p => p.Release.Task));
        var staticLambda = Assert.Throws<ArgumentException>(() => Live.StartUnit("standalone-static-lambda", probe, static p => p.Release.Task));
        var instance = Assert.Throws<ArgumentException>(() => Live.StartUnit("standalone-instance", probe, InstanceEntry));
        var local = Assert.Throws<ArgumentException>(() => Live.StartUnit("standalone-local", probe, Local));
        var threadLambda = Assert.Throws<ArgumentException>(() => Live.StartThreadUnit("standalone-thread-lambda", probe, p => p.Rounds++));

        Assert.All(new[] { lambda, staticLambda, instance, local, threadLambda }, e =>
        {
            Assert.Equal("entry", e.ParamName);
            Assert.Contains("static, named method", e.Message);
        });
        Assert.False(probe.Seen.Task.IsCompleted);

        static Task Local(Probe p) => p.Release.Task;
    }

    [Fact]
    public async Task StartUnit_WithTheNameOfARunningUnit_Throws()
    {
        var first = new Probe();
        var second = new Probe();
        Live.StartUnit("standalone-dup", first, WaitForRelease);
        Assert.Equal("standalone-dup", await first.Seen.Task.WaitAsync(Patience));
        try
        {
            var error = Assert.Throws<InvalidOperationException>(() => Live.StartUnit("standalone-dup", second, WaitForRelease));
            Assert.Contains("standalone-dup", error.Message);
            Assert.Throws<InvalidOperationException>(() => Live.StartThreadUnit("standalone-dup", second, WaitForReleaseOnThread));
            Assert.False(second.Seen.Task.IsCompleted);
        }
        finally
        {
            first.Release.SetResult();
        }
    }

    [Fact]
    public async Task RunAsync_ReturnsWhenEveryUnitHasEnded()
    {
        var task = new Probe();
        var thread = new Probe();
        Live.StartUnit("standalone-run-task", task, WaitForRelease);
        Live.StartThreadUnit("standalone-run-thread", thread, WaitForReleaseOnThread);
        await task.Seen.Task.WaitAsync(Patience);
        await thread.Seen.Task.WaitAsync(Patience);

        var running = Live.RunAsync();

        Assert.False(running.IsCompleted);
        task.Release.SetResult();
        await Eventually(() => ProgramSession.Standalone.DescribeUnits().All(u => u.Name != "standalone-run-task"));
        // One unit ended, one still runs: still running.
        Assert.False(running.IsCompleted);
        thread.Release.SetResult();
        await running.WaitAsync(Patience);
    }

    private static async Task Eventually(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Not true within {Patience.TotalSeconds} s.");
            await Task.Delay(10);
        }
    }
}
