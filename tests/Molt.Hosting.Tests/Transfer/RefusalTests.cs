using static Molt.Hosting.Tests.Transfer.TransferTestKit;

namespace Molt.Hosting.Tests.Transfer;

/// <summary>A change that nothing covers is found while planning: the update is refused before the old version is ever paused.</summary>
public class RefusalTests
{
    [Fact]
    public async Task Update_FieldTypeChangeThatNothingCovers_RefusedAtPrepareWithoutPausing()
    {
        var v1 = Program("""
            public class Entry { public string Name; public string Price; }
            public static partial class Program
            {
                public static List<Entry> Items = new();
                static void Init() => Items.Add(new Entry { Name = "a", Price = "1.50" });
                public static string Report() => $"v1 {Items[0].Name} {Items[0].Price}";
            }
            """, ticker: true);
        var v2 = Program("""
            public class Entry { public string Name; public decimal Price; }
            public static partial class Program
            {
                public static List<Entry> Items = new();
                static void Init() { }
                public static string Report() => $"v2 {Items[0].Name} {Items[0].Price}";
            }
            """, ticker: true);
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("RF_Uncovered", "v1", v1));
        await AssertStillTicking(host);

        var result = await host.UpdateAsync(TestPrograms.Build("RF_Uncovered", "v2", v2));

        Assert.True(result.Outcome == UpdateOutcome.Refused, result.ToString());
        Assert.Equal(UpdatePhase.Prepare, result.Failure!.Phase);
        Assert.Contains("Entry.Price", result.Failure.Message, StringComparison.Ordinal);
        Assert.Contains("System.Decimal", result.Failure.Message, StringComparison.Ordinal);
        // Never paused: the unit never saw an update request and never parked.
        Assert.Equal(0, (int)ProgramState.Call(host, "Program", "GetWakes")!);
        Assert.Equal(TimeSpan.Zero, result.PauseTime);
        Assert.Equal(0, host.Version.Generation);
        Assert.Equal("v1 a 1.50", Report(host));
        await AssertStillTicking(host);
    }

    [Fact]
    public async Task Update_StaticTypeChangeThatNothingCovers_RefusedNamingTheStatic()
    {
        var v1 = Program("""
            public static partial class Program
            {
                public static List<int> Ids = new();
                static void Init() => Ids.Add(1);
                public static string Report() => $"v1 {Ids.Count}";
            }
            """);
        var v2 = Program("""
            public static partial class Program
            {
                public static HashSet<int> Ids = new();
                static void Init() { }
                public static string Report() => $"v2 {Ids.Count}";
            }
            """);
        var (host, result) = await StartAndUpdate("RF_Static", v1, v2);
        await using var _ = host;
        Assert.True(result.Outcome == UpdateOutcome.Refused, result.ToString());
        Assert.Equal(UpdatePhase.Prepare, result.Failure!.Phase);
        Assert.Contains("static Program.Ids", result.Failure.Message, StringComparison.Ordinal);
        Assert.Equal("v1 1", Report(host));
    }

    [Fact]
    public async Task Update_TransformerWithTheWrongShape_RefusedAtPrepare()
    {
        var v1 = Program("""
            public class Entry { public string Name; }
            public static partial class Program
            {
                public static Entry E;
                static void Init() => E = new Entry { Name = "a" };
                public static string Report() => $"v1 {E.Name}";
            }
            """);
        var v2 = Program("""
            public class Entry { public string Name; }
            public static partial class Program
            {
                public static Entry E;
                static void Init() { }
                [TransformType("Entry")] static int Wrong(string old) => 0;
            }
            """);
        var (host, result) = await StartAndUpdate("RF_Shape", v1, v2);
        await using var _ = host;
        Assert.True(result.Outcome == UpdateOutcome.Refused, result.ToString());
        Assert.Equal(UpdatePhase.Prepare, result.Failure!.Phase);
        Assert.Contains("Program.Wrong", result.Failure.Message, StringComparison.Ordinal);
        Assert.Equal("v1 a", Report(host));
    }
}
