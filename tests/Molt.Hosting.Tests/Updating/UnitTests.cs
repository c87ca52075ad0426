using static Molt.Hosting.Tests.Updating.UpdatingTestKit;

namespace Molt.Hosting.Tests.Updating;

/// <summary>
/// Units across an update: each unit of the old version goes on in the new one with its state transformed,
/// knowing where it was parked; the new version can add units, drop them, or claim them in its Main.
/// </summary>
[Collection(UpdatingCollection.Name)]
public class UnitTests
{
    // Each unit alternates between two update points, so the parity of its count says where it was parked:
    // even at "*-even", odd at "*-odd". The statics and the units share the state objects.
    private const string ResumeV1 = TestPrograms.Usings + """
        public class Tally { public long Count; }
        public static class Program
        {
            public static Tally AsyncTally, ThreadTally;
            public static async Task Main(string[] args)
            {
                if (!Live.IsUpdating)
                {
                    AsyncTally = new Tally(); ThreadTally = new Tally();
                    Live.StartUnit("async", AsyncTally, CountAsync);
                    Live.StartThreadUnit("thread", ThreadTally, CountOnThread);
                }
                await Live.RunAsync();
            }
            public static async Task CountAsync(Tally t)
            {
                while (true)
                {
                    await Live.UpdatePointAsync("async-even"); t.Count++; await Nap();
                    await Live.UpdatePointAsync("async-odd"); t.Count++; await Nap();
                }
            }
            public static void CountOnThread(Tally t)
            {
                while (true)
                {
                    Live.UpdatePoint("thread-even"); t.Count++; Live.UpdateRequested.WaitHandle.WaitOne(2);
                    Live.UpdatePoint("thread-odd"); t.Count++; Live.UpdateRequested.WaitHandle.WaitOne(2);
                }
            }
            static async Task Nap() { try { await Task.Delay(2, Live.UpdateRequested); } catch (OperationCanceledException) { } }
            public static long[] Counts() => new[] { AsyncTally.Count, ThreadTally.Count };
            public static string Version() => "v1";
        }
        """;

    // v2: Tally records, on resume, where the old unit was parked, the count it had, and the unit's name;
    // each unit resumes at the half of its loop that follows the update point it was parked at.
    private const string ResumeV2 = TestPrograms.Usings + """
        public class Tally { public long Count; public string ResumedFrom; public long CountAtResume = -1; public string Unit; }
        public static class Program
        {
            public static Tally AsyncTally, ThreadTally;
            public static async Task Main(string[] args)
            {
                if (!Live.IsUpdating)
                {
                    AsyncTally = new Tally(); ThreadTally = new Tally();
                    Live.StartUnit("async", AsyncTally, CountAsync);
                    Live.StartThreadUnit("thread", ThreadTally, CountOnThread);
                }
                await Live.RunAsync();
            }
            static void Resumed(Tally t) { t.ResumedFrom = Live.ResumedFrom; t.CountAtResume = t.Count; t.Unit = Live.CurrentUnit; }
            public static async Task CountAsync(Tally t)
            {
                Resumed(t);
                var odd = t.ResumedFrom == "async-odd";
                while (true)
                {
                    if (!odd) { await Live.UpdatePointAsync("async-even"); t.Count++; await Nap(); }
                    odd = false;
                    await Live.UpdatePointAsync("async-odd"); t.Count++; await Nap();
                }
            }
            public static void CountOnThread(Tally t)
            {
                Resumed(t);
                var odd = t.ResumedFrom == "thread-odd";
                while (true)
                {
                    if (!odd) { Live.UpdatePoint("thread-even"); t.Count++; Live.UpdateRequested.WaitHandle.WaitOne(2); }
                    odd = false;
                    Live.UpdatePoint("thread-odd"); t.Count++; Live.UpdateRequested.WaitHandle.WaitOne(2);
                }
            }
            static async Task Nap() { try { await Task.Delay(2, Live.UpdateRequested); } catch (OperationCanceledException) { } }
            public static long[] Counts() => new[] { AsyncTally.Count, ThreadTally.Count };
            public static string Resume(string unit)
            {
                var t = unit == "async" ? AsyncTally : ThreadTally;
                return $"{t.Unit}|{t.ResumedFrom}|{t.CountAtResume}";
            }
            public static string Version() => "v2";
        }
        """;

    [Fact]
    public async Task Units_ResumeInNewVersion_WithTransformedStateAndTheirUpdatePoint()
    {
        var v1 = TestPrograms.Build("UnitResume", "v1", ResumeV1);
        var v2 = TestPrograms.Build("UnitResume", "v2", ResumeV2);
        await using var host = await StartAsync(v1);
        await Eventually(() => Call<long[]>(host, "Counts").All(c => c > 10), "both units count");
        var before = Call<long[]>(host, "Counts");

        var result = await host.UpdateAsync(v2);

        AssertCommitted(result);
        Assert.Equal("v2", Call<string>(host, "Version"));
        foreach (var (unit, index, kind) in new[] { ("async", 0, "task"), ("thread", 1, "thread") })
        {
            var parts = Call<string>(host, "Resume", unit).Split('|');
            var (name, resumedFrom, countAtResume) = (parts[0], parts[1], long.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(unit, name);
            // The state handed over is the old unit's: its count at the park, not a fresh one.
            Assert.True(countAtResume >= before[index], $"{unit}: resumed at {countAtResume}, had {before[index]} before the update");
            // ResumedFrom is the update point where the old unit was parked: its count's parity says which.
            Assert.Equal(countAtResume % 2 == 0 ? $"{unit}-even" : $"{unit}-odd", resumedFrom);
            Assert.Contains($"{unit} (from '{resumedFrom}')", result.ResumedUnits);
            var running = Unit(host, unit);
            Assert.Equal(kind, running.Kind);
            Assert.Equal(resumedFrom, running.ResumedFrom);
            // Seen at its update points (while any update in the process is pending, every pass is seen).
            Assert.Contains(running.LastUpdatePoint, new[] { $"{unit}-even", $"{unit}-odd" });
            // The static and the unit still share one state object: the unit's counting shows through the static.
            await Eventually(() => Call<long[]>(host, "Counts")[index] > countAtResume + 10, $"{unit} counts on in v2");
        }
        Assert.Empty(result.DroppedUnits);
        Assert.Equal(["async", "thread"], host.Units.Select(u => u.Name));
        Assert.All(host.Units, u => Assert.Equal("Running", u.Status));
    }

    [Fact]
    public async Task Units_AreListedByTheHostBeforeAnyUpdate()
    {
        var v1 = TestPrograms.Build("UnitList", "v1", ResumeV1);
        await using var host = await StartAsync(v1);

        var units = host.Units;

        Assert.Equal(["async", "thread"], units.Select(u => u.Name));
        Assert.Equal(["task", "thread"], units.Select(u => u.Kind));
        Assert.All(units, u => Assert.Null(u.ResumedFrom));
        Assert.All(units, u => Assert.Equal("Running", u.Status));
    }

    private const string AddDropV1 = TestPrograms.Usings + """
        public class Tally { public long Count; }
        public static class Program
        {
            public static Tally Kept = new(), Retiring = new();
            public static async Task Main(string[] args)
            {
                if (!Live.IsUpdating)
                {
                    Live.StartUnit("kept", Kept, Keep);
                    Live.StartThreadUnit("old-only", Retiring, OldOnly);
                }
                await Live.RunAsync();
            }
            public static async Task Keep(Tally t)
            {
                while (true) { await Live.UpdatePointAsync("keep"); t.Count++; try { await Task.Delay(2, Live.UpdateRequested); } catch (OperationCanceledException) { } }
            }
            public static void OldOnly(Tally t)
            {
                while (true) { Live.UpdatePoint("old-only"); t.Count++; Live.UpdateRequested.WaitHandle.WaitOne(2); }
            }
            public static long[] Counts() => new[] { Kept.Count, Retiring.Count };
        }
        """;

    // v2 removes OldOnly (its unit is dropped) and its Main starts a new unit, also while updating.
    private const string AddDropV2 = TestPrograms.Usings + """
        public class Tally { public long Count; }
        public static class Program
        {
            public static Tally Kept = new(), Retiring = new(), Added;
            public static async Task Main(string[] args)
            {
                if (!Live.IsUpdating)
                {
                    Live.StartUnit("kept", Kept, Keep);
                }
                Added = new Tally();
                Live.StartThreadUnit("new-only", Added, NewOnly);
                await Live.RunAsync();
            }
            public static async Task Keep(Tally t)
            {
                while (true) { await Live.UpdatePointAsync("keep"); t.Count++; try { await Task.Delay(2, Live.UpdateRequested); } catch (OperationCanceledException) { } }
            }
            public static void NewOnly(Tally t)
            {
                while (true) { Live.UpdatePoint("new-only"); t.Count++; Live.UpdateRequested.WaitHandle.WaitOne(2); }
            }
            public static long[] Counts() => new[] { Kept.Count, Retiring.Count, Added.Count };
        }
        """;

    [Fact]
    public async Task NewVersion_AddsAUnitInMain_AndDropsAUnitWhoseEntryIsGone()
    {
        var v1 = TestPrograms.Build("UnitAddDrop", "v1", AddDropV1);
        var v2 = TestPrograms.Build("UnitAddDrop", "v2", AddDropV2);
        await using var host = await StartAsync(v1);
        await Eventually(() => Call<long[]>(host, "Counts").All(c => c > 5), "both units count");

        var result = await host.UpdateAsync(v2);

        AssertCommitted(result);
        Assert.Equal(["old-only"], result.DroppedUnits);
        Assert.Equal(["kept (from 'keep')"], result.ResumedUnits);
        Assert.Equal(["kept", "new-only"], host.Units.Select(u => u.Name));
        Assert.Null(Unit(host, "new-only").ResumedFrom);
        Assert.Equal("thread", Unit(host, "new-only").Kind);
        var after = Call<long[]>(host, "Counts");
        await Eventually(() => Call<long[]>(host, "Counts") is var c && c[0] > after[0] + 5 && c[2] > after[2] + 5, "kept and new-only count in v2");
        // Nothing runs the dropped unit any more: its state is left as it was.
        Assert.Equal(after[1], Call<long[]>(host, "Counts")[1]);
    }

    private const string ClaimV1 = TestPrograms.Usings + """
        public class Tally { public long Count; public string Owner = "v1"; }
        public static class Program
        {
            public static Tally Current;
            public static async Task Main(string[] args)
            {
                Live.StartUnit("worker", new Tally(), Work);
                await Live.RunAsync();
            }
            public static async Task Work(Tally t)
            {
                Current = t;
                while (true) { await Live.UpdatePointAsync("work"); t.Count++; try { await Task.Delay(2, Live.UpdateRequested); } catch (OperationCanceledException) { } }
            }
            public static long Count() => Current?.Count ?? -1;
        }
        """;

    // v2's Main claims the unit by name with another entry method and a fresh state; the migrated state wins.
    private const string ClaimV2 = TestPrograms.Usings + """
        public class Tally { public long Count; public string Owner = "v1"; public string ClaimedBy; }
        public static class Program
        {
            public static Tally Current;
            public static async Task Main(string[] args)
            {
                Live.StartUnit("worker", new Tally { Count = -1000, Owner = "fresh" }, WorkV2);
                await Live.RunAsync();
            }
            public static async Task WorkV2(Tally t)
            {
                t.ClaimedBy = $"WorkV2 from {Live.ResumedFrom}";
                Current = t;
                while (true) { await Live.UpdatePointAsync("work-v2"); t.Count++; try { await Task.Delay(2, Live.UpdateRequested); } catch (OperationCanceledException) { } }
            }
            public static long Count() => Current?.Count ?? -1;
            public static string Describe() => $"{Current.Owner} {Current.ClaimedBy}";
        }
        """;

    [Fact]
    public async Task NewMain_ClaimingAUnitByName_GetsTheMigratedState()
    {
        var v1 = TestPrograms.Build("UnitClaim", "v1", ClaimV1);
        var v2 = TestPrograms.Build("UnitClaim", "v2", ClaimV2);
        await using var host = await StartAsync(v1);
        await Eventually(() => Call<long>(host, "Count") > 5, "worker counts");
        var before = Call<long>(host, "Count");

        var result = await host.UpdateAsync(v2);

        AssertCommitted(result);
        Assert.Equal("v1 WorkV2 from work", Call<string>(host, "Describe"));
        Assert.True(Call<long>(host, "Count") >= before, $"count {Call<long>(host, "Count")} after the update, {before} before");
        Assert.Equal(["worker (from 'work')"], result.ResumedUnits);
        Assert.Empty(result.DroppedUnits);
        var unit = Unit(host, "worker");
        Assert.Equal("work", unit.ResumedFrom);
        Assert.Equal("work-v2", unit.LastUpdatePoint);
        var resumed = Call<long>(host, "Count");
        await Eventually(() => Call<long>(host, "Count") > resumed + 5, "worker counts on in v2");
    }
}
