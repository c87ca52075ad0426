using static Molt.Hosting.Tests.Updating.UpdatingTestKit;

namespace Molt.Hosting.Tests.Updating;

/// <summary>
/// Quiescence: every unit parks at an update point, with its work in flight, and none is lost; a unit that
/// does not arrive in time cancels the update, and the program goes on in the old version.
/// </summary>
[Collection(UpdatingCollection.Name)]
public class QuiescenceTests
{
    // Three task units and two thread units count as fast as their naps allow; each increment adds to the
    // unit's counter and to a total, together, under one lock. An update that lost, repeated or reset an
    // increment would break total == sum of counters.
    private const string InFlightV1 = TestPrograms.Usings + """
        public class Tally { public long Count; public string Name; }
        public static class Program
        {
            public static object Gate = new();
            public static long Total;
            public static List<Tally> All = new();
            public static async Task Main(string[] args)
            {
                if (!Live.IsUpdating)
                {
                    for (var i = 0; i < 3; i++) { var t = new Tally { Name = $"task-{i}" }; All.Add(t); Live.StartUnit(t.Name, t, CountAsync); }
                    for (var i = 0; i < 2; i++) { var t = new Tally { Name = $"thread-{i}" }; All.Add(t); Live.StartThreadUnit(t.Name, t, CountOnThread); }
                }
                await Live.RunAsync();
            }
            static void Add(Tally t) { lock (Gate) { t.Count++; Total++; } }
            public static async Task CountAsync(Tally t)
            {
                while (true)
                {
                    await Live.UpdatePointAsync("task");
                    Add(t);
                    if (t.Count % 4 == 0) { try { await Task.Delay(1, Live.UpdateRequested); } catch (OperationCanceledException) { } }
                    else { await Task.Yield(); }
                }
            }
            public static void CountOnThread(Tally t)
            {
                while (true)
                {
                    Live.UpdatePoint("thread");
                    Add(t);
                    if (t.Count % 4 == 0) { Live.UpdateRequested.WaitHandle.WaitOne(1); }
                }
            }
            public static long[] Snapshot() { lock (Gate) { return new[] { Total, All.Sum(t => t.Count) }.Concat(All.Select(t => t.Count)).ToArray(); } }
        }
        """;

    // v2 also counts, per unit, the increments it made itself.
    private const string InFlightV2 = TestPrograms.Usings + """
        public class Tally { public long Count; public string Name; public long CountedByV2; }
        public static class Program
        {
            public static object Gate = new();
            public static long Total;
            public static List<Tally> All = new();
            public static async Task Main(string[] args)
            {
                if (!Live.IsUpdating)
                {
                    for (var i = 0; i < 3; i++) { var t = new Tally { Name = $"task-{i}" }; All.Add(t); Live.StartUnit(t.Name, t, CountAsync); }
                    for (var i = 0; i < 2; i++) { var t = new Tally { Name = $"thread-{i}" }; All.Add(t); Live.StartThreadUnit(t.Name, t, CountOnThread); }
                }
                await Live.RunAsync();
            }
            static void Add(Tally t) { lock (Gate) { t.Count++; t.CountedByV2++; Total++; } }
            public static async Task CountAsync(Tally t)
            {
                while (true)
                {
                    await Live.UpdatePointAsync("task");
                    Add(t);
                    if (t.Count % 4 == 0) { try { await Task.Delay(1, Live.UpdateRequested); } catch (OperationCanceledException) { } }
                    else { await Task.Yield(); }
                }
            }
            public static void CountOnThread(Tally t)
            {
                while (true)
                {
                    Live.UpdatePoint("thread");
                    Add(t);
                    if (t.Count % 4 == 0) { Live.UpdateRequested.WaitHandle.WaitOne(1); }
                }
            }
            public static long[] Snapshot() { lock (Gate) { return new[] { Total, All.Sum(t => t.Count) }.Concat(All.Select(t => t.Count)).ToArray(); } }
            public static long[] CountedByV2() { lock (Gate) { return All.Select(t => t.CountedByV2).ToArray(); } }
            // Read under the lock in one go: counting goes on between two calls.
            public static long[] ResumedAt() { lock (Gate) { return All.Select(t => t.Count - t.CountedByV2).ToArray(); } }
        }
        """;

    [Fact]
    public async Task UnitsWithWorkInFlight_ParkAndContinueInNewVersion_LosingNoIncrement()
    {
        var v1 = TestPrograms.Build("QuiesceInFlight", "v1", InFlightV1);
        var v2 = TestPrograms.Build("QuiesceInFlight", "v2", InFlightV2);
        await using var host = await StartAsync(v1);
        await Eventually(() => Call<long[]>(host, "Snapshot").Skip(2).All(c => c > 20), "every unit counts");
        var before = Call<long[]>(host, "Snapshot");
        Assert.Equal(before[0], before[1]);

        var result = await host.UpdateAsync(v2);

        AssertCommitted(result);
        Assert.Equal(["task-0 (from 'task')", "task-1 (from 'task')", "task-2 (from 'task')", "thread-0 (from 'thread')", "thread-1 (from 'thread')"],
            result.ResumedUnits.Order(StringComparer.Ordinal));
        var previous = before;
        for (var sample = 0; sample < 5; sample++)
        {
            var last = previous;
            await Eventually(() => Call<long[]>(host, "Snapshot") is var s && s.Skip(2).Zip(last.Skip(2)).All(p => p.First > p.Second),
                $"every unit counts on (sample {sample})");
            var now = Call<long[]>(host, "Snapshot");
            Assert.True(now[0] == now[1], $"total {now[0]} != sum of counters {now[1]}");
            for (var i = 2; i < now.Length; i++)
            {
                Assert.True(now[i] >= previous[i], $"counter {i - 2} went back from {previous[i]} to {now[i]}");
            }
            previous = now;
        }
        // Each unit resumed in v2 from the count its v1 unit had reached (at least what it had before the update).
        var final = Call<long[]>(host, "Snapshot");
        var byV2 = Call<long[]>(host, "CountedByV2");
        var resumedAt = Call<long[]>(host, "ResumedAt");
        Assert.True(final[0] == final[1], $"total {final[0]} != sum of counters {final[1]}");
        for (var i = 0; i < byV2.Length; i++)
        {
            Assert.True(byV2[i] > 0, $"unit {i} did not count in v2");
            Assert.True(resumedAt[i] >= before[i + 2], $"unit {i} resumed at {resumedAt[i]}, had {before[i + 2]} before the update");
        }
    }

    // A thread unit blocks, before its first update point, on a wait that Live.UpdateRequested does not wake.
    private const string StuckV1 = TestPrograms.Usings + """
        public class Tally { public long Count; }
        public class Stuck { public long Rounds; }
        public static class Program
        {
            public static Tally Counter = new(), ThreadCounter = new();
            public static Stuck StuckState = new();
            [NotMigrated] public static ManualResetEventSlim Gate = new(false);
            public static async Task Main(string[] args)
            {
                if (!Live.IsUpdating)
                {
                    Live.StartUnit("counter", Counter, CountAsync);
                    Live.StartThreadUnit("thread-counter", ThreadCounter, CountOnThread);
                    Live.StartThreadUnit("stuck", StuckState, StuckFromStart);
                }
                await Live.RunAsync();
            }
            public static async Task CountAsync(Tally t)
            {
                while (true) { await Live.UpdatePointAsync("count"); t.Count++; try { await Task.Delay(2, Live.UpdateRequested); } catch (OperationCanceledException) { } }
            }
            public static void CountOnThread(Tally t)
            {
                while (true) { Live.UpdatePoint("count-thread"); t.Count++; Live.UpdateRequested.WaitHandle.WaitOne(2); }
            }
            public static void StuckFromStart(Stuck s)
            {
                Gate.Wait();
                while (true) { Live.UpdatePoint("stuck"); s.Rounds++; Live.UpdateRequested.WaitHandle.WaitOne(2); }
            }
            public static void Open() => Gate.Set();
            public static long[] Counts() => new[] { Counter.Count, ThreadCounter.Count, StuckState.Rounds };
            public static string Version() => "v1";
        }
        """;

    private const string StuckV2 = TestPrograms.Usings + """
        public class Tally { public long Count; }
        public class Stuck { public long Rounds; }
        public static class Program
        {
            public static Tally Counter = new(), ThreadCounter = new();
            public static Stuck StuckState = new();
            public static async Task Main(string[] args) => await Live.RunAsync();
            public static async Task CountAsync(Tally t)
            {
                while (true) { await Live.UpdatePointAsync("count"); t.Count++; try { await Task.Delay(2, Live.UpdateRequested); } catch (OperationCanceledException) { } }
            }
            public static void CountOnThread(Tally t)
            {
                while (true) { Live.UpdatePoint("count-thread"); t.Count++; Live.UpdateRequested.WaitHandle.WaitOne(2); }
            }
            public static void StuckFromStart(Stuck s)
            {
                while (true) { Live.UpdatePoint("stuck"); s.Rounds++; Live.UpdateRequested.WaitHandle.WaitOne(2); }
            }
            public static long[] Counts() => new[] { Counter.Count, ThreadCounter.Count, StuckState.Rounds };
            public static string Version() => "v2";
        }
        """;

    [Fact]
    public async Task UnitMissingTheQuiesceDeadline_CancelsTheUpdate_OthersGoOnInOldVersion_ThenAGoodUpdateCommits()
    {
        var v1 = TestPrograms.Build("QuiesceStuck", "v1", StuckV1);
        var v2 = TestPrograms.Build("QuiesceStuck", "v2", StuckV2);
        await using var host = await StartAsync(v1, Options(o => o.QuiesceTimeout = TimeSpan.FromMilliseconds(500)));
        await Eventually(() => Call<long[]>(host, "Counts").Take(2).All(c => c > 5), "the counters count");
        var before = Call<long[]>(host, "Counts");

        var failed = await host.UpdateAsync(v2);

        var message = AssertRolledBack(failed, UpdatePhase.Quiesce);
        Assert.Contains("unit 'stuck' has not reached an update point since it started", message);
        Assert.Equal("v1", Call<string>(host, "Version"));
        Assert.Equal(0, host.Version.Generation);
        Assert.Empty(failed.ResumedUnits);
        var atFailure = Call<long[]>(host, "Counts");
        Assert.True(atFailure[0] >= before[0] && atFailure[1] >= before[1], "the counters kept their state");
        await Eventually(() => Call<long[]>(host, "Counts") is var c && c[0] > atFailure[0] + 5 && c[1] > atFailure[1] + 5,
            "the other units go on in v1 after the failed update");
        Assert.Equal(["counter", "stuck", "thread-counter"], host.Units.Select(u => u.Name));
        Assert.Equal(0, Call<long[]>(host, "Counts")[2]);

        // Once the unit can reach its update point, the same update goes through.
        Call(host, "Open");
        await Eventually(() => Call<long[]>(host, "Counts")[2] > 0, "the stuck unit runs");
        var good = await host.UpdateAsync(v2);

        AssertCommitted(good);
        Assert.Equal("v2", Call<string>(host, "Version"));
        Assert.True(Call<long[]>(host, "Counts")[0] >= atFailure[0]);
    }

    // The unit is seen at an update point (by parking there during an update), and later blocks when told to.
    private static string LastSeenSource(string version) => TestPrograms.Usings + """
        public class Tally { public long Count; }
        public class Stuck { public long Rounds; }
        public static class Program
        {
            public static Tally Counter = new();
            public static volatile bool BlockNext, Blocked;
            [NotMigrated] public static ManualResetEventSlim Gate = new(false);
            public static async Task Main(string[] args)
            {
                if (!Live.IsUpdating)
                {
                    Live.StartUnit("counter", Counter, CountAsync);
                    Live.StartThreadUnit("stuck", new Stuck(), Run);
                }
                await Live.RunAsync();
            }
            public static async Task CountAsync(Tally t)
            {
                while (true) { await Live.UpdatePointAsync("count"); t.Count++; try { await Task.Delay(2, Live.UpdateRequested); } catch (OperationCanceledException) { } }
            }
            public static void Run(Stuck s)
            {
                while (true)
                {
                    Live.UpdatePoint("point-VERSION");
                    s.Rounds++;
                    if (BlockNext) { BlockNext = false; Blocked = true; Gate.Wait(); Blocked = false; }
                    Live.UpdateRequested.WaitHandle.WaitOne(2);
                }
            }
            public static void Block() => BlockNext = true;
            public static bool IsBlocked() => Blocked;
            public static void Open() => Gate.Set();
            public static long Count() => Counter.Count;
            public static string Version() => "VERSION";
        }
        """.Replace("VERSION", version, StringComparison.Ordinal);

    [Fact]
    public async Task UnitMissingTheQuiesceDeadline_IsReportedWithTheUpdatePointWhereItWasLastSeen()
    {
        var v1 = TestPrograms.Build("QuiesceLastSeen", "v1", LastSeenSource("v1"));
        var v2 = TestPrograms.Build("QuiesceLastSeen", "v2", LastSeenSource("v2"));
        var v3 = TestPrograms.Build("QuiesceLastSeen", "v3", LastSeenSource("v3"));
        await using var host = await StartAsync(v1, Options(o => o.QuiesceTimeout = TimeSpan.FromMilliseconds(500)));
        // v2's unit is seen at its first update point, where it parks during the restart.
        AssertCommitted(await host.UpdateAsync(v2));
        Assert.Equal("point-v2", Unit(host, "stuck").LastUpdatePoint);
        Call(host, "Block");
        await Eventually(() => Call<bool>(host, "IsBlocked"), "the unit blocks");
        var count = Call<long>(host, "Count");

        var failed = await host.UpdateAsync(v3);

        var message = AssertRolledBack(failed, UpdatePhase.Quiesce);
        Assert.Contains("unit 'stuck' was last seen at update point 'point-v2'", message);
        Assert.Equal("v2", Call<string>(host, "Version"));
        await Eventually(() => Call<long>(host, "Count") > count + 5, "the counter goes on in v2");

        Call(host, "Open");
        await Eventually(() => !Call<bool>(host, "IsBlocked"), "the unit runs again");
        AssertCommitted(await host.UpdateAsync(v3));
        Assert.Equal("v3", Call<string>(host, "Version"));
        Assert.True(Call<long>(host, "Count") >= count);
    }
}
