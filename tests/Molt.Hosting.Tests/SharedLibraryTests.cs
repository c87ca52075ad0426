namespace Molt.Hosting.Tests;

/// <summary>
/// A library of the program's own that two versions ship unchanged is loaded once and shared: its objects pass by reference
/// (a keyspace of any size costs a handful of objects), unless what they hold could be the old version's; a later build of
/// it is a library of its own, and the old one is released and proven collected; a rollback gives the old version its state.
/// </summary>
public class SharedLibraryTests
{
    // The state's types: entries and their values, a keyspace in a static, a holder whose object field may hold anything,
    // and a static list of objects that the program fills with its own objects.
    private const string Library = """
        using System.Collections.Generic;
        namespace Lib;
        public abstract class Value { }
        public sealed class Text : Value { public string S; }
        public sealed class Entry { public Value Value; public long Deadline; EXTRA }
        public static class Keyspace { public static readonly Dictionary<string, Entry> Keys = new(); }
        public sealed class Holder { public object Tag; }
        public static class Registry { public static List<object> Items = new(); }
        """;

    private static string LibraryBuild(string extra = "") => Library.Replace("EXTRA", extra, StringComparison.Ordinal);

    private const string Program = TestPrograms.Usings + """
        using System.Runtime.CompilerServices;
        using System.Runtime.Loader;
        using Lib;
        public class Note { public string Text; }
        CUSTOMTYPE
        public static class Program
        {
            // A generic instantiation over a type of the library and one of the program: the runtime keeps it in the younger of
            // the two contexts, which then holds the other (the library's context must be the older, or it would hold v1).
            public static List<KeyValuePair<Entry, Note>> Pairs = new();
            public static Entry Pinned;
            public static Holder Held, Plain;
            public static async Task Main(string[] args)
            {
                if (!Live.IsUpdating)
                {
                    var n = int.Parse(args[0]);
                    for (var i = 0; i < n; i++) Keyspace.Keys["k" + i] = new Entry { Value = new Text { S = "v" + i }, Deadline = i };
                    CUSTOMENTRY
                    Pinned = Keyspace.Keys["k0"];
                    Pairs.Add(new KeyValuePair<Entry, Note>(Pinned, new Note { Text = "paired" }));
                    Held = new Holder { Tag = new Note { Text = "held" } };
                    Plain = new Holder { Tag = "plain" };
                    Registry.Items.Add(new Note { Text = "registered" });
                    Registry.Items.Add("text");
                }
                STARTUP
                await Live.RunAsync();
            }
            public static string Report() =>
                $"{Keyspace.Keys.Count} {ReferenceEquals(Pinned, Keyspace.Keys["k0"])} {((Text)Pinned.Value).S} {((Note)Held.Tag).Text} {Plain.Tag} " +
                $"{((Note)Registry.Items[0]).Text},{Registry.Items[1]} " +
                $"{CUSTOMREPORT} RELEASE";
            public static int KeyspaceIdentity() => RuntimeHelpers.GetHashCode(Keyspace.Keys);
            public static string Registered() => string.Join(",", Registry.Items.Select(i => i?.GetType().Name ?? "null"));
            public static string LibraryContext() => AssemblyLoadContext.GetLoadContext(typeof(Entry).Assembly)!.Name;
            public static bool SameContextAsProgram() => AssemblyLoadContext.GetLoadContext(typeof(Entry).Assembly) == AssemblyLoadContext.GetLoadContext(typeof(Program).Assembly);
        }
        """;

    private static string Build(string version, string library, string startUp = "", bool custom = false)
    {
        var source = Program.Replace("RELEASE", version, StringComparison.Ordinal).Replace("STARTUP", startUp, StringComparison.Ordinal)
            .Replace("CUSTOMTYPE", custom ? "public class Custom : Value { public Note N; }" : "", StringComparison.Ordinal)
            .Replace("CUSTOMENTRY", custom ? """Keyspace.Keys["custom"] = new Entry { Value = new Custom { N = new Note { Text = "inside" } } };""" : "", StringComparison.Ordinal)
            .Replace("CUSTOMREPORT", custom ? """((Custom)Keyspace.Keys["custom"].Value).N.Text""" : "\"-\"", StringComparison.Ordinal);
        return TestPrograms.Build(custom ? "SharedLibCustom" : "SharedLib", version, source, ("Lib", library));
    }

    private static async Task<(UpdateResult Result, string Before, string After, bool SameKeyspace)> UpdateOnce(int keys, bool share, bool custom = false)
    {
        var v1 = Build("v1", LibraryBuild(), custom: custom);
        var v2 = Build("v2", LibraryBuild(), custom: custom);
        await using var host = await MoltHost.StartAsync(v1, [keys.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            new MoltHostOptions { ShareLibraries = share });
        var before = (string)ProgramState.Call(host, "Program", "Report")!;
        var identity = ProgramState.Call(host, "Program", "KeyspaceIdentity");
        var result = await host.UpdateAsync(v2);
        Assert.True(result.Outcome == UpdateOutcome.Committed && result.OldVersionUnloaded == true, result.ToString());
        return (result, before, (string)ProgramState.Call(host, "Program", "Report")!, Equals(identity, ProgramState.Call(host, "Program", "KeyspaceIdentity")));
    }

    [Fact]
    public async Task Update_LibraryUnchanged_LoadedOnce_ItsObjectsPassByReference_WhateverTheirNumber()
    {
        var small = await UpdateOnce(10, share: true);
        var large = await UpdateOnce(20_000, share: true);

        Assert.Equal("10 True v0 held plain registered,text - v1", small.Before);
        Assert.Equal("10 True v0 held plain registered,text - v2", small.After);
        Assert.Equal("20000 True v0 held plain registered,text - v2", large.After);
        Assert.True(large.SameKeyspace, "the keyspace is the very same dictionary after the update");
        Assert.Equal(["Lib 0.0.0.0"], large.Result.SharedLibraries);
        Assert.Empty(large.Result.LibrariesReleased);
        // What is rebuilt is the program's own (the holders' notes, the registry's note): the same count at 10 keys and at 20,000.
        Assert.Equal(small.Result.ObjectsRebuilt, large.Result.ObjectsRebuilt);
        Assert.InRange(large.Result.ObjectsRebuilt, 1, 20);
    }

    [Fact]
    public async Task Update_SharingOff_EveryObjectOfTheLibraryIsRebuilt()
    {
        var (result, _, after, sameKeyspace) = await UpdateOnce(20_000, share: false);

        Assert.Equal("20000 True v0 held plain registered,text - v2", after);
        Assert.False(sameKeyspace);
        Assert.Empty(result.SharedLibraries);
        Assert.True(result.ObjectsRebuilt >= 40_000, result.ToString());
    }

    [Fact]
    public async Task Update_ProgramTypeDerivedFromASharedType_EntriesThatMayHoldItAreRebuilt()
    {
        // A type of the program derives from the library's Value: an entry's Value may be the old version's, so entries are
        // rebuilt (as the same shared type), and the one holding a Custom holds the new version's Custom.
        var (result, _, after, sameKeyspace) = await UpdateOnce(1_000, share: true, custom: true);

        Assert.Equal("1001 True v0 held plain registered,text inside v2", after);
        Assert.False(sameKeyspace);
        Assert.True(result.ObjectsRebuilt >= 1_000, result.ToString());
    }

    [Fact]
    public async Task Update_LibraryChangedInALaterVersion_RebuiltThen_AndTheOldBuildReleasedAndCollected()
    {
        var v1 = Build("v1", LibraryBuild());
        var v2 = Build("v2", LibraryBuild());
        var v3 = Build("v3", LibraryBuild("public int Hits = 7;"));
        await using var host = await MoltHost.StartAsync(v1, ["500"]);
        var first = (string)ProgramState.Call(host, "Program", "LibraryContext")!;
        Assert.False((bool)ProgramState.Call(host, "Program", "SameContextAsProgram")!);

        var shared = await host.UpdateAsync(v2);
        Assert.True(shared.Outcome == UpdateOutcome.Committed && shared.OldVersionUnloaded == true, shared.ToString());
        Assert.Equal(first, ProgramState.Call(host, "Program", "LibraryContext"));

        var changed = await host.UpdateAsync(v3);

        // OldVersionUnloaded covers the released library: its context was collected with the version.
        Assert.True(changed.Outcome == UpdateOutcome.Committed && changed.OldVersionUnloaded == true, changed.ToString());
        Assert.Empty(changed.SharedLibraries);
        Assert.Equal(["Lib 0.0.0.0"], changed.LibrariesReleased);
        Assert.True(changed.ObjectsRebuilt >= 1_000, changed.ToString());
        Assert.NotEqual(first, ProgramState.Call(host, "Program", "LibraryContext"));
        Assert.Equal("500 True v0 held plain registered,text - v3", ProgramState.Call(host, "Program", "Report"));
        Assert.DoesNotContain(System.Runtime.Loader.AssemblyLoadContext.All, c => c.Name == first);
    }

    [Fact]
    public async Task Rollback_AcrossASharedLibrary_OldVersionGoesOnWithItsObjects_AndTheLibraryStatics()
    {
        var v1 = Build("v1", LibraryBuild());
        var failing = Build("v2-fails", LibraryBuild(), """if (Live.IsUpdating) throw new InvalidOperationException("start-up failed");""");
        await using var host = await MoltHost.StartAsync(v1, ["300"]);
        var identity = ProgramState.Call(host, "Program", "KeyspaceIdentity");

        var result = await host.UpdateAsync(failing);

        Assert.Equal(UpdateOutcome.RolledBack, result.Outcome);
        Assert.True(result.FailedVersionUnloaded, result.ToString());
        Assert.Empty(result.LibrariesReleased);
        // The registry, a static of the shared library, was given the new version's note in the transfer: it holds v1's again
        // (the cast to v1's Note would fail otherwise), and the keyspace is the same object.
        Assert.Equal("300 True v0 held plain registered,text - v1", ProgramState.Call(host, "Program", "Report"));
        Assert.Equal(identity, ProgramState.Call(host, "Program", "KeyspaceIdentity"));
    }

    [Fact]
    public async Task Update_AfterARollback_TheSharedLibraryStillServesTheNextVersion()
    {
        var v1 = Build("v1", LibraryBuild());
        var failing = Build("v2-fails", LibraryBuild(), """if (Live.IsUpdating) throw new InvalidOperationException("start-up failed");""");
        var v2 = Build("v2", LibraryBuild());
        await using var host = await MoltHost.StartAsync(v1, ["300"]);
        Assert.Equal(UpdateOutcome.RolledBack, (await host.UpdateAsync(failing)).Outcome);

        var result = await host.UpdateAsync(v2);

        Assert.True(result.Outcome == UpdateOutcome.Committed && result.OldVersionUnloaded == true, result.ToString());
        Assert.Equal(["Lib 0.0.0.0"], result.SharedLibraries);
        Assert.Equal("300 True v0 held plain registered,text - v2", ProgramState.Call(host, "Program", "Report"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Check_ReportsTheSharedLibrary_AndEachOfItsTypesThatIsRebuilt(bool custom)
    {
        var v1 = Build("v1", LibraryBuild(), custom: custom);
        var v2 = Build("v2", LibraryBuild(), custom: custom);
        await using var host = await MoltHost.StartAsync(v1, ["50"]);

        var check = await host.CheckAsync(v2);

        Assert.True(check.Compatible, string.Join("\n", check.Lines));
        var library = Assert.Single(check.Findings, f => f.Kind == Molt.Hosting.Control.CheckFindingKind.SharedLibrary && f.Subject == "Lib 0.0.0.0");
        Assert.Contains("= library Lib 0.0.0.0 shared, not rebuilt", library.Detail, StringComparison.Ordinal);
        // The registry's List<object> may hold the program's objects whatever the program: it is given the new version's in place.
        Assert.Contains("static Lib.Registry.Items", library.Detail, StringComparison.Ordinal);
        var rebuilt = check.Findings.Where(f => f.Kind == Molt.Hosting.Control.CheckFindingKind.SharedLibrary && f.Subject != "Lib 0.0.0.0")
            .Select(f => f.Subject).Order(StringComparer.Ordinal).ToList();
        // Without a program type derived from Value, only the holder (an object field) is; with one, every type that can reach a Value is.
        Assert.Equal(custom ? ["Lib.Entry", "Lib.Holder"] : ["Lib.Holder"], rebuilt);
    }

    [Fact]
    public async Task CheckAndUpdate_ASharedStaticHoldingTheOldVersionsCode_RefusedWithItsPath_AndTheOldVersionServesOn()
    {
        // The library's List<object> gets a lambda of v1's: the update cannot carry it, and the check's trial, which tries the
        // shared statics the transfer would give new objects, says so first.
        const string lambda = """if (!Live.IsUpdating) Registry.Items.Add(new Func<int>(() => 42));""";
        var v1 = Build("v1-lambda", LibraryBuild(), lambda);
        var v2 = Build("v2-lambda", LibraryBuild());
        await using var host = await MoltHost.StartAsync(v1, ["20"]);

        var check = await host.CheckAsync(v2);
        var result = await host.UpdateAsync(v2);

        Assert.False(check.Compatible, string.Join("\n", check.Lines));
        Assert.Contains(check.Findings, f => f.Kind == Molt.Hosting.Control.CheckFindingKind.StateRefused && f.Subject.StartsWith("static Lib.Registry.Items", StringComparison.Ordinal));
        Assert.Equal(UpdateOutcome.RolledBack, result.Outcome);
        Assert.True(result.Failure!.StatePath?.StartsWith("static Lib.Registry.Items", StringComparison.Ordinal) == true, result.ToString());
        Assert.True(result.FailedVersionUnloaded, result.ToString());
        Assert.Equal("20 True v0 held plain registered,text - v1-lambda", ProgramState.Call(host, "Program", "Report"));
        Assert.Equal("Note,String,Func`1", ProgramState.Call(host, "Program", "Registered"));
    }
}
