using static Molt.Hosting.Tests.Transfer.TransferTestKit;

namespace Molt.Hosting.Tests.Updating;

/// <summary>
/// Framework objects pass to the new version by reference: both versions share them until the commit. When the new
/// version's code changes a shared collection before the update rolls back — in a transformer, an [AfterTransfer] step,
/// a [StateCheck] or its Main under IsUpdating — the rollback puts it back as it was; one too large to snapshot is not
/// put back, and the rollback says so, by path.
/// </summary>
public class SharedStateRollbackTests
{
    private const string V1 = """
        public class Holder { public List<string> Tags = new(); public int Size; public byte[] Data = [5]; }
        public static partial class Program
        {
            public static List<string> Names = new();
            public static Dictionary<string, byte[]> Blobs = new();
            public static Holder Item = new();
            static void Init() { Names.Add("a"); Names.Add("b"); Blobs["k"] = [1, 2, 3]; Item.Tags.Add("t"); Item.Size = 1; }
            public static string Report() => $"{string.Join(",", Names)};{string.Join(",", Blobs.Select(b => $"{b.Key}={b.Value[0]}"))};{string.Join(",", Item.Tags)};{Item.Data[0]}";
        }
        """;

    /// <summary>The new version: the same state, with <paramref name="extra"/> (its transformers, steps and checks) and <paramref name="onUpdate"/> run by Main under IsUpdating.</summary>
    private static string V2(string extra, string onUpdate = "") => TestPrograms.Usings + "using System.Collections;\n\n" + """
        public class Holder { public List<string> Tags = new(); public int Size; public byte[] Data = [5]; }
        public static partial class Program
        {
            public static List<string> Names = new();
            public static Dictionary<string, byte[]> Blobs = new();
            public static Holder Item = new();
            public static string Report() => "v2";
            public static async Task Main(string[] args)
            {
                if (Live.IsUpdating)
                {
        """ + onUpdate + """

                }
                Live.StartUnit("ticker", new TickerState(), Tick);
                await Live.RunAsync();
            }
            public static async Task Tick(TickerState state)
            {
                while (true) { await Live.UpdatePointAsync("tick"); await Task.Delay(5); }
            }
        """ + extra + """

        }
        public class TickerState { public int Rounds; }
        """;

    public static TheoryData<string, string, string, UpdatePhase> Places => new()
    {
        {
            "transformer",
            """
            [TransformField(typeof(Holder), "Size")]
            static int Size(OldObject old) { old.Get<List<string>>("Tags").Add("by-transformer"); return 2; }
            [StateCheck] static bool Fails() => false;
            """,
            "", UpdatePhase.StateCheck
        },
        {
            "type-transformer",
            """
            [TransformType("Holder")]
            static void Fix(OldObject old, Holder target) { target.Tags.Clear(); target.Tags.Add("by-type-transformer"); }
            [StateCheck] static bool Fails() => false;
            """,
            "", UpdatePhase.StateCheck
        },
        {
            "after-transfer",
            """
            [AfterTransfer] static void Step(OldVersion old) { Blobs["k"] = [9]; Blobs["by-step"] = [9]; throw new InvalidOperationException("step failed"); }
            """,
            "", UpdatePhase.Transfer
        },
        {
            "state-check",
            """
            [StateCheck] static bool Check() { Names.Add("by-check"); return false; }
            """,
            "", UpdatePhase.StateCheck
        },
        {
            "main",
            "",
            """Names.Remove("a"); throw new InvalidOperationException("start-up failed");""", UpdatePhase.Restart
        },
        {
            // An array changed in place: a program object's byte[], passed by reference, written through.
            "array-in-place",
            """
            [AfterTransfer] static void Step(OldVersion old) { Item.Data[0] = 42; }
            [StateCheck] static bool Fails() => false;
            """,
            "", UpdatePhase.StateCheck
        },
    };

    [Theory]
    [MemberData(nameof(Places))]
    public async Task Rollback_AfterTheNewVersionChangedSharedCollections_GivesTheOldVersionExactlyWhatItHad(string place, string extra, string onUpdate, UpdatePhase phase)
    {
        var name = "SharedChanged_" + place.Replace('-', '_');
        await using var host = await MoltHost.StartAsync(TestPrograms.Build(name, "v1", Program(V1)));
        Assert.Equal("a,b;k=1;t;5", Report(host));

        var result = await host.UpdateAsync(TestPrograms.Build(name, "v2", V2(extra, onUpdate)));

        var failure = AssertRolledBack(host, result, phase);
        Assert.DoesNotContain("shares", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(result.Warnings, w => w.Contains("cannot be undone", StringComparison.Ordinal));
        // The new version added, removed or set entries of collections both versions held: the old version sees none of it.
        Assert.Equal("a,b;k=1;t;5", Report(host));
        Assert.Equal(true, result.FailedVersionUnloaded);
    }

    [Fact]
    public async Task Rollback_AfterANewUnitChangedItsSharedStateBeforeItsFirstUpdatePoint_GivesTheOldUnitItsStateBack()
    {
        // The unit's state is itself a framework collection: it passes by reference, and the new version's unit changes it
        // before its first update point; another unit of the new version then fails, and the update rolls back.
        const string v1 = """
            public static partial class Program
            {
                public static Dictionary<string, byte[]> Seen = new();
                static void Init() { var inbox = new Dictionary<string, byte[]> { ["k"] = [1] }; Seen = inbox; Live.StartUnit("inbox", inbox, Inbox); }
                public static async Task Inbox(Dictionary<string, byte[]> inbox)
                {
                    while (true) { await Live.UpdatePointAsync("inbox"); try { await Task.Delay(5, Live.UpdateRequested); } catch (OperationCanceledException) { } }
                }
                public static string Report() => string.Join(",", Seen.Select(p => $"{p.Key}={p.Value[0]}"));
            }
            """;
        const string v2 = """
            public static partial class Program
            {
                public static Dictionary<string, byte[]> Seen = new();
                static volatile bool changed;
                static void Init() { }
                public static async Task Inbox(Dictionary<string, byte[]> inbox)
                {
                    inbox["k"] = [9];
                    inbox["by-unit"] = [9];
                    changed = true;
                    while (true) { await Live.UpdatePointAsync("inbox"); await Task.Delay(5); }
                }
                public static async Task Fail(List<int> state)
                {
                    while (!changed) await Task.Delay(1);
                    throw new InvalidOperationException("the new unit failed");
                }
                public static string Report() => "v2";
            }
            """;
        var v2Path = TestPrograms.Build("SharedUnit", "v2", Program(v2).Replace("if (!Live.IsUpdating)",
            "if (Live.IsUpdating) Live.StartUnit(\"failing\", new List<int>(), Fail);\n if (!Live.IsUpdating)", StringComparison.Ordinal));
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("SharedUnit", "v1", Program(v1)));
        Assert.Equal("k=1", Report(host));

        var result = await host.UpdateAsync(v2Path);

        var failure = AssertRolledBack(host, result, UpdatePhase.Restart);
        Assert.Contains("the new unit failed", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(result.Warnings, w => w.Contains("cannot be undone", StringComparison.Ordinal));
        Assert.Equal("k=1", Report(host));
    }

    [Fact]
    public async Task Rollback_AfterATransformerChangedACollectionTheTransferReachesTwice_GivesBackItsStateBeforeTheChange()
    {
        // One list, held by a static and by two objects: the transfer passes it each time it reaches it, the transformer of
        // the first object filled changes it before the second is filled, and the rollback must give back what it was at first.
        const string v1 = """
            public class Holder { public List<string> Tags = new(); public int Size; }
            public static partial class Program
            {
                public static List<string> Names = new();
                public static Holder Item = new();
                public static Holder Other = new();
                static void Init() { Names.Add("a"); Item.Tags = Names; Other.Tags = Names; }
                public static string Report() => $"{string.Join(",", Names)};{ReferenceEquals(Item.Tags, Names)}";
            }
            """;
        const string v2 = """
            public class Holder { public List<string> Tags = new(); public int Size; }
            public static partial class Program
            {
                public static List<string> Names = new();
                public static Holder Item = new();
                public static Holder Other = new();
                static void Init() { }
                public static string Report() => "v2";
                [TransformField(typeof(Holder), "Size")]
                static int Size(OldObject old) { var tags = old.Get<List<string>>("Tags"); tags.Clear(); tags.Add("by-transformer"); return 1; }
                [StateCheck] static bool Fails() => false;
            }
            """;
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("SharedTwice", "v1", Program(v1)));

        var result = await host.UpdateAsync(TestPrograms.Build("SharedTwice", "v2", Program(v2)));

        AssertRolledBack(host, result, UpdatePhase.StateCheck);
        Assert.DoesNotContain(result.Warnings, w => w.Contains("cannot be undone", StringComparison.Ordinal));
        Assert.Equal("a;True", Report(host));
    }

    private const string BigV1 = """
        public static partial class Program
        {
            public static List<string> Names = new();
            public static List<int> Numbers = new();
            static void Init() { Names.Add("a"); for (var i = 0; i < 2_000_000; i++) Numbers.Add(i); }
            public static string Report() => $"{string.Join(",", Names)};{Numbers.Count};{Numbers[^1]}";
        }
        """;

    [Fact]
    public async Task Rollback_AfterTheNewVersionChangedASharedCollectionLargerThanTheSnapshotBudget_SaysSoWithThePath()
    {
        // 2M ints: 8 MiB of internal array, past the 1 MiB an update copies to undo changes.
        const string v2 = """
            public static partial class Program
            {
                public static List<string> Names = new();
                public static List<int> Numbers = new();
                static void Init() { }
                public static string Report() => "v2";
                [StateCheck] static bool Check() { Names.Add("by-check"); Numbers.Add(-1); return false; }
            }
            """;
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("SharedTooLarge", "v1", Program(BigV1)));
        Assert.Equal("a;2000000;1999999", Report(host));

        var result = await host.UpdateAsync(TestPrograms.Build("SharedTooLarge", "v2", Program(v2)));

        var failure = AssertRolledBack(host, result, UpdatePhase.StateCheck);
        Assert.Contains("changed state that it shares with the old version", failure.Message, StringComparison.Ordinal);
        var warning = Assert.Single(result.Warnings, w => w.Contains("cannot be undone", StringComparison.Ordinal));
        Assert.Contains("static Program.Numbers (a System.Collections.Generic.List<System.Int32>)", warning, StringComparison.Ordinal);
        Assert.DoesNotContain("Program.Names", warning, StringComparison.Ordinal);
        // The small list was put back; the large one keeps the change, as the warning says.
        Assert.Equal("a;2000001;-1", Report(host));
    }

    [Fact]
    public async Task Rollback_AfterTheNewVersionChangedNodeBasedSharedCollections_SaysSoWithTheirPaths()
    {
        // Node-based collections are never snapshotted (that would copy every node): a change to one is told, not undone.
        const string state = """
            public static partial class Program
            {
                public static SortedDictionary<string, int> Ranks = new();
                public static LinkedList<string> Recent = new();
                public static SortedSet<int> Ids = new();
                public static LinkedList<string> Untouched = new();
            """;
        const string v1 = state + """
                static void Init() { Ranks["a"] = 1; Recent.AddLast("r"); Ids.Add(1); Untouched.AddLast("u"); }
                public static string Report() => $"{string.Join(",", Ranks.Keys)};{string.Join(",", Recent)};{string.Join(",", Ids)}";
            }
            """;
        const string v2 = state + """
                static void Init() { }
                public static string Report() => "v2";
                [StateCheck] static bool Check() { Ranks.Remove("a"); Recent.AddFirst("new"); Ids.Add(2); _ = Untouched.Count; return false; }
            }
            """;
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("SharedNodes", "v1", Program(v1)));

        var result = await host.UpdateAsync(TestPrograms.Build("SharedNodes", "v2", Program(v2)));

        AssertRolledBack(host, result, UpdatePhase.StateCheck);
        var warning = Assert.Single(result.Warnings, w => w.Contains("cannot be undone", StringComparison.Ordinal));
        Assert.Contains("static Program.Ranks", warning, StringComparison.Ordinal);
        Assert.Contains("static Program.Recent", warning, StringComparison.Ordinal);
        Assert.Contains("static Program.Ids", warning, StringComparison.Ordinal);
        Assert.DoesNotContain("Untouched", warning, StringComparison.Ordinal);
        Assert.Equal(";new,r;1,2", Report(host));
    }

    [Fact]
    public async Task Rollback_AfterTheNewVersionOnlyReadSharedState_SaysNothingAndTheOldStateIsAsItWas()
    {
        const string extra = """
            [TransformField(typeof(Holder), "Size")]
            static int Size(OldObject old) => old.Get<List<string>>("Tags").Count;
            [AfterTransfer] static void Step(OldVersion old) { _ = old.Statics("Program").Get<Dictionary<string, byte[]>>("Blobs").Count; }
            [StateCheck] static bool Check() => Names.Contains("a") && Blobs.ContainsKey("k") && false;
            """;
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("SharedRead", "v1", Program(V1)));

        var result = await host.UpdateAsync(TestPrograms.Build("SharedRead", "v2", V2(extra, "_ = Names.Count;")));

        var failure = AssertRolledBack(host, result, UpdatePhase.StateCheck);
        Assert.DoesNotContain("shares", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(result.Warnings, w => w.Contains("cannot be undone", StringComparison.Ordinal));
        Assert.Equal("a,b;k=1;t;5", Report(host));
    }

    [Fact]
    public async Task Commit_AfterTheNewVersionChangedSharedState_IsNoConcernOfTheRollbackCheck()
    {
        const string extra = """
            [AfterTransfer] static void Step(OldVersion old) { Names.Add("c"); Blobs.Remove("k"); }
            public static string Now() => $"{string.Join(",", Names)};{string.Join(",", Blobs.Keys)}";
            """;
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("SharedCommit", "v1", Program(V1)));

        var result = await host.UpdateAsync(TestPrograms.Build("SharedCommit", "v2", V2(extra)));

        AssertCommitted(result);
        Assert.DoesNotContain(result.Warnings, w => w.Contains("cannot be undone", StringComparison.Ordinal));
        Assert.Equal("a,b,c;", Report(host, "Now"));
    }
}
