namespace Molt.Hosting.Tests.Transfer;

/// <summary>A program goes through several versions, back to an older one too; state is carried every time and every old version is unloaded.</summary>
public class SuccessiveUpdateTests
{
    // Each version's start-up appends its label to the history and bumps every entry's count, so the final state shows that
    // every version ran on the state the previous one handed over.
    private const string Main = """
        public static partial class Program
        {
            public static List<string> History = new();
            public static Dictionary<string, Entry> Entries = new();
            public static async Task Main(string[] args)
            {
                if (!Live.IsUpdating) { Entries["a"] = new Entry { Name = "a" }; Entries["b"] = new Entry { Name = "b" }; }
                History.Add(Label);
                foreach (var e in Entries.Values) e.Count++;
                Live.StartUnit("worker", new Work(), Run);
                await Live.RunAsync();
            }
            public static async Task Run(Work w)
            {
                for (var i = 0; i < 1_000_000; i++)
                {
                    await Live.UpdatePointAsync("loop");
                    w.Rounds++;
                    try { await Task.Delay(5, Live.UpdateRequested); } catch (OperationCanceledException) { }
                }
            }
            public static string Report() => $"{Label}: {string.Join(">", History)} | {string.Join(",", Entries.Values.OrderBy(e => e.Name).Select(Describe))}";
        }
        """;

    private const string V1 = TestPrograms.Usings + Main + """
        public class Work { public int Rounds; }
        public class Entry { public string Name; public int Count; }
        public static partial class Program
        {
            const string Label = "v1";
            static string Describe(Entry e) => $"{e.Name}{e.Count}";
        }
        """;

    // v2 adds a field with an initializer.
    private const string V2 = TestPrograms.Usings + Main + """
        public class Work { public int Rounds; }
        public class Entry { public string Name; public int Count; public string Note = "n2"; }
        public static partial class Program
        {
            const string Label = "v2";
            static string Describe(Entry e) => $"{e.Name}{e.Count}{e.Note}";
        }
        """;

    // v3 moves Name into a base class and renames Note.
    private const string V3 = TestPrograms.Usings + Main + """
        public class Work { public int Rounds; }
        public class Named { public string Name; }
        public class Entry : Named { public int Count; [RenamedFrom("Note")] public string Remark; }
        public static partial class Program
        {
            const string Label = "v3";
            static string Describe(Entry e) => $"{e.Name}{e.Count}{e.Remark}";
        }
        """;

    [Fact]
    public async Task Update_V1ToV2ToV3AndBackToV1_CarriesStateAndUnloadsEveryOldVersion()
    {
        var v1 = TestPrograms.Build("SU_Chain", "v1", V1);
        var v2 = TestPrograms.Build("SU_Chain", "v2", V2);
        var v3 = TestPrograms.Build("SU_Chain", "v3", V3);
        await using var host = await MoltHost.StartAsync(v1);
        Assert.Equal("v1: v1 | a1,b1", Report());

        var toV2 = await host.UpdateAsync(v2);
        TransferTestKit.AssertCommitted(toV2);
        Assert.Equal("v2: v1>v2 | a2n2,b2n2", Report());

        var toV3 = await host.UpdateAsync(v3);
        TransferTestKit.AssertCommitted(toV3);
        Assert.Equal("v3: v1>v2>v3 | a3n2,b3n2", Report());

        var backToV1 = await host.UpdateAsync(v1);
        TransferTestKit.AssertCommitted(backToV1);
        Assert.Equal("v1: v1>v2>v3>v1 | a4,b4", Report());
        Assert.Contains("Entry.Remark", backToV1.DroppedFields);

        Assert.Equal(3, host.Version.Generation);
        Assert.Equal(v1, host.Version.AssemblyPath);
        Assert.All(host.History, r => Assert.True(r.OldVersionUnloaded == true, r.ToString()));
        Assert.All(host.History, r => Assert.Contains("worker (from 'loop')", r.ResumedUnits));

        string? Report() => TransferTestKit.Report(host);
    }
}
