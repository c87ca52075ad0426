using System.Diagnostics.Tracing;

namespace Molt.Hosting.Tests;

/// <summary>The tests that watch tiered compilation: alone, since every other test's JIT work postpones tiering.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TieringCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Tiering (runs alone)";
}

/// <summary>
/// With <see cref="MoltHostOptions.UnloadOldCode"/> off, a version's code is tiered by the runtime; in a collectible
/// context (the default) it is not. The runtime starts recompiling hot methods only once no new method has been compiled
/// for a while (its call-counting delay): tests compiling programs in parallel would postpone it past any bound.
/// </summary>
[Collection(TieringCollection.Name)]
public class TieringTests
{
    private const string Hot = TestPrograms.Usings + """
        public static class Program
        {
            public static async Task Main(string[] args) => await Live.RunAsync();
            public static int HotLoopForTiering(int n) { var s = 0; for (var i = 0; i < n; i++) s += i ^ (s >> 3); return s; }
        }
        """;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ProgramCode_IsTieredOnlyWhenCodeIsKept(bool unloadOldCode)
    {
        var v1 = TestPrograms.Build(unloadOldCode ? "TierCollectible" : "TierKept", "v1", Hot);
        await using var host = await MoltHost.StartAsync(v1, options: new MoltHostOptions { UnloadOldCode = unloadOldCode });
        ProgramState.Call(host, "Program", "HotLoopForTiering", 10); // its first compilation, before the listener
        using var jit = new JitListener("HotLoopForTiering");

        // Tiering recompiles a method called often enough, a little after the calls (in the background): call it
        // until that is seen, within a bound; the runtime never recompiles code of a collectible context.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(unloadOldCode ? 3 : 30);
        while (DateTime.UtcNow < deadline && jit.Compilations == 0)
        {
            for (var i = 0; i < 200; i++)
            {
                ProgramState.Call(host, "Program", "HotLoopForTiering", 10);
            }
            await Task.Delay(50);
        }

        if (unloadOldCode)
        {
            Assert.Equal(0, jit.Compilations);
        }
        else
        {
            Assert.True(jit.Compilations > 0, "the program's hot method was not recompiled by tiered compilation");
        }
    }

    /// <summary>Counts the runtime's method-compiled events (MethodLoadVerbose) for one method name.</summary>
    private sealed class JitListener(string method) : EventListener
    {
        private int _compilations;

        public int Compilations => Volatile.Read(ref _compilations);

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime")
            {
                EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x10); // JIT
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (e.EventName is { } name && name.StartsWith("MethodLoadVerbose", StringComparison.Ordinal)
                && e.PayloadNames is { } names && names.IndexOf("MethodName") is var at and >= 0
                && e.Payload![at] as string == method)
            {
                Interlocked.Increment(ref _compilations);
            }
        }
    }
}
