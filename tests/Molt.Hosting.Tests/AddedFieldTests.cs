namespace Molt.Hosting.Tests;

/// <summary>A field the new version adds gets its initializer, also in a record whose only constructor takes parameters.</summary>
public class AddedFieldTests
{
    private const string V1 = TestPrograms.Usings + """
        public record Entry(string Key, long Value);
        public class Strict { public string Name; public Strict(string name) { Name = name ?? throw new ArgumentNullException(nameof(name)); } }
        public static class Program
        {
            public static Entry Item;
            public static Strict Checked;
            public static async Task Main(string[] args)
            {
                if (!Live.IsUpdating) { Item = new Entry("k", 42); Checked = new Strict("s"); }
                await Live.RunAsync();
            }
        }
        """;

    private const string V2 = TestPrograms.Usings + """
        public record Entry(string Key, long Value)
        {
            public List<string> Tags { get; init; } = new() { "fresh" };
            public int Version = 2;
        }
        public class Strict
        {
            public string Name;
            public int Level = 5;
            public Strict(string name) { Name = name ?? throw new ArgumentNullException(nameof(name)); }
        }
        public static class Program
        {
            public static Entry Item;
            public static Strict Checked;
            public static async Task Main(string[] args) { await Live.RunAsync(); }
            public static string Report() => $"{Item.Key} {Item.Value} {string.Join(",", Item.Tags)} {Item.Version} {Checked.Name} {Checked.Level}";
        }
        """;

    [Fact]
    public async Task Update_FieldsAddedToRecordAndValidatingClass_InitializerOrWarning()
    {
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("Added", "v1", V1));

        var result = await host.UpdateAsync(TestPrograms.Build("Added", "v2", V2));

        Assert.True(result.Outcome == UpdateOutcome.Committed, result.ToString());
        // The record's primary constructor ran with default arguments for its initializers, then the old values were copied over.
        // Strict's constructor rejects a null name, so its added field keeps the default, and the result says so.
        Assert.Equal("k 42 fresh 2 s 0", ProgramState.Call(host, "Program", "Report"));
        Assert.Contains(result.Warnings, w => w.Contains("Strict", StringComparison.Ordinal) && w.Contains("Level", StringComparison.Ordinal));
    }
}
