namespace Molt.Hosting.Tests;

/// <summary>
/// A field the new version adds gets its declared initializer, evaluated alone for each rebuilt object, or the default
/// when it has none (or its value comes from a constructor parameter). No constructor of the new version runs during
/// a transfer: the same rule for a class, a struct and a record.
/// </summary>
public class AddedFieldTests
{
    private const string V1 = TestPrograms.Usings + """
        public record Entry(string Key, long Value);
        public record struct Pair(int A);
        public struct Point { public int X; }
        public class Strict { public string Name; public Strict(string name) { Name = name ?? throw new ArgumentNullException(nameof(name)); } }
        public class Counted { public int N; }
        public static class Program
        {
            public static Entry Item;
            public static Strict Checked;
            public static Pair Pair1;
            public static Point[] Points;
            public static List<Counted> Many;
            public static async Task Main(string[] args)
            {
                if (!Live.IsUpdating)
                {
                    Item = new Entry("k", 42); Checked = new Strict("s"); Pair1 = new Pair(7);
                    Points = [new Point { X = 1 }, new Point { X = 2 }];
                    Many = [.. Enumerable.Range(0, 5).Select(i => new Counted { N = i })];
                }
                await Live.RunAsync();
            }
        }
        """;

    private const string V2 = TestPrograms.Usings + """
        public static class Clock { public static long Calls; public static long NowMs() { Calls++; return 1_700_000_000_000; } }
        public record Entry(string Key, long Value)
        {
            public List<string> Tags { get; init; } = new() { "fresh" };
            public int Version = 2;
            public string Label = "new";
            public long Seen = Clock.NowMs();
            public string Maybe = Environment.GetEnvironmentVariable("MOLT_SURELY_UNSET") ?? "fallback";
            public int Chosen = DateTime.MaxValue.Year > 2000 ? 10 : 20;
        }
        public record struct Pair(int A, int B);
        public struct Point { public int X; public int Y = 9; public Point() { } }
        public class Strict
        {
            public string Name;
            public int Level = 5;
            public Strict(string name) { Name = name ?? throw new ArgumentNullException(nameof(name)); }
        }
        public class Counted
        {
            public static int Constructed;
            public int N;
            public List<int> Own = new();
            public Counted() { Constructed++; }
        }
        public static class Program
        {
            public static Entry Item;
            public static Strict Checked;
            public static Pair Pair1;
            public static Point[] Points;
            public static List<Counted> Many;
            public static async Task Main(string[] args) { await Live.RunAsync(); }
            public static string Report() =>
                $"{Item.Key} {Item.Value} {string.Join(",", Item.Tags)} {Item.Version} {Item.Label} {Item.Seen} {Item.Maybe} {Item.Chosen} | " +
                $"{Checked.Name} {Checked.Level} | {Pair1.A} {Pair1.B} | {Points[0].X},{Points[0].Y} {Points[1].X},{Points[1].Y} | " +
                $"{Counted.Constructed} {Many.Sum(c => c.N)} {Many.Select(c => c.Own).Distinct().Count()} {Clock.Calls}";
        }
        """;

    [Fact]
    public async Task Update_FieldsAdded_GetTheirInitializersWithoutAnyConstructorRunning()
    {
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("Added", "v1", V1));

        var result = await host.UpdateAsync(TestPrograms.Build("Added", "v2", V2));

        Assert.True(result.Outcome == UpdateOutcome.Committed, result.ToString());
        Assert.Empty(result.Warnings);
        // The record's initializers (a list per object, constants, a call of the program's code, ?? and ?:) each evaluated once for
        // the one entry; Strict's constructor, which rejects a null name, never ran; the positional parameter B added to the record
        // struct has no initializer: 0; the struct's Y = 9; Counted's constructor never ran (Constructed stays 0) while each object
        // got a list of its own (5 distinct lists); Clock.NowMs ran once, for the one Entry.
        Assert.Equal("k 42 fresh 2 new 1700000000000 fallback 10 | s 5 | 7 0 | 1,9 2,9 | 0 10 5 1", ProgramState.Call(host, "Program", "Report"));
    }

    [Fact]
    public async Task Update_AddedFieldInitializerThrows_RollsBackNamingTheField()
    {
        var v1 = TestPrograms.Usings + """
            public class Item { public int N; }
            public static class Program
            {
                public static Item One;
                public static async Task Main(string[] args) { if (!Live.IsUpdating) One = new Item { N = 3 }; await Live.RunAsync(); }
                public static int Read() => One.N;
            }
            """;
        var v2 = TestPrograms.Usings + """
            public class Item { public int N; public int Parsed = int.Parse("not a number"); }
            public static class Program
            {
                public static Item One;
                public static async Task Main(string[] args) { await Live.RunAsync(); }
                public static int Read() => One.N;
            }
            """;
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("AddedThrows", "v1", v1));

        var result = await host.UpdateAsync(TestPrograms.Build("AddedThrows", "v2", v2));

        Assert.True(result.Outcome == UpdateOutcome.RolledBack, result.ToString());
        Assert.Equal(UpdatePhase.Transfer, result.Failure!.Phase);
        Assert.Contains("Parsed", result.Failure.Message, StringComparison.Ordinal);
        Assert.Contains("FormatException", result.Failure.Message, StringComparison.Ordinal);
        Assert.Contains("static Program.One", result.Failure.Message, StringComparison.Ordinal);
        Assert.Equal(3, ProgramState.Call(host, "Program", "Read"));
    }

    [Fact]
    public async Task Update_ProgramCollectionDerivedFromDictionary_OnlyTheFrameworkBaseConstructorRuns()
    {
        var v1 = TestPrograms.Usings + """
            public class Registry : Dictionary<string, int> { public string Owner; }
            public static class Program
            {
                public static Registry Names;
                public static async Task Main(string[] args)
                {
                    if (!Live.IsUpdating) { Names = new Registry { Owner = "ann" }; Names["a"] = 1; Names["b"] = 2; }
                    await Live.RunAsync();
                }
            }
            """;
        var v2 = TestPrograms.Usings + """
            public class Registry : Dictionary<string, int>
            {
                public static int Built;
                public string Owner;
                public int Limit = 100;
                public Registry() { Built++; if (Built > 0) throw new InvalidOperationException("registries are built once"); }
            }
            public static class Program
            {
                public static Registry Names;
                public static async Task Main(string[] args) { await Live.RunAsync(); }
                public static string Report() => $"{Names.Owner} {Names.Limit} {Names["a"]} {Names["b"]} {Names.Count} {Registry.Built}";
            }
            """;
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("AddedDerived", "v1", v1));

        var result = await host.UpdateAsync(TestPrograms.Build("AddedDerived", "v2", v2));

        Assert.True(result.Outcome == UpdateOutcome.Committed, result.ToString());
        Assert.Equal("ann 100 1 2 2 0", ProgramState.Call(host, "Program", "Report"));
    }

    [Theory]
    [InlineData("switch", """public string Size = (DateTime.MaxValue.Month % 4) switch { 0 => "none", 1 => "one", 2 => "two", _ => "many" };""", "Item.Size")]
    [InlineData("stackalloc", """public int Total = Sum(stackalloc int[] { 1, 2, 3 }); static int Sum(ReadOnlySpan<int> values) { var sum = 0; foreach (var v in values) sum += v; return sum; }""", "Item.Total")]
    public async Task Update_InitializerComputedIntoLocalsFirst_IsRefusedAtPrepare_NeverLeftAtItsDefault(string name, string added, string field)
    {
        // C# computes a switch expression, or a stackalloc'd span, into locals before the initializer's own ldarg.0: code
        // this reader does not follow. The field must not look like one without an initializer (it was silently 0 or null).
        const string V1 = TestPrograms.Usings + """
            public class Item { public int N; }
            public static class Program
            {
                public static Item One;
                public static async Task Main(string[] args) { if (!Live.IsUpdating) One = new Item { N = 3 }; await Live.RunAsync(); }
                public static int Read() => One.N;
            }
            """;
        var v2 = V1.Replace("public class Item { public int N; }", "public class Item { public int N; " + added + " }", StringComparison.Ordinal);
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("AddedLocals_" + name, "v1", V1));
        var v2Path = TestPrograms.Build("AddedLocals_" + name, "v2", v2);

        var check = await host.CheckAsync(v2Path);
        var result = await host.UpdateAsync(v2Path);

        Assert.False(check.Compatible, string.Join("\n", check.Lines));
        Assert.True(result.Outcome == UpdateOutcome.Refused, result.ToString());
        Assert.Contains($"{field} is added, and its initializer could not be read apart from its constructor", result.Failure!.Message, StringComparison.Ordinal);
        Assert.Equal(3, ProgramState.Call(host, "Program", "Read"));
    }
}
