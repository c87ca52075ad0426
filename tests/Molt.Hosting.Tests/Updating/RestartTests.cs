using static Molt.Hosting.Tests.Updating.UpdatingTestKit;

namespace Molt.Hosting.Tests.Updating;

/// <summary>
/// The restart: the new version's Main and units must start and reach their first update point. When they do
/// not, the update rolls back, and the old version's units go on with their state as if nothing happened.
/// </summary>
[Collection(UpdatingCollection.Name)]
public class RestartTests
{
    /// <summary>A counter program; <paramref name="mainPrologue"/> and <paramref name="counterPrologue"/> make a faulty version.</summary>
    private static string Source(string version, string mainPrologue = "", string counterPrologue = "") => TestPrograms.Usings + """
        public class Tally { public long Count; }
        public static class Program
        {
            public static Tally Counter = new(), ThreadCounter = new();
            public static async Task Main(string[] args)
            {
                MAIN_PROLOGUE
                if (!Live.IsUpdating)
                {
                    Live.StartUnit("counter", Counter, CountAsync);
                    Live.StartThreadUnit("thread-counter", ThreadCounter, CountOnThread);
                }
                await Live.RunAsync();
            }
            public static async Task CountAsync(Tally t)
            {
                COUNTER_PROLOGUE
                while (true) { await Live.UpdatePointAsync("count"); t.Count++; try { await Task.Delay(2, Live.UpdateRequested); } catch (OperationCanceledException) { } }
            }
            public static void CountOnThread(Tally t)
            {
                while (true) { Live.UpdatePoint("count-thread"); t.Count++; Live.UpdateRequested.WaitHandle.WaitOne(2); }
            }
            public static long[] Counts() => new[] { Counter.Count, ThreadCounter.Count };
            public static string Version() => "VERSION";
        }
        """
        .Replace("MAIN_PROLOGUE", mainPrologue, StringComparison.Ordinal)
        .Replace("COUNTER_PROLOGUE", counterPrologue, StringComparison.Ordinal)
        .Replace("VERSION", version, StringComparison.Ordinal);

    [Fact]
    public async Task NewMainThrowing_RollsBackInRestart_OldUnitsGoOnWithTheirState()
    {
        var v1 = TestPrograms.Build("RestartMainThrows", "v1", Source("v1"));
        var bad = TestPrograms.Build("RestartMainThrows", "bad", Source("bad",
            mainPrologue: """if (Live.IsUpdating) throw new InvalidOperationException("bad start-up");"""));
        var v2 = TestPrograms.Build("RestartMainThrows", "v2", Source("v2"));
        await using var host = await StartAsync(v1);

        await AssertRollsBackThenCommits(host, bad, v2, message =>
            Assert.Contains("start-up (its Main) threw InvalidOperationException: bad start-up", message));
    }

    [Fact]
    public async Task NewUnitThrowingBeforeItsFirstUpdatePoint_RollsBackInRestart()
    {
        var v1 = TestPrograms.Build("RestartUnitThrows", "v1", Source("v1"));
        var bad = TestPrograms.Build("RestartUnitThrows", "bad", Source("bad",
            counterPrologue: """if (Live.ResumedFrom != null) throw new InvalidOperationException("cannot resume");"""));
        var v2 = TestPrograms.Build("RestartUnitThrows", "v2", Source("v2"));
        await using var host = await StartAsync(v1);

        await AssertRollsBackThenCommits(host, bad, v2, message =>
            Assert.Contains("Unit 'counter' of the new version threw InvalidOperationException: cannot resume", message));
    }

    [Fact]
    public async Task NewUnitLateForItsFirstUpdatePoint_RollsBackAtTheRestartDeadline()
    {
        var v1 = TestPrograms.Build("RestartUnitLate", "v1", Source("v1"));
        // Bounded, so that the rolled-back unit eventually reaches an update point and retires.
        var bad = TestPrograms.Build("RestartUnitLate", "bad", Source("bad",
            counterPrologue: "await Task.Delay(TimeSpan.FromSeconds(15));"));
        var v2 = TestPrograms.Build("RestartUnitLate", "v2", Source("v2"));
        await using var host = await StartAsync(v1, Options(o => o.RestartTimeout = TimeSpan.FromSeconds(2)));

        await AssertRollsBackThenCommits(host, bad, v2, message =>
            Assert.Contains("1 unit of the new version did not reach an update point within 2 s: 'counter'", message));
    }

    // A start-up that outlives its update: it says it started (file "main-started" in args[0]), waits for the
    // test's "go", then tries to start a unit and writes what happened to "main-done".
    private const string SlowMain = """
        if (Live.IsUpdating)
        {
            var dir = args[0];
            System.IO.File.WriteAllText(System.IO.Path.Combine(dir, "main-started"), "");
            for (var i = 0; i < 3000 && !System.IO.File.Exists(System.IO.Path.Combine(dir, "go")); i++) { await Task.Delay(10); }
            string outcome;
            try { Live.StartUnit("late", new Tally(), CountAsync); outcome = "started"; }
            catch (InvalidOperationException e) { outcome = "refused: " + e.Message; }
            System.IO.File.WriteAllText(System.IO.Path.Combine(dir, "main-done"), outcome);
            return;
        }
        """;

    [Fact]
    public async Task NewMainOutlivingTheRestartDeadline_RollsBack_AndCannotStartUnitsInTheOldVersion()
    {
        var dir = Directory.CreateTempSubdirectory("molt-slow-main-").FullName;
        try
        {
            var v1 = TestPrograms.Build("RestartSlowMain", "v1", Source("v1"));
            var bad = TestPrograms.Build("RestartSlowMain", "bad", Source("bad", mainPrologue: SlowMain));
            var v2 = TestPrograms.Build("RestartSlowMain", "v2", Source("v2"));
            await using var host = await StartAsync(v1, Options(o => o.RestartTimeout = TimeSpan.FromSeconds(1)), args: [dir]);

            var failed = await host.UpdateAsync(bad);

            Assert.Contains("start-up (its Main) did not return within 1 s", AssertRolledBack(failed, UpdatePhase.Restart));
            await AssertLateStartUpIsRefused(host, dir);
            AssertCommitted(await host.UpdateAsync(v2));
            Assert.Equal("v2", Call<string>(host, "Version"));
            Assert.Equal(["counter", "thread-counter"], host.Units.Select(u => u.Name));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task UpdateCancelledDuringTheRestart_RollsBack_AndTheOldVersionGoesOn()
    {
        var dir = Directory.CreateTempSubdirectory("molt-cancel-restart-").FullName;
        try
        {
            var v1 = TestPrograms.Build("RestartCancelled", "v1", Source("v1"));
            var bad = TestPrograms.Build("RestartCancelled", "bad", Source("bad", mainPrologue: SlowMain));
            var v2 = TestPrograms.Build("RestartCancelled", "v2", Source("v2"));
            await using var host = await StartAsync(v1, args: [dir]);
            using var cancel = new CancellationTokenSource();
            var updating = Task.Run(() => host.UpdateAsync(bad, cancel.Token));
            await Eventually(() => File.Exists(Path.Combine(dir, "main-started")), "the new Main runs");

            await cancel.CancelAsync();
            var failed = await updating;

            Assert.Contains("cancelled by its caller", AssertRolledBack(failed, UpdatePhase.Restart));
            await AssertLateStartUpIsRefused(host, dir);
            AssertCommitted(await host.UpdateAsync(v2));
            Assert.Equal("v2", Call<string>(host, "Version"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The rolled-back start-up, let go on, cannot add a unit to the running version; the old units go on.</summary>
    private static async Task AssertLateStartUpIsRefused(MoltHost host, string dir)
    {
        var counts = Call<long[]>(host, "Counts");
        File.WriteAllText(Path.Combine(dir, "go"), "");
        var done = Path.Combine(dir, "main-done");
        // The file may be seen created before it is written.
        await Eventually(() => File.Exists(done) && File.ReadAllText(done).Length > 0, "the rolled-back start-up finishes");
        Assert.StartsWith("refused", File.ReadAllText(done), StringComparison.Ordinal);
        Assert.Equal(["counter", "thread-counter"], host.Units.Select(u => u.Name));
        Assert.Equal("v1", Call<string>(host, "Version"));
        await Eventually(() => Call<long[]>(host, "Counts") is var c && c[0] > counts[0] + 5 && c[1] > counts[1] + 5, "the old units go on");
        File.Delete(Path.Combine(dir, "go"));
        File.Delete(Path.Combine(dir, "main-done"));
    }

    /// <summary>
    /// The update to <paramref name="bad"/> rolls back in the restart: v1 serves on with its counters intact; then
    /// the update to <paramref name="good"/> commits.
    /// </summary>
    private static async Task AssertRollsBackThenCommits(MoltHost host, string bad, string good, Action<string> checkMessage)
    {
        await Eventually(() => Call<long[]>(host, "Counts").All(c => c > 5), "the counters count");
        var before = Call<long[]>(host, "Counts");

        var failed = await host.UpdateAsync(bad);

        checkMessage(AssertRolledBack(failed, UpdatePhase.Restart));
        Assert.True(failed.PauseTime > TimeSpan.Zero, failed.ToString());
        Assert.Equal("v1", Call<string>(host, "Version"));
        Assert.Equal(0, host.Version.Generation);
        Assert.Equal(["counter", "thread-counter"], host.Units.Select(u => u.Name));
        Assert.All(host.Units, u => Assert.Null(u.ResumedFrom));
        var atFailure = Call<long[]>(host, "Counts");
        Assert.True(atFailure[0] >= before[0] && atFailure[1] >= before[1], "the counters kept their state");
        await Eventually(() => Call<long[]>(host, "Counts") is var c && c[0] > atFailure[0] + 5 && c[1] > atFailure[1] + 5,
            "the old units go on after the rollback");

        var committed = await host.UpdateAsync(good);

        AssertCommitted(committed);
        Assert.Equal("v2", Call<string>(host, "Version"));
        Assert.Equal(["counter (from 'count')", "thread-counter (from 'count-thread')"], committed.ResumedUnits.Order(StringComparer.Ordinal));
        var resumed = Call<long[]>(host, "Counts");
        Assert.True(resumed[0] >= atFailure[0] && resumed[1] >= atFailure[1], "v2 resumed from v1's counters");
        await Eventually(() => Call<long[]>(host, "Counts") is var c && c[0] > resumed[0] + 5 && c[1] > resumed[1] + 5, "the units count in v2");
        Assert.Equal([UpdateOutcome.RolledBack, UpdateOutcome.Committed], host.History.Select(r => r.Outcome));
    }
}
