namespace Molt.Hosting.Tests;

/// <summary>
/// A library shipped beside the program loads into a context of its own (<see cref="SharedLibraryTests"/>), not the default
/// one: a version that ships another build of it gets its own copy, objects of the library's types are rebuilt as the new
/// copy's types, and the old copy is unloaded with the old version.
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
        Assert.Equal("7 lib1 box 7 False", ProgramState.Call(host, "Program", "Report"));

        var result = await host.UpdateAsync(v2);

        Assert.True(result.Outcome == UpdateOutcome.Committed && result.OldVersionUnloaded == true, result.ToString());
        Assert.Equal("7 lib2 labelled box 7 False", ProgramState.Call(host, "Program", "Report"));
    }

    // The library holds state of its own in statics: a registry of names and a pool of its own type's objects.
    private const string StatefulProgram = TestPrograms.Usings + """
        public static class Program
        {
            public static async Task Main(string[] args)
            {
                if (!Live.IsUpdating) { Shapes.Registry.Add("first"); Shapes.Registry.Add("second"); }
                await Live.RunAsync();
            }
            public static string Report() => Shapes.Registry.Describe();
        }
        """;

    private const string StatefulLibrary = """
        using System.Collections.Generic;
        namespace Shapes;
        public class Box { public string Name; }
        public static class Registry
        {
            private static readonly List<Box> Boxes = new();
            // A library's caches of its own code, as third-party libraries keep them: they cannot cross, and are left.
            private static readonly Dictionary<string, System.Func<string, string>> Formats = new() { ["plain"] = s => s };
            public static System.Func<int, int> Count = n => n;
            public static int Added { get; private set; }
            public static void Add(string name) { Boxes.Add(new Box { Name = name }); Added++; }
            public static string Describe() => string.Join(",", Boxes.ConvertAll(b => Formats["plain"](b.Name))) + " " + Count(Added) + " RELEASE";
        }
        """;

    [Fact]
    public async Task Update_StaticsOfALibraryShippedBesideTheProgram_Migrated()
    {
        var v1 = TestPrograms.Build("WithStatefulLibrary", "v1", StatefulProgram, ("Shapes", StatefulLibrary.Replace("RELEASE", "lib1", StringComparison.Ordinal)));
        var v2 = TestPrograms.Build("WithStatefulLibrary", "v2", StatefulProgram, ("Shapes", StatefulLibrary.Replace("RELEASE", "lib2", StringComparison.Ordinal)));
        await using var host = await MoltHost.StartAsync(v1);
        Assert.Equal("first,second 2 lib1", ProgramState.Call(host, "Program", "Report"));
        var check = await host.CheckAsync(v2);
        Assert.True(check.Compatible, string.Join("\n", check.Lines));
        Assert.Contains(check.Findings, f => f.Subject == "static Shapes.Registry.Count" && f.Severity == Molt.Hosting.Control.CheckSeverity.Info
            && f.Detail.Contains("left to the new version's initializer", StringComparison.Ordinal));

        var result = await host.UpdateAsync(v2);

        Assert.True(result.Outcome == UpdateOutcome.Committed && result.OldVersionUnloaded == true, result.ToString());
        Assert.Equal("first,second 2 lib2", ProgramState.Call(host, "Program", "Report"));
    }

    private const string PackageProgram = TestPrograms.Usings + """
        public static class Program
        {
            public static Shapes.Box Item;
            public static async Task Main(string[] args) { if (!Live.IsUpdating) { Item = new Shapes.Box { Value = 7 }; Shapes.Counter.Count = 5; } await Live.RunAsync(); }
            public static string Report() => $"{Item.Value} {Shapes.Counter.Count} {Shapes.Box.Release}";
        }
        """;

    private const string PackageLibrary = """
        namespace Shapes;
        public class Box { public int Value; public const string Release = "RELEASE"; }
        public static class Counter { public static int Count; }
        """;

    /// <summary>Builds a version and writes the .deps.json a build writes when the library comes from a NuGet package.</summary>
    private static string BuildWithPackage(string version)
    {
        // v2 of the package adds a static: the program's own library would have it listed by the check.
        var library = PackageLibrary.Replace("RELEASE", version, StringComparison.Ordinal) + (version == "v2" ? "public static class Added { public static int Extra; }\n" : "");
        var path = TestPrograms.Build("WithPackage", version, PackageProgram, ("Shapes", library));
        File.WriteAllText(Path.ChangeExtension(path, ".deps.json"), """
            {
              "runtimeTarget": { "name": ".NETCoreApp,Version=v10.0", "signature": "" },
              "compilationOptions": {},
              "targets": { ".NETCoreApp,Version=v10.0": {
                  "WithPackage/1.0.0": { "dependencies": { "Shapes": "1.0.0" }, "runtime": { "WithPackage.dll": {} } },
                  "Shapes/1.0.0": { "runtime": { "lib/net10.0/Shapes.dll": { "assemblyVersion": "0.0.0.0", "fileVersion": "0.0.0.0" } } } } },
              "libraries": {
                  "WithPackage/1.0.0": { "type": "project", "serviceable": false, "sha512": "" },
                  "Shapes/1.0.0": { "type": "package", "serviceable": true, "sha512": "sha512-AAAA", "path": "shapes/1.0.0", "hashPath": "shapes.1.0.0.nupkg.sha512" } }
            }
            """);
        return path;
    }

    [Fact]
    public async Task Update_APackagesStatics_StartAnew_ItsObjectsReachedFromTheProgramAreRebuilt()
    {
        var v1 = BuildWithPackage("v1");
        var v2 = BuildWithPackage("v2");
        await using var host = await MoltHost.StartAsync(v1);
        Assert.Equal("7 5 v1", ProgramState.Call(host, "Program", "Report"));

        var check = await host.CheckAsync(v2);
        var result = await host.UpdateAsync(v2);

        // A package is third-party code: its types are not the program's to compare, its statics start anew (as the
        // framework's would); the program's own state, a Box included, crosses.
        Assert.DoesNotContain(check.Findings, f => f.Subject.Contains("Shapes.", StringComparison.Ordinal));
        Assert.True(result.Outcome == UpdateOutcome.Committed && result.OldVersionUnloaded == true, result.ToString());
        Assert.Equal("7 0 v2", ProgramState.Call(host, "Program", "Report"));
    }
}
