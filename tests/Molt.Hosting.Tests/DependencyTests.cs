namespace Molt.Hosting.Tests;

/// <summary>
/// A library shipped beside the program loads into the version's own context, not the shared one: each
/// version gets its own copy, objects of the library's types are rebuilt as the new copy's types, and the
/// old copy is unloaded with the old version.
/// </summary>
public class DependencyTests
{
    private const string Program = TestPrograms.Usings + """
        using System.Runtime.Loader;
        public static class Program
        {
            public static Shapes.Box Item;
            public static async Task Main(string[] args) { if (!Live.IsUpdating) Item = new Shapes.Box { Value = 7 }; await Live.RunAsync(); }
            public static string Report() =>
                $"{Item.Value} {Shapes.Box.Release} {Item.Describe()} " +
                $"{AssemblyLoadContext.GetLoadContext(typeof(Shapes.Box).Assembly) == AssemblyLoadContext.GetLoadContext(typeof(Program).Assembly)}";
        }
        """;

    private const string LibraryV1 = """
        namespace Shapes;
        public class Box { public int Value; public const string Release = "lib1"; public string Describe() => $"box {Value}"; }
        """;

    private const string LibraryV2 = """
        namespace Shapes;
        public class Box { public long Value; public string Label = "labelled"; public const string Release = "lib2"; public string Describe() => $"{Label} box {Value}"; }
        """;

    [Fact]
    public async Task Update_LibraryShippedBesideTheProgram_LoadsPerVersionAndItsObjectsAreRebuilt()
    {
        var v1 = TestPrograms.Build("WithLibrary", "v1", Program, ("Shapes", LibraryV1));
        var v2 = TestPrograms.Build("WithLibrary", "v2", Program, ("Shapes", LibraryV2));
        await using var host = await MoltHost.StartAsync(v1);
        Assert.Equal("7 lib1 box 7 True", ProgramState.Call(host, "Program", "Report"));

        var result = await host.UpdateAsync(v2);

        Assert.True(result.Outcome == UpdateOutcome.Committed && result.OldVersionUnloaded == true, result.ToString());
        Assert.Equal("7 lib2 labelled box 7 True", ProgramState.Call(host, "Program", "Report"));
    }
}
