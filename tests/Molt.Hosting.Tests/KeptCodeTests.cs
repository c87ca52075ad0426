using System.Reflection;

namespace Molt.Hosting.Tests;

/// <summary>
/// With <see cref="MoltHostOptions.UnloadOldCode"/> off, versions run from contexts that are not collectible: their
/// code is tiered by the runtime, and an old version's state is still released when an update retires it.
/// </summary>
public class KeptCodeTests
{
    private const string Store = TestPrograms.Usings + """
        public class Entry { public int N; }
        public static class Program
        {
            public static Dictionary<string, Entry> Keys = new();
            private static readonly Entry[] Pinned = [new Entry { N = 7 }];
            public static int Count;
            public static async Task Main(string[] args)
            {
                if (!Live.IsUpdating) { Keys["a"] = new Entry { N = 41 }; Count = 1; }
                await Live.RunAsync();
            }
            public static int Read(string key) => Keys[key].N;
            public static int PinnedN() => Pinned[0].N;
            public static bool Collectible() => System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(typeof(Program).Assembly)!.IsCollectible;
        }
        """;

    private static MoltHostOptions KeepCode() => new() { UnloadOldCode = false };

    /// <summary>Builds v1 and v2 of a program (v2 the same source), starts v1 keeping old code, and calls <paramref name="before"/> on it.</summary>
    private static async Task<(MoltHost Host, UpdateResult Result)> UpdateKeepingCodeAsync(string program, string source, Action<MoltHost>? before = null)
    {
        var v1 = TestPrograms.Build(program, "v1", source);
        var v2 = TestPrograms.Build(program, "v2", source + "\n// v2");
        var host = await MoltHost.StartAsync(v1, options: KeepCode());
        before?.Invoke(host);
        return (host, await host.UpdateAsync(v2));
    }

    [Fact]
    public async Task Update_CodeKept_CarriesState_ClearsTheOldStatics_AndProvesTheirStateCollected()
    {
        Type? oldProgram = null;
        var (host, result) = await UpdateKeepingCodeAsync("Kept", Store, h =>
        {
            Assert.False((bool)ProgramState.Call(h, "Program", "Collectible")!);
            oldProgram = ProgramType(h);
        });
        await using var _ = host;

        Assert.True(result.Outcome == UpdateOutcome.Committed, result.ToString());
        Assert.Equal(41, ProgramState.Call(host, "Program", "Read", "a"));
        Assert.Equal(7, ProgramState.Call(host, "Program", "PinnedN"));
        Assert.False((bool)ProgramState.Call(host, "Program", "Collectible")!);
        // The old code is still loaded, its statics cleared (the readonly one too), and what they held was collected.
        Assert.Null(oldProgram!.GetField("Keys")!.GetValue(null));
        Assert.Null(oldProgram.GetField("Pinned", BindingFlags.NonPublic | BindingFlags.Static)!.GetValue(null));
        Assert.Equal(1, oldProgram.GetField("Count")!.GetValue(null));
        Assert.True(result.OldVersionUnloaded == true, result.ToString());
    }

    private const string GenericStore = TestPrograms.Usings + """
        public class Entry { public int N; }
        public static class Pool<T> { public static List<T> Items = new(); }
        public static class Program
        {
            public static async Task Main(string[] args)
            {
                if (!Live.IsUpdating) Pool<Entry>.Items.Add(new Entry { N = 12 });
                await Live.RunAsync();
            }
            public static int First() => Pool<Entry>.Items[0].N;
        }
        """;

    [Fact]
    public async Task Update_CodeKept_ClearsTheStaticsOfGenericInstantiations_AndProvesTheirStateCollected()
    {
        Assembly? oldAssembly = null;
        var (host, result) = await UpdateKeepingCodeAsync("KeptGeneric", GenericStore, h => oldAssembly = ProgramType(h).Assembly);
        await using var _ = host;

        Assert.True(result.Outcome == UpdateOutcome.Committed, result.ToString());
        Assert.Equal(12, ProgramState.Call(host, "Program", "First"));
        var oldPool = oldAssembly!.GetType("Pool`1")!.MakeGenericType(oldAssembly.GetType("Entry")!);
        Assert.Null(oldPool.GetField("Items")!.GetValue(null));
        Assert.True(result.OldVersionUnloaded == true, result.ToString());
    }

    private const string Leaky = TestPrograms.Usings + """
        public class Settings { public int N = 3; }
        public static class Program
        {
            public static Settings Current = new();
            public static async Task Main(string[] args)
            {
                if (!Live.IsUpdating) AppContext.SetData("kept.settings", Current);
                await Live.RunAsync();
            }
        }
        """;

    [Fact]
    public async Task Update_CodeKept_OldStateHeldFromOutside_WarnsNamingTheStaticAndWhatHoldsIt()
    {
        // This test leaks its v1's Settings on purpose, for the life of the test process: that is what it shows.
        var (host, result) = await UpdateKeepingCodeAsync("KeptLeaky", Leaky);
        await using var _ = host;

        Assert.Equal(UpdateOutcome.Committed, result.Outcome);
        Assert.False(result.OldVersionUnloaded);
        Assert.Contains(result.Warnings, w => w.Contains("state (generation 0) was not collected", StringComparison.Ordinal) && w.Contains("Program.Current", StringComparison.Ordinal));
        Assert.Contains(result.Warnings, w => w.Contains("AppContext.SetData(\"kept.settings\")", StringComparison.Ordinal));
    }

    // Its start-up throws when it starts as an update: after the transfer wrote its statics.
    private static readonly string FailsToStart = Store.Replace(
        "if (!Live.IsUpdating) {", "if (Live.IsUpdating) throw new InvalidOperationException(\"v2 refuses to start\"); {", StringComparison.Ordinal);

    [Fact]
    public async Task Update_CodeKept_FailsAfterTransfer_OldVersionServesItsState_AndTheNextUpdateCommits()
    {
        var v1 = TestPrograms.Build("KeptFail", "v1", Store);
        var bad = TestPrograms.Build("KeptFail", "v2bad", FailsToStart);
        var good = TestPrograms.Build("KeptFail", "v2", Store + "\n// v2");
        await using var host = await MoltHost.StartAsync(v1, options: KeepCode());

        var failed = await host.UpdateAsync(bad);

        Assert.True(failed.Outcome == UpdateOutcome.RolledBack, failed.ToString());
        Assert.Contains("v2 refuses to start", failed.Failure!.Message, StringComparison.Ordinal);
        Assert.Equal(0, host.Version.Generation);
        Assert.Equal(41, ProgramState.Call(host, "Program", "Read", "a"));

        var result = await host.UpdateAsync(good);

        Assert.True(result.Outcome == UpdateOutcome.Committed && result.OldVersionUnloaded == true, result.ToString());
        Assert.Equal(good, host.Version.AssemblyPath);
        Assert.Equal(41, ProgramState.Call(host, "Program", "Read", "a"));
    }

    // A thread unit whose finally, when it is retired by an update, reads a static of its version a little later.
    private const string SlowUnwinding = TestPrograms.Usings + """
        public class S { public int N; }
        public static class Program
        {
            public static string Name = "v1-static";
            public static async Task Main(string[] args) { if (!Live.IsUpdating) Live.StartThreadUnit("t", new S(), Run); await Live.RunAsync(); }
            public static void Run(S s)
            {
                var handedOver = false;
                try { while (true) { Live.UpdatePoint("p"); s.N++; Thread.Sleep(2); } }
                catch (UnitRetiredException e) { handedOver = !e.Stopping; throw; }
                finally
                {
                    if (handedOver) { Thread.Sleep(200); AppContext.SetData("kept.unwound", Name ?? "cleared"); }
                }
            }
        }
        """;

    [Fact]
    public async Task Update_CodeKept_RetiredThreadUnitsFinishUnwinding_BeforeTheOldStaticsAreCleared()
    {
        var (host, result) = await UpdateKeepingCodeAsync("KeptUnwind", SlowUnwinding);
        await using var _ = host;

        Assert.True(result.Outcome == UpdateOutcome.Committed && result.OldVersionUnloaded == true, result.ToString());
        Assert.Equal("v1-static", AppContext.GetData("kept.unwound"));
    }

    private static Type ProgramType(MoltHost host) => host.RunningAssembly.GetType("Program")!;
}
