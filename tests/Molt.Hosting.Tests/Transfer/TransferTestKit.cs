namespace Molt.Hosting.Tests.Transfer;

/// <summary>
/// Shared steps of the state transfer tests: each test compiles two (or more) versions of a tiny program,
/// starts the first, updates it, and reads the running version's state through its static methods.
/// </summary>
internal static class TransferTestKit
{
    /// <summary>
    /// A program source with the usual usings and a Main that calls <c>Program.Init()</c> on a fresh start
    /// only (an update's start-up keeps the migrated state). The source declares <c>static partial class Program</c>
    /// with an <c>Init</c> method and whatever it reports. With <paramref name="ticker"/>, Main also starts a unit
    /// "ticker" that counts its rounds in <c>Program.Ticks</c> and the update requests it saw in <c>Program.Wakes</c>.
    /// </summary>
    public static string Program(string source, bool ticker = false) =>
        TestPrograms.Usings + "using System.Collections;\nusing System.Runtime.CompilerServices;\n\n" + source + (ticker ? Ticker : "") + $$"""

        public static partial class Program
        {
            public static async Task Main(string[] args)
            {
                if (!Live.IsUpdating)
                {
                    Init();
                }
                {{(ticker ? "Live.StartUnit(\"ticker\", new TickerState(), Tick);" : "")}}
                await Live.RunAsync();
            }
        }
        """;

    private const string Ticker = """

        public class TickerState { public int Rounds; }
        public static partial class Program
        {
            public static int Ticks;
            public static int Wakes;
            public static async Task Tick(TickerState state)
            {
                for (var i = 0; i < 1_000_000; i++)
                {
                    await Live.UpdatePointAsync("tick");
                    state.Rounds++;
                    Interlocked.Increment(ref Ticks);
                    try { await Task.Delay(5, Live.UpdateRequested); } catch (OperationCanceledException) { Interlocked.Increment(ref Wakes); }
                }
            }
            public static int GetTicks() => Volatile.Read(ref Ticks);
            public static int GetWakes() => Volatile.Read(ref Wakes);
        }
        """;

    /// <summary>Waits (up to 20 s) until the running version's ticker unit has gone round a few more times: the program is serving.</summary>
    public static async Task AssertStillTicking(MoltHost host)
    {
        var start = (int)ProgramState.Call(host, "Program", "GetTicks")!;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while ((int)ProgramState.Call(host, "Program", "GetTicks")! < start + 3)
        {
            Assert.True(DateTime.UtcNow < deadline, "the program's unit stopped going round");
            await Task.Delay(10);
        }
    }

    /// <summary>Compiles both versions, starts the first and updates it to the second. The caller disposes the host.</summary>
    public static async Task<(MoltHost Host, UpdateResult Result)> StartAndUpdate(string name, string v1, string v2)
    {
        var v1Path = TestPrograms.Build(name, "v1", v1);
        var v2Path = TestPrograms.Build(name, "v2", v2);
        var host = await MoltHost.StartAsync(v1Path);
        try
        {
            return (host, await host.UpdateAsync(v2Path));
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    /// <summary>Asserts that the update committed and that the old version was collected (no leak of old versions).</summary>
    public static void AssertCommitted(UpdateResult result)
    {
        Assert.True(result.Outcome == UpdateOutcome.Committed, result.ToString());
        Assert.True(result.OldVersionUnloaded == true, "old version not unloaded: " + result);
    }

    /// <summary>Asserts that the update rolled back in the given phase, and that the old version is still the running one.</summary>
    public static UpdateFailedException AssertRolledBack(MoltHost host, UpdateResult result, UpdatePhase phase)
    {
        Assert.True(result.Outcome == UpdateOutcome.RolledBack, result.ToString());
        Assert.NotNull(result.Failure);
        Assert.Equal(phase, result.Failure.Phase);
        Assert.Equal(0, host.Version.Generation);
        Assert.Equal(result.From, host.Version);
        return result.Failure;
    }

    /// <summary>Calls <c>Program.Report()</c> (or another static method of Program) in the running version.</summary>
    public static string? Report(MoltHost host, string method = "Report") => ProgramState.Call(host, "Program", method)?.ToString();
}
