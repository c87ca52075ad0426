using Molt.Hosting.Control;
using static Molt.Hosting.Tests.Transfer.TransferTestKit;

namespace Molt.Hosting.Tests.Checking;

/// <summary>
/// The compatibility report (<see cref="MoltHost.CheckAsync"/>, behind <c>molt check</c>): what changed between the running
/// version and a new one, what covers each change, what cannot cross, which units would be dropped or resume elsewhere,
/// and a verdict that is what the update then does. A check applies nothing: the program runs on untouched.
/// </summary>
public class CompatibilityCheckTests
{
    private static CheckFinding Finding(CheckSummary summary, CheckFindingKind kind, string subject) =>
        Assert.Single(summary.Findings, f => f.Kind == kind && f.Subject == subject);

    private static string Text(CheckSummary summary) => string.Join("\n", summary.Lines);

    private static async Task<(MoltHost Host, CheckSummary Check, string V2)> StartAndCheck(string name, string v1, string v2)
    {
        var v1Path = TestPrograms.Build(name, "v1", v1);
        var v2Path = TestPrograms.Build(name, "v2", v2);
        var host = await MoltHost.StartAsync(v1Path);
        try
        {
            return (host, await host.CheckAsync(v2Path), v2Path);
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    [Fact]
    public async Task Check_TypesAddedRemovedAndRenamed_AreReported()
    {
        var v1 = Program("""
            public class Client { public string Name = ""; }
            public class Legacy { public int X; public static int Created; }
            public static class OldHelpers { public static int Twice(int x) => 2 * x; }
            public static partial class Program
            {
                public static Client C;
                static void Init() => C = new Client { Name = "ann" };
            }
            """);
        var v2 = Program("""
            [RenamedFrom("Client")] public class Customer { public string Name = ""; }
            public class Coupon { public int Percent; }
            public static partial class Program
            {
                public static Customer C;
                static void Init() { }
            }
            """);
        var (host, check, _) = await StartAndCheck("CK_Types", v1, v2);
        await using var _ = host;

        Assert.True(check.Compatible, Text(check));
        Assert.Equal(CheckCoverage.NotNeeded, Finding(check, CheckFindingKind.TypeAdded, "Coupon").Coverage);
        var removed = Finding(check, CheckFindingKind.TypeRemoved, "Legacy");
        Assert.Equal(CheckSeverity.Warning, removed.Severity);
        Assert.Equal(CheckCoverage.Nothing, removed.Coverage);
        Assert.Equal(CheckSeverity.Info, Finding(check, CheckFindingKind.TypeRemoved, "OldHelpers").Severity);
        var renamed = Finding(check, CheckFindingKind.TypeRenamed, "Client");
        Assert.Equal(CheckCoverage.DefaultMapping, renamed.Coverage);
        Assert.Contains("renamed to Customer", renamed.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(check.Findings, f => f.Kind == CheckFindingKind.TypeAdded && f.Subject == "Customer");
        Assert.Contains("types: 1 added, 2 removed, 1 renamed", Text(check), StringComparison.Ordinal);
        // A removed type's statics go with it, listed under its line.
        Assert.Equal(CheckSeverity.Warning, Finding(check, CheckFindingKind.FieldRemoved, "static Legacy.Created").Severity);
        Assert.DoesNotContain(check.Findings, f => f.Kind == CheckFindingKind.TypeChanged && f.Subject == "Legacy");
        var at = check.Findings.ToList().FindIndex(f => f.Kind == CheckFindingKind.TypeRemoved && f.Subject == "Legacy");
        Assert.Equal("static Legacy.Created", check.Findings[at + 1].Subject);
    }

    [Fact]
    public async Task Check_FieldChangesTheDefaultMappingCovers_ReportedWithHowEachIsCovered()
    {
        var v1 = Program("""
            public class Animal { public string Name = ""; }
            public class Dog : Animal { public int Barks; }
            public enum Color { Red, Green }
            public class Entry
            {
                public Color Shade;
                public int Count;
                public int Small;
                public string Title = "";
                public Dog Pet;
                public string Obsolete = "";
            }
            public static partial class Program
            {
                public static Entry E;
                public static int Total;
                static void Init() => E = new Entry { Count = 1, Small = 2, Title = "t", Pet = new Dog() };
            }
            """);
        var v2 = Program("""
            public class Animal { public string Name = ""; }
            public class Dog : Animal { public int Barks; }
            public enum Color { Red, Blue, Green }
            public class Entry
            {
                public Color Shade;
                public long Count;
                public int? Small;
                [RenamedFrom("Title")] public string Caption = "";
                public Animal Pet;
                public string Note = "new";
            }
            public static partial class Program
            {
                public static Entry E;
                public static double Total;
                static void Init() { }
            }
            """);
        var (host, check, _) = await StartAndCheck("CK_Default", v1, v2);
        await using var _ = host;

        Assert.True(check.Compatible, Text(check));
        var changed = Finding(check, CheckFindingKind.TypeChanged, "Entry");
        Assert.Equal(CheckSeverity.Info, changed.Severity);
        var widened = Finding(check, CheckFindingKind.FieldRetyped, "Entry.Count");
        Assert.Equal(CheckCoverage.DefaultMapping, widened.Coverage);
        Assert.Contains("widening", widened.Detail, StringComparison.Ordinal);
        Assert.Contains("T to T?", Finding(check, CheckFindingKind.FieldRetyped, "Entry.Small").Detail, StringComparison.Ordinal);
        Assert.Contains("base type", Finding(check, CheckFindingKind.FieldRetyped, "Entry.Pet").Detail, StringComparison.Ordinal);
        Assert.Equal(CheckCoverage.DefaultMapping, Finding(check, CheckFindingKind.FieldRenamed, "Entry.Caption").Coverage);
        Assert.Equal(CheckCoverage.DefaultMapping, Finding(check, CheckFindingKind.FieldAdded, "Entry.Note").Coverage);
        var removed = Finding(check, CheckFindingKind.FieldRemoved, "Entry.Obsolete");
        Assert.Equal(CheckSeverity.Warning, removed.Severity);
        Assert.Contains("dropped", removed.Detail, StringComparison.Ordinal);
        Assert.Equal(CheckCoverage.DefaultMapping, Finding(check, CheckFindingKind.FieldRetyped, "static Program.Total").Coverage);
        Assert.Contains("by member name", Finding(check, CheckFindingKind.TypeChanged, "Color").Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(check.Findings, f => f.Subject == "Entry.Shade");
        // Unchanged types and fields are not listed.
        Assert.DoesNotContain(check.Findings, f => f.Subject is "Dog" or "Animal" or "Dog.Barks" or "Animal.Name");
        // Each field's line follows its type's line.
        var lines = check.Lines.ToList();
        var header = lines.FindIndex(l => l.Contains("type Entry changed", StringComparison.Ordinal));
        Assert.True(header >= 0 && lines.FindIndex(l => l.Contains("Entry.Count", StringComparison.Ordinal)) > header, Text(check));
    }

    [Fact]
    public async Task Check_FieldChangesTransformersCover_ReportedAsCoveredByATransformer()
    {
        var v1 = Program("""
            public class Price { public string Amount = ""; }
            public class Money { public string Text = ""; }
            public class Point { public int X; public int Y; }
            public static partial class Program
            {
                public static Price P; public static Money M; public static Point Q;
                static void Init() { P = new Price { Amount = "1.5" }; M = new Money { Text = "2" }; Q = new Point { X = 1, Y = 2 }; }
            }
            """);
        var v2 = Program("""
            public class Price { public decimal Amount; }
            public class Money { public decimal Value; }
            public class Point { public int[] XY = new int[2]; }
            public static class Transformers
            {
                [TransformField(typeof(Price), "Amount")]
                public static decimal Amount(OldObject old) => decimal.Parse(old.Get<string>("Amount"), System.Globalization.CultureInfo.InvariantCulture);
                [TransformType("Money")]
                public static void FillMoney(OldObject old, Money target) => target.Value = decimal.Parse(old.Get<string>("Text"), System.Globalization.CultureInfo.InvariantCulture);
                [TransformType("Point")]
                public static Point MakePoint(OldObject old) => new Point { XY = new[] { old.Get<int>("X"), old.Get<int>("Y") } };
                [AfterTransfer]
                public static void Done(OldVersion old) { }
                [StateCheck(Description = "points have two coordinates")]
                public static bool PointsOk() => Program.Q is null || Program.Q.XY.Length == 2;
            }
            public static partial class Program
            {
                public static Price P; public static Money M; public static Point Q;
                static void Init() { }
            }
            """);
        var (host, check, v2Path) = await StartAndCheck("CK_Transformers", v1, v2);
        await using var _ = host;

        Assert.True(check.Compatible, Text(check));
        var computed = Finding(check, CheckFindingKind.FieldComputed, "Price.Amount");
        Assert.Equal(CheckCoverage.Transformer, computed.Coverage);
        Assert.Contains("Transformers.Amount", computed.Detail, StringComparison.Ordinal);
        Assert.Equal(CheckCoverage.Transformer, Finding(check, CheckFindingKind.FieldAdded, "Money.Value").Coverage);
        Assert.Equal(CheckCoverage.Transformer, Finding(check, CheckFindingKind.FieldRemoved, "Money.Text").Coverage);
        var factory = Finding(check, CheckFindingKind.TypeTransformed, "Point");
        Assert.Equal(CheckCoverage.Transformer, factory.Coverage);
        Assert.Contains("Transformers.MakePoint", factory.Detail, StringComparison.Ordinal);
        Assert.Equal(CheckCoverage.Transformer, Finding(check, CheckFindingKind.FieldAdded, "Point.XY").Coverage);
        Finding(check, CheckFindingKind.AfterTransferStep, "Transformers.Done");
        Assert.Contains("points have two coordinates", Finding(check, CheckFindingKind.StateCheck, "Transformers.PointsOk").Detail, StringComparison.Ordinal);

        AssertCommitted(await host.UpdateAsync(v2Path));
    }

    [Fact]
    public async Task Check_GenericTypeDefinitionsFields_ComparedByName_RetypeWarned_HeldInstantiationRefused()
    {
        var v1 = Program("""
            public class Box<T> { public T Value; public int Count; public string Gone = ""; }
            public static partial class Program { public static Box<string> B; static void Init() => B = new Box<string> { Value = "x" }; }
            """);
        var v2 = Program("""
            public class Box<T> { public T Value; public string Count = ""; public int Added; }
            public static partial class Program { public static Box<string> B; static void Init() { } }
            """);
        var (host, check, v2Path) = await StartAndCheck("CK_Generic", v1, v2);
        await using var _ = host;

        Finding(check, CheckFindingKind.TypeChanged, "Box`1");
        Assert.Equal(CheckSeverity.Warning, Finding(check, CheckFindingKind.FieldRetyped, "Box`1.Count").Severity);
        Finding(check, CheckFindingKind.FieldAdded, "Box`1.Added");
        Finding(check, CheckFindingKind.FieldRemoved, "Box`1.Gone");
        Assert.DoesNotContain(check.Findings, f => f.Subject == "Box`1.Value");
        // The definition's retype is a warning; the instantiation the state holds (Box<string>) is refused by the trial transfer, as by the update.
        Assert.False(check.Compatible, Text(check));
        Assert.Equal("static Program.B", Finding(check, CheckFindingKind.StateRefused, "static Program.B").Path);
        var failure = AssertRolledBack(host, await host.UpdateAsync(v2Path), UpdatePhase.Transfer);
        Assert.Equal("static Program.B", failure.StatePath);
    }

    [Fact]
    public async Task Check_StaticsOfGenericInstantiationsTheCodeNames_ComparedLikeATypes()
    {
        var v1 = Program("""
            public static class Pool<T> { public static List<T> Items = new(); public static int Rented; }
            public static partial class Program { static void Init() { Pool<int>.Rented = 1; Pool<string>.Items.Add("x"); } }
            """);
        var v2 = Program("""
            public static class Pool<T> { public static List<T> Items = new(); public static long Rented; public static int Peak; }
            public static partial class Program { static void Init() { } }
            """);
        var (host, check, _) = await StartAndCheck("CK_GenericStatics", v1, v2);
        await using var _ = host;

        foreach (var pool in new[] { "Pool<System.Int32>", "Pool<System.String>" })
        {
            Finding(check, CheckFindingKind.TypeChanged, pool);
            Assert.Contains("a widening conversion", Finding(check, CheckFindingKind.FieldRetyped, $"static {pool}.Rented").Detail, StringComparison.Ordinal);
            Finding(check, CheckFindingKind.FieldAdded, $"static {pool}.Peak");
        }
        Assert.True(check.Compatible, Text(check));
    }

    private const string UncoveredV1 = """
        public class Entry { public string Name = ""; public string Price = ""; }
        public static partial class Program
        {
            public static List<Entry> Items = new();
            static void Init() => Items.Add(new Entry { Name = "a", Price = "1.50" });
            public static string Report() => $"v1 {Items[0].Name} {Items[0].Price}";
        }
        """;

    private const string UncoveredV2 = """
        public class Entry { public string Name = ""; public decimal Price; }
        public static partial class Program
        {
            public static List<Entry> Items = new();
            static void Init() { }
            public static string Report() => $"v2 {Items[0].Name} {Items[0].Price}";
        }
        """;

    [Fact]
    public async Task Check_RetypeThatNothingCovers_IsIncompatible_AndTheUpdateIsRefusedForTheSameReason()
    {
        var (host, check, v2Path) = await StartAndCheck("CK_Uncovered", Program(UncoveredV1, ticker: true), Program(UncoveredV2, ticker: true));
        await using var _ = host;

        Assert.False(check.Compatible, Text(check));
        var retyped = Finding(check, CheckFindingKind.FieldRetyped, "Entry.Price");
        Assert.Equal(CheckCoverage.Nothing, retyped.Coverage);
        Assert.Equal(CheckSeverity.Incompatible, retyped.Severity);
        Assert.Contains("System.String to System.Decimal", retyped.Detail, StringComparison.Ordinal);
        Assert.Equal(CheckCoverage.Nothing, Finding(check, CheckFindingKind.TypeChanged, "Entry").Coverage);
        Assert.Single(check.Findings, f => f.Severity == CheckSeverity.Incompatible);
        Assert.StartsWith("verdict: NOT compatible", check.Lines[^1], StringComparison.Ordinal);
        Assert.Contains("Entry.Price", check.Lines[^1], StringComparison.Ordinal);

        var result = await host.UpdateAsync(v2Path);

        Assert.True(result.Outcome == UpdateOutcome.Refused, result.ToString());
        Assert.Equal(UpdatePhase.Prepare, result.Failure!.Phase);
        Assert.Contains("Entry.Price", result.Failure.Message, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.Zero, result.PauseTime);
        Assert.Equal(0, (int)ProgramState.Call(host, "Program", "GetWakes")!);
        Assert.Equal("v1 a 1.50", Report(host));
    }

    [Fact]
    public async Task Check_CompatibleVersion_SaysSo_AndTheUpdateCommits()
    {
        var v1 = Program(UncoveredV1, ticker: true);
        var v2 = Program(UncoveredV1.Replace("v1 {", "v2 {", StringComparison.Ordinal), ticker: true);
        var (host, check, v2Path) = await StartAndCheck("CK_Compatible", v1, v2);
        await using var _ = host;

        Assert.True(check.Compatible, Text(check));
        Assert.DoesNotContain(check.Findings, f => f.Severity != CheckSeverity.Info);
        Assert.StartsWith("verdict: compatible", check.Lines[^1], StringComparison.Ordinal);
        Assert.Contains(" -> ", check.Lines[0], StringComparison.Ordinal);

        var result = await host.UpdateAsync(v2Path);

        AssertCommitted(result);
        Assert.Equal("v2 a 1.50", Report(host));
    }

    [Fact]
    public async Task Check_StaticsThatCannotCross_AreWarnedByDeclaredType_AndOpenTypesNoted()
    {
        var v1 = Program("""
            public static partial class Program
            {
                public static Action<int> Handler;
                public static Func<int>[] Callbacks;
                public static Task Pending;
                public static Thread Worker;
                public static Timer Clock;
                public static System.Reflection.MethodInfo Method;
                public static List<Task<int>> Tasks;
                [NotMigrated] public static Action Ignored;
                public static object Anything;
                public static IComparable Comparable;
                public static int Plain;
                public static Type SomeType;
                [ThreadStatic] public static StringBuilder Scratch;
                static void Init() { }
            }
            """);
        var (host, check, _) = await StartAndCheck("CK_CannotCross", v1, v1 + "\n// v2");
        await using var _ = host;

        foreach (var name in new[] { "Handler", "Callbacks", "Pending", "Worker", "Clock", "Method", "Tasks" })
        {
            var finding = Finding(check, CheckFindingKind.CannotCross, "static Program." + name);
            Assert.Equal(CheckSeverity.Warning, finding.Severity);
        }
        Assert.Contains("delegate", Finding(check, CheckFindingKind.CannotCross, "static Program.Handler").Detail, StringComparison.Ordinal);
        Assert.Contains("Thread", Finding(check, CheckFindingKind.CannotCross, "static Program.Worker").Detail, StringComparison.Ordinal);
        Assert.Contains("reflection object", Finding(check, CheckFindingKind.CannotCross, "static Program.Method").Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(check.Findings, f => f.Subject is "static Program.Ignored" or "static Program.Plain" or "static Program.SomeType");
        Assert.Equal(CheckSeverity.Info, Finding(check, CheckFindingKind.OpenType, "static Program.Anything").Severity);
        var perThread = Finding(check, CheckFindingKind.CannotCross, "static Program.Scratch");
        Assert.Equal(CheckSeverity.Info, perThread.Severity);
        Assert.Contains("[ThreadStatic]: each thread has its own value and none crosses", perThread.Detail, StringComparison.Ordinal);
        Finding(check, CheckFindingKind.OpenType, "static Program.Comparable");
        Assert.Contains(check.Lines, l => l.Contains("only checked at update time", StringComparison.Ordinal));
        // All of them null: the update would go ahead, so the verdict says compatible, with warnings.
        Assert.True(check.Compatible, Text(check));
        Assert.Contains("warnings", check.Lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_UnitWhoseEntryTheNewVersionLacks_IsWarnedAsDropped_AndTheUpdateDropsIt()
    {
        var v1 = Program("""public static partial class Program { static void Init() { } }""", ticker: true);
        var v2 = Program("""
            public class TickerState { public int Rounds; }
            public static partial class Program { public static int GetTicks() => -1; static void Init() { } }
            """);
        var (host, check, v2Path) = await StartAndCheck("CK_UnitDropped", v1, v2);
        await using var _ = host;

        var dropped = Finding(check, CheckFindingKind.UnitDropped, "unit 'ticker'");
        Assert.Equal(CheckSeverity.Warning, dropped.Severity);
        Assert.Contains("Program.Tick", dropped.Detail, StringComparison.Ordinal);
        Assert.True(check.Compatible, Text(check));

        var result = await host.UpdateAsync(v2Path);

        AssertCommitted(result);
        Assert.Equal(["ticker"], result.DroppedUnits);
    }

    [Fact]
    public async Task Check_UnitStateOfATypeTheNewVersionLacks_IsIncompatible_AndTheUpdateIsRefused()
    {
        var v1 = Program("""public static partial class Program { static void Init() { } }""", ticker: true);
        var v2 = Program("""public static partial class Program { public static int GetTicks() => -1; static void Init() { } }""");
        var (host, check, v2Path) = await StartAndCheck("CK_UnitState", v1, v2);
        await using var _ = host;

        Assert.False(check.Compatible, Text(check));
        var state = Finding(check, CheckFindingKind.UnitStateCannotCross, "unit 'ticker'");
        Assert.Contains("TickerState", state.Detail, StringComparison.Ordinal);

        var result = await host.UpdateAsync(v2Path);

        Assert.True(result.Outcome == UpdateOutcome.Refused, result.ToString());
        Assert.Equal(UpdatePhase.Prepare, result.Failure!.Phase);
        Assert.Contains("TickerState", result.Failure.Message, StringComparison.Ordinal);
        Assert.Equal(0, (int)ProgramState.Call(host, "Program", "GetWakes")!);
    }

    [Fact]
    public async Task Check_UpdatePointWhereAUnitIsNowMissingInTheNewVersion_IsWarned()
    {
        var v1 = Program("""public static partial class Program { static void Init() { } }""", ticker: true);
        var sameTicker = v1 + "\n// v2";
        var renamedPoint = v1.Replace("UpdatePointAsync(\"tick\")", "UpdatePointAsync(\"tock\")", StringComparison.Ordinal);
        Assert.NotEqual(v1, renamedPoint);
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("CK_Points", "v1", v1));
        // Molt knows where a unit is once it has parked: after an update, the new unit is where the old one parked.
        AssertCommitted(await host.UpdateAsync(TestPrograms.Build("CK_Points", "v2", sameTicker)));
        Assert.Equal("tick", Assert.Single(host.Units).LastUpdatePoint);

        var same = await host.CheckAsync(TestPrograms.Build("CK_Points", "v2b", sameTicker + "\n// v2b"));
        var renamed = await host.CheckAsync(TestPrograms.Build("CK_Points", "v3", renamedPoint));

        Assert.DoesNotContain(same.Findings, f => f.Kind == CheckFindingKind.UpdatePointMissing);
        var missing = Finding(renamed, CheckFindingKind.UpdatePointMissing, "unit 'ticker'");
        Assert.Equal(CheckSeverity.Warning, missing.Severity);
        Assert.Contains("'tick'", missing.Detail, StringComparison.Ordinal);
        Assert.True(renamed.Compatible, Text(renamed));
    }

    [Fact]
    public async Task Check_ProgramRunsOnUntouched_TheTickingUnitIsNeverWoken()
    {
        var v1 = Program(UncoveredV1, ticker: true);
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("CK_Untouched", "v1", v1));
        await AssertStillTicking(host);

        var compatible = await host.CheckAsync(TestPrograms.Build("CK_Untouched", "v2", v1 + "\n// v2"));
        var incompatible = await host.CheckAsync(TestPrograms.Build("CK_Untouched", "v3", Program(UncoveredV2, ticker: true)));

        Assert.True(compatible.Compatible, Text(compatible));
        Assert.False(incompatible.Compatible, Text(incompatible));
        await AssertStillTicking(host);
        Assert.Equal(0, (int)ProgramState.Call(host, "Program", "GetWakes")!);
        Assert.Equal(0, host.Version.Generation);
        Assert.Empty(host.History);
        Assert.Equal("v1 a 1.50", Report(host));
    }

    [Fact]
    public async Task Check_TheCheckedVersionIsUnloadedAndCollected()
    {
        var v1 = Program(UncoveredV1, ticker: true);
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("CK_Unload", "v1", v1));

        var check = await host.CheckAsync(TestPrograms.Build("CK_Unload", "v2", Program(UncoveredV2, ticker: true)));

        Assert.False(check.Compatible, Text(check));
        await TrialTransferCheckTests.AssertCollected(host);
        await AssertStillTicking(host);
    }

    [Fact]
    public async Task Check_NotAProgram_IsIncompatibleWithTheReason()
    {
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("CK_Missing", "v1", Program("public static partial class Program { static void Init() { } }")));

        var check = await host.CheckAsync(Path.Combine(Path.GetTempPath(), "molt-no-such-program.dll"));

        Assert.False(check.Compatible);
        Assert.Equal(CheckFindingKind.Refusal, Assert.Single(check.Findings).Kind);
        Assert.Contains("does not exist", Text(check), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_OverTheControlChannel_CarriesTheFindingsAsData()
    {
        var v1 = TestPrograms.Build("CK_Channel", "v1", Program(UncoveredV1, ticker: true));
        var v2 = TestPrograms.Build("CK_Channel", "v2", Program(UncoveredV2, ticker: true));
        var name = $"check-{Guid.NewGuid():N}"[..24];
        await using var host = await MoltHost.StartAsync(v1);
        await using var server = MoltControlServer.Start(host, name);
        await using var client = await MoltControlClient.ConnectAsync(name);

        var check = await client.CheckAsync(v2);

        Assert.False(check.Compatible, Text(check));
        var retyped = Finding(check, CheckFindingKind.FieldRetyped, "Entry.Price");
        Assert.Equal(CheckCoverage.Nothing, retyped.Coverage);
        Assert.Equal(CheckSeverity.Incompatible, retyped.Severity);
        Assert.Equal(check.Lines.Count, (await host.CheckAsync(v2)).Lines.Count);
    }

    [Fact]
    public async Task Check_TransformerOfTheWrongShape_IsIncompatibleWithTheReason_AndTheUpdateIsRefused()
    {
        var v1 = Program("""public class Entry { public string Name = ""; } public static partial class Program { public static Entry E; static void Init() => E = new Entry(); }""");
        var v2 = Program("""
            public class Entry { public string Name = ""; }
            public static class Transformers { [TransformType("Entry")] public static void Wrong(Entry target) { } }
            public static partial class Program { public static Entry E; static void Init() { } }
            """);
        var (host, check, v2Path) = await StartAndCheck("CK_WrongShape", v1, v2);
        await using var _ = host;

        Assert.False(check.Compatible, Text(check));
        var refusal = Assert.Single(check.Findings);
        Assert.Equal(CheckFindingKind.Refusal, refusal.Kind);
        Assert.Contains("Transformers.Wrong", refusal.Detail, StringComparison.Ordinal);

        var result = await host.UpdateAsync(v2Path);

        Assert.True(result.Outcome == UpdateOutcome.Refused, result.ToString());
        Assert.Equal(refusal.Detail, result.Failure!.Message);
    }

    [Fact]
    public void UpdatePointScanner_FindsTheNamesOfSyncAndAsyncUpdatePoints_NotComputedOnes()
    {
        var path = TestPrograms.Build("CK_Scanner", "v1", TestPrograms.Usings + """
            public static class Program
            {
                const string Named = "const-point";
                public static async Task Main(string[] args) { await Live.RunAsync(); }
                public static async Task Async(int x)
                {
                    switch (x) { case 0: await Live.UpdatePointAsync("async-0"); break; case 1: await Live.UpdatePointAsync("async-1"); break; default: break; }
                    long big = 1L << 40; double d = 2.5; if (big > d) await Live.UpdatePointAsync(Named);
                }
                public static void Sync(int n)
                {
                    Action a = () => Live.UpdatePoint("in-lambda");
                    for (var i = 0; i < n; i++) { Live.UpdatePoint("sync"); }
                    Live.UpdatePoint("computed-" + n);
                    Console.WriteLine("not-a-point");
                }
            }
            """);
        var version = Molt.Hosting.Loading.ProgramVersion.Load(path, 0, TimeProvider.System);
        try
        {
            var names = Molt.Hosting.Updating.UpdatePointScanner.Scan(version.ProgramTypes());
            Assert.Equal(["async-0", "async-1", "const-point", "in-lambda", "sync"], names.Order(StringComparer.Ordinal));
        }
        finally
        {
            version.Retire();
        }
    }
}
