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
