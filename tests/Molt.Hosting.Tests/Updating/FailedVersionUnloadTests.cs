using static Molt.Hosting.Tests.Transfer.TransferTestKit;

namespace Molt.Hosting.Tests.Updating;

/// <summary>
/// A version that was refused or rolled back is unloaded and proven collected, as a retired one is after a commit: a
/// hundred failed updates in a row leave nothing behind, and the old version serves on with its state.
/// </summary>
public class FailedVersionUnloadTests
{
    private const string V1 = """
        public class Counter { public int Value; }
        public static partial class Program
        {
            public static Counter Count = new();
            public static List<string> Log = new();
            static void Init() { Count.Value = 7; Log.Add("start"); }
            public static string Report() => $"{Count.Value};{string.Join(",", Log)}";
        }
        """;

    /// <summary>The new version: V1's state, plus what makes it fail.</summary>
    private static string V2(string failure, string counterField = "public int Value;") => Program($$"""
        public class Counter { {{counterField}} public byte[] Ballast = new byte[1024]; }
        public static partial class Program
        {
            public static Counter Count = new();
            public static List<string> Log = new();
            static void Init() { }
            public static string Report() => "v2";
            {{failure}}
        }
        """, ticker: true);

    [Fact]
    public async Task HundredFailedUpdates_InEveryPhase_EachFailedVersionIsCollected()
    {
        var v1 = TestPrograms.Build("ManyFailed", "v1", Program(V1, ticker: true));
        // Each way an update fails after the new version was loaded: refused at prepare (a change nothing covers), rolled back
        // at transfer (an after-transfer step throws), at the state check, and at restart (its Main throws).
        var failing = new (string Path, UpdateOutcome Outcome, UpdatePhase Phase)[]
        {
            (TestPrograms.Build("ManyFailed", "refused", V2("", counterField: "public string Value;")), UpdateOutcome.Refused, UpdatePhase.Prepare),
            (TestPrograms.Build("ManyFailed", "transfer", V2("""[AfterTransfer] static void Step(OldVersion old) { Log.Add("step"); throw new InvalidOperationException("no"); }""")),
                UpdateOutcome.RolledBack, UpdatePhase.Transfer),
            (TestPrograms.Build("ManyFailed", "check", V2("""[StateCheck] static bool Check() { Log.Add("check"); return false; }""")),
                UpdateOutcome.RolledBack, UpdatePhase.StateCheck),
            (TestPrograms.Build("ManyFailed", "restart", V2("").Replace("if (!Live.IsUpdating)",
                "if (Live.IsUpdating) { Log.Add(\"main\"); throw new InvalidOperationException(\"start-up failed\"); }\n if (!Live.IsUpdating)", StringComparison.Ordinal)),
                UpdateOutcome.RolledBack, UpdatePhase.Restart),
            // Its start-up starts a thread unit, then a unit of it throws before its first update point: the thread must end too.
            (TestPrograms.Build("ManyFailed", "restart-thread", V2("""
                public static void Work(Counter c) { while (true) { Live.UpdatePoint("work"); Thread.Sleep(1); } }
                public static async Task Fail(Counter c) { await Task.Yield(); throw new InvalidOperationException("unit failed"); }
                """).Replace("if (!Live.IsUpdating)",
                "if (Live.IsUpdating) { Live.StartThreadUnit(\"worker\", new Counter(), Work); Live.StartUnit(\"failing\", new Counter(), Fail); }\n if (!Live.IsUpdating)", StringComparison.Ordinal)),
                UpdateOutcome.RolledBack, UpdatePhase.Restart),
        };
        await using var host = await MoltHost.StartAsync(v1);

        for (var i = 0; i < 100; i++)
        {
            var (path, outcome, phase) = failing[i % failing.Length];
            var result = await host.UpdateAsync(path);

            Assert.True(result.Outcome == outcome, $"update {i}: {result}");
            Assert.Equal(phase, result.Failure!.Phase);
            Assert.True(result.FailedVersionUnloaded == true, $"update {i}: the failed version was not collected: {result}");
            Assert.Null(result.OldVersionUnloaded);
        }

        Assert.Equal(0, host.Version.Generation);
        // Each step, check and start-up added to a list both versions shared: every rollback put it back.
        Assert.Equal("7;start", Report(host));
        await AssertStillTicking(host);
        // Nothing of the failed versions is loaded: only the running version's context has the program's name.
        var loaded = System.Runtime.Loader.AssemblyLoadContext.All.Count(c => c.Name?.EndsWith(":ManyFailed", StringComparison.Ordinal) == true);
        Assert.Equal(1, loaded);
    }

    [Fact]
    public async Task Update_ToAProgramThatDoesNotExist_IsRefusedWithNothingToCollect()
    {
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("FailedMissing", "v1", Program(V1)));

        var result = await host.UpdateAsync(Path.Combine(Path.GetTempPath(), "no-such-program", "Missing.dll"));

        Assert.Equal(UpdateOutcome.Refused, result.Outcome);
        Assert.Null(result.FailedVersionUnloaded);
    }
}
