namespace Molt.Hosting.Tests.Updating;

/// <summary>
/// A stop requested while an update is in flight rolls the update back (the operator's guide promises it): the update sees
/// the stop at its next step, the old version gets back exactly the state it had, and then stops cleanly (its units leave
/// by exception, their finally blocks run). The new version's code signals where it is and waits for the test's word, so
/// that the stop lands in the phase each test names.
/// </summary>
public class StopDuringUpdateTests
{
    // The unit's finally block runs when the program stops: it writes the state the old version ended with.
    private const string V1 = TestPrograms.Usings + """
        public class Box { public int Value; public List<string> Items = new(); }
        public static class Program
        {
            public static Box State = new();
            public static async Task Main(string[] args)
            {
                if (!Live.IsUpdating)
                {
                    State.Value = 42;
                    State.Items.Add("x");
                    Live.StartUnit("keeper", args[0], Keep);
                }
                await Live.RunAsync();
            }
            public static async Task Keep(string file)
            {
                try
                {
                    while (true)
                    {
                        await Live.UpdatePointAsync("keep");
                        try { await Task.Delay(5, Live.UpdateRequested); } catch (OperationCanceledException) { }
                    }
                }
                finally
                {
                    System.IO.File.WriteAllText(file, "stopped v1 " + Report());
                }
            }
            public static string Report() => $"{State.Value};{string.Join(",", State.Items)}";
        }
        """;

    /// <summary>The new version: the same state; <paramref name="extra"/> and <paramref name="onUpdate"/> (in Main under IsUpdating) wait where the test says.</summary>
    private static string V2(string extra, string onUpdate) => TestPrograms.Usings + """
        public class Box { public int Value; public List<string> Items = new(); }
        public static class Program
        {
            public static Box State = new();
            public static async Task Main(string[] args)
            {
                if (Live.IsUpdating)
                {
        """ + onUpdate + """

                }
                await Live.RunAsync();
            }
            public static async Task Keep(string file)
            {
                while (true) { await Live.UpdatePointAsync("keep"); await Task.Delay(5); }
            }
            // Signals that the new version's code is running, then waits for the test's word.
            static void Hold(string name)
            {
                State.Items.Add("by-v2");
                ((ManualResetEventSlim)AppContext.GetData(name + ".entered")!).Set();
                ((ManualResetEventSlim)AppContext.GetData(name + ".release")!).Wait(TimeSpan.FromSeconds(30));
            }
        """ + extra + """

        }
        """;

    [Fact]
    public async Task Stop_WhileAnAfterTransferStepRuns_RollsBackAndTheOldVersionStopsWithItsState()
    {
        const string name = "StopInTransfer";
        var (result, stopped) = await StopDuring(name, V2("[AfterTransfer] static void Step(OldVersion old) => Hold(\"StopInTransfer\");", ""));

        Assert.Equal(UpdateOutcome.RolledBack, result.Outcome);
        Assert.Equal(UpdatePhase.Transfer, result.Failure!.Phase);
        Assert.Contains("the program is stopping", result.Failure.Message, StringComparison.Ordinal);
        // The step added to a list both versions shared; the old version stopped with the list as it had it.
        Assert.Equal("stopped v1 42;x", stopped);
        Assert.Equal(true, result.FailedVersionUnloaded);
    }

    [Fact]
    public async Task Stop_WhileTheNewVersionStartsUp_RollsBackAndTheOldVersionStopsWithItsState()
    {
        const string name = "StopInRestart";
        var (result, stopped) = await StopDuring(name, V2("", "Hold(\"StopInRestart\");"));

        Assert.Equal(UpdateOutcome.RolledBack, result.Outcome);
        Assert.Equal(UpdatePhase.Restart, result.Failure!.Phase);
        Assert.Contains("the program is stopping", result.Failure.Message, StringComparison.Ordinal);
        Assert.Equal("stopped v1 42;x", stopped);
        Assert.True(result.FailedVersionUnloaded == true, result.ToString());
    }

    [Fact]
    public async Task Stop_WhileTheUpdateWaitsForUnitsToPark_RollsBackAndTheOldVersionStopsWithItsState()
    {
        // The unit waits on a gate the update token does not wake: the update waits for it in its quiescence phase.
        const string v1 = TestPrograms.Usings + """
            public static class Program
            {
                public static List<string> Items = new();
                public static async Task Main(string[] args)
                {
                    Items.Add("x");
                    Live.StartThreadUnit("gated", args[0], Gated);
                    await Live.RunAsync();
                }
                public static void Gated(string file)
                {
                    var gate = (ManualResetEventSlim)AppContext.GetData("StopInQuiesce.release")!;
                    var waiting = (ManualResetEventSlim)AppContext.GetData("StopInQuiesce.waiting")!;
                    try { while (true) { Live.UpdatePoint("gated"); waiting.Set(); gate.Wait(); Thread.Sleep(1); } }
                    finally { System.IO.File.WriteAllText(file, "stopped v1 " + string.Join(",", Items)); }
                }
            }
            """;
        var file = Path.Combine(Path.GetTempPath(), $"molt-StopInQuiesce-{Guid.NewGuid():N}.txt");
        using var release = new ManualResetEventSlim(false);
        using var waiting = new ManualResetEventSlim(false);
        using var prepared = new ManualResetEventSlim(false);
        AppContext.SetData("StopInQuiesce.release", release);
        AppContext.SetData("StopInQuiesce.waiting", waiting);
        try
        {
            var host = await MoltHost.StartAsync(TestPrograms.Build("StopInQuiesce", "v1", v1), [file],
                new MoltHostOptions { QuiesceTimeout = TimeSpan.FromMinutes(5) });
            // The unit is past its update point and blocked on the gate before the update starts, so it cannot park.
            Assert.True(waiting.Wait(TimeSpan.FromSeconds(30)), "the unit never reached its gate");
            var update = host.UpdateAsync(TestPrograms.Build("StopInQuiesce", "v2", v1 + "\n// v2"),
                new UpdateOptions { Progress = new OnPhase(UpdatePhase.Prepare, prepared) });
            Assert.True(prepared.Wait(TimeSpan.FromSeconds(60)), "the update never finished preparing");
            await Task.Delay(100); // The update is in its quiescence phase, waiting for the unit.

            var stop = host.StopAsync();
            var result = await update.WaitAsync(TimeSpan.FromSeconds(60));
            release.Set(); // The unit reaches its update point, where the stop ends it.
            await stop.WaitAsync(TimeSpan.FromSeconds(60));

            Assert.Equal(UpdateOutcome.RolledBack, result.Outcome);
            Assert.Equal(UpdatePhase.Quiesce, result.Failure!.Phase);
            Assert.Contains("the program is stopping", result.Failure.Message, StringComparison.Ordinal);
            Assert.Equal(true, result.FailedVersionUnloaded);
            Assert.Empty(host.Units);
            Assert.Equal("stopped v1 x", File.ReadAllText(file));
        }
        finally
        {
            release.Set();
            AppContext.SetData("StopInQuiesce.release", null);
            AppContext.SetData("StopInQuiesce.waiting", null);
            File.Delete(file);
        }
    }

    /// <summary>
    /// Starts v1, starts the update, waits until the new version's code holds, stops the host, lets the code go on, and
    /// returns the update's result and what the old version wrote as it stopped.
    /// </summary>
    private static async Task<(UpdateResult Result, string Stopped)> StopDuring(string name, string v2Source)
    {
        var file = Path.Combine(Path.GetTempPath(), $"molt-{name}-{Guid.NewGuid():N}.txt");
        using var entered = new ManualResetEventSlim(false);
        using var release = new ManualResetEventSlim(false);
        AppContext.SetData(name + ".entered", entered);
        AppContext.SetData(name + ".release", release);
        try
        {
            var v1 = TestPrograms.Build(name, "v1", V1);
            var v2 = TestPrograms.Build(name, "v2", v2Source);
            var host = await MoltHost.StartAsync(v1, [file]);
            // The transfer runs on the caller's thread: the update gets one of its own.
            var update = Task.Run(() => host.UpdateAsync(v2));
            Assert.True(entered.Wait(TimeSpan.FromSeconds(30)), "the new version's code never ran");

            var stop = host.StopAsync();
            Assert.False(stop.IsCompleted, "the stop did not wait for the update in flight");
            // The stop has been asked for; the new version's code now finishes its step, and the update sees the stop next.
            release.Set();
            var result = await update.WaitAsync(TimeSpan.FromSeconds(60));
            await stop.WaitAsync(TimeSpan.FromSeconds(60));

            Assert.Empty(host.Units);
            await Assert.ThrowsAsync<InvalidOperationException>(() => host.UpdateAsync(v2));
            Assert.True(File.Exists(file), "the old version's unit did not run its finally block: it did not stop cleanly; " + result);
            return (result, File.ReadAllText(file));
        }
        finally
        {
            release.Set();
            AppContext.SetData(name + ".entered", null);
            AppContext.SetData(name + ".release", null);
            File.Delete(file);
        }
    }

    /// <summary>Sets an event, on the update's own thread, when a phase completes.</summary>
    private sealed class OnPhase(UpdatePhase phase, ManualResetEventSlim completed) : IProgress<UpdateProgress>
    {
        public void Report(UpdateProgress value)
        {
            if (value.Phase == phase)
            {
                completed.Set();
            }
        }
    }
}
