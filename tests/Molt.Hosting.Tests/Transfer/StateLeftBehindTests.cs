using static Molt.Hosting.Tests.Transfer.TransferTestKit;

namespace Molt.Hosting.Tests.Transfer;

/// <summary>
/// State the new version has no place for: a static that held data, dropped, and read by no transformer. Going forward
/// the result warns; going back (a rollback) the update fails and the newer version runs on with its state.
/// </summary>
public class StateLeftBehindTests
{
    // v1 keeps entries in one dictionary; v2 moves them into shards with an [AfterTransfer] step. v1 cannot read shards.
    private const string V1 = """
        public static partial class Program
        {
            public static Dictionary<string, int> Keys = new();
            static void Init() { Keys["a"] = 1; Keys["b"] = 2; }
            public static string Report() => string.Join(",", Keys.OrderBy(k => k.Key).Select(k => $"{k.Key}={k.Value}"));
        }
        """;

    private const string V2 = """
        public static partial class Program
        {
            public static Dictionary<string, int>[] Shards = [new(), new()];
            public static List<string> Journal = new();
            static void Init() { }
            [AfterTransfer]
            static void Restructure(OldVersion old)
            {
                foreach (var (key, value) in old.Statics("Program").Get<Dictionary<string, int>>("Keys"))
                    Shards[key[0] % 2][key] = value;
            }
            public static void Add() { Shards[0]["d"] = 4; Journal.Add("added d"); }
            public static string Report() => string.Join(",", Shards.SelectMany(s => s).OrderBy(k => k.Key).Select(k => $"{k.Key}={k.Value}"));
        }
        """;

    [Fact]
    public async Task Rollback_ThatWouldLeaveRestructuredStateBehind_FailsAndTheNewerVersionRunsOn()
    {
        var (host, result) = await StartAndUpdate("SLB_Back", Program(V1, ticker: true), Program(V2, ticker: true));
        await using var _ = host;
        AssertCommitted(result);
        Assert.Empty(result.Warnings); // v1's Keys was read by the step: nothing left behind going forward.
        Report(host, "Add");

        var back = await host.RollbackAsync();

        var failure = AssertRolledBackFrom(host, back, result.To);
        Assert.Contains("Going back to an older version would lose state", failure.Message);
        Assert.Contains("static Program.Shards (a System.Collections.Generic.Dictionary<System.String, System.Int32>[] of 2)", failure.Message);
        Assert.Contains("static Program.Journal (a System.Collections.Generic.List<System.String> of 1)", failure.Message);
        Assert.Equal("a=1,b=2,d=4", Report(host));
        await AssertStillTicking(host);
    }

    [Fact]
    public async Task UpdateToALowerVersion_ThatWouldLeaveStateBehind_FailsLikeARollback()
    {
        // Not through RollbackAsync: an operator "updates" v2 to the v1 build. A lower assembly version is a downgrade.
        var v1Path = TestPrograms.Build("SLB_Down", "v1", Program("[assembly: System.Reflection.AssemblyInformationalVersion(\"1.0.0\")]\n" + V1, ticker: true));
        var v2Path = TestPrograms.Build("SLB_Down", "v2", Program("[assembly: System.Reflection.AssemblyInformationalVersion(\"2.0.0\")]\n" + V2, ticker: true));
        await using var host = await MoltHost.StartAsync(v1Path);
        AssertCommitted(await host.UpdateAsync(v2Path));

        var down = await host.UpdateAsync(v1Path);

        var failure = AssertRolledBackFrom(host, down, down.From);
        Assert.Contains("Going back to an older version would lose state: static Program.Shards", failure.Message);
        Assert.Equal("a=1,b=2", Report(host));
    }

    [Fact]
    public async Task Update_ThatDropsAStaticHoldingDataUnread_Warns()
    {
        var v2 = Program("""
            public static partial class Program
            {
                public static Dictionary<string, int> Entries = new();
                static void Init() { }
                public static string Report() => Entries.Count.ToString();
            }
            """);
        var (host, result) = await StartAndUpdate("SLB_Fwd", Program(V1), v2);
        await using var _ = host;

        AssertCommitted(result);
        Assert.Equal("0", Report(host));
        var warning = Assert.Single(result.Warnings);
        Assert.Equal("static Program.Keys (a System.Collections.Generic.Dictionary<System.String, System.Int32> of 2) was dropped and no transformer read it: that state is not in the new version.", warning);
    }

    [Fact]
    public async Task Update_ThatDropsANotMigratedStatic_LeavesNothingBehind_GoingForwardOrBack()
    {
        // A [NotMigrated] static is code's data, not state (a table each version builds for itself): the version without it
        // loses nothing, a warning going forward and a refusal going back would both be wrong.
        var withTable = Program("""
            public static partial class Program
            {
                public static Dictionary<string, int> Keys = new();
                [NotMigrated] public static Dictionary<string, int> Table = new() { ["get"] = 1, ["set"] = 2 };
                static void Init() { Keys["a"] = 1; }
                public static string Report() => $"{Keys.Count} {Table.Count}";
            }
            """, ticker: true);
        var withoutTable = Program("""
            public static partial class Program
            {
                public static Dictionary<string, int> Keys = new();
                static void Init() { }
                public static string Report() => $"{Keys.Count}";
            }
            """, ticker: true);
        var (host, forward) = await StartAndUpdate("SLB_NotMigrated", withTable, withoutTable);
        await using var _ = host;
        AssertCommitted(forward);
        Assert.Empty(forward.Warnings);

        var back = await host.RollbackAsync();

        AssertCommitted(back);
        Assert.Equal("1 2", Report(host));
    }

    private static UpdateFailedException AssertRolledBackFrom(MoltHost host, UpdateResult result, ProgramVersionInfo running)
    {
        Assert.True(result.Outcome == UpdateOutcome.RolledBack, result.ToString());
        Assert.Equal(UpdatePhase.Transfer, result.Failure!.Phase);
        Assert.Equal(running, host.Version);
        return result.Failure;
    }
}
