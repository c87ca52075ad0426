namespace Molt.Hosting.Tests;

public class SmokeTests
{
    private const string V1 = TestPrograms.Usings + """
        public class Counter { public int Count; public string Name; }
        public class Ticker { public int Ticks; }
        public static class Program
        {
            public static Dictionary<string, Counter> Counters = new();
            public static int Started;
            public static async Task Main(string[] args)
            {
                if (!Live.IsUpdating) { Counters["a"] = new Counter { Count = 41, Name = "a" }; Started++; }
                Live.StartUnit("ticker", new Ticker(), Tick);
                await Live.RunAsync();
            }
            public static async Task Tick(Ticker t)
            {
                while (true)
                {
                    await Live.UpdatePointAsync("tick");
                    t.Ticks++;
                    try { await Task.Delay(5, Live.UpdateRequested); } catch (OperationCanceledException) { }
                }
            }
            public static string Report() => $"v1 {Counters["a"].Count}";
        }
        """;

    private const string V2 = TestPrograms.Usings + """
        public class Counter { public long Count; public string Name; public int Hits = 7; }
        public class Ticker { public int Ticks; }
        public static class Program
        {
            public static Dictionary<string, Counter> Counters = new();
            public static int Started;
            public static async Task Main(string[] args)
            {
                if (!Live.IsUpdating) { Counters["a"] = new Counter { Count = 1, Name = "fresh" }; Started++; }
                Live.StartUnit("ticker", new Ticker(), Tick);
                await Live.RunAsync();
            }
            public static async Task Tick(Ticker t)
            {
                while (true)
                {
                    await Live.UpdatePointAsync("tick");
                    t.Ticks++;
                    try { await Task.Delay(5, Live.UpdateRequested); } catch (OperationCanceledException) { }
                }
            }
            public static string Report() => $"v2 {Counters["a"].Count} {Counters["a"].Name} {Counters["a"].Hits} started={Started}";
        }
        """;

    [Fact]
    public async Task Update_CarriesStaticsAcross()
    {
        var v1 = TestPrograms.Build("Smoke", "v1", V1);
        var v2 = TestPrograms.Build("Smoke", "v2", V2);
        await using var host = await MoltHost.StartAsync(v1);
        await Task.Delay(50);
        var result = await host.UpdateAsync(v2);
        Assert.True(result.Outcome == UpdateOutcome.Committed, result.ToString());
        Assert.True(result.OldVersionUnloaded, result.ToString());
        var report = ProgramState.Call(host, "Program", "Report");
        Assert.Equal("v2 41 a 7 started=1", report);
    }

    [Fact]
    public async Task ProcessUpdate_OfAnEmbeddedHost_IsRefusedInWords_AndTheProgramGoesOn()
    {
        // Only `molt run`'s supervisor starts a new process: a host embedded in another program refuses a process update
        // before anything pauses, says why, and the old version serves on with its state.
        var v1 = TestPrograms.Build("Smoke", "v1", V1);
        var v2 = TestPrograms.Build("Smoke", "v2", V2);
        await using var host = await MoltHost.StartAsync(v1);
        var result = await host.UpdateAsync(v2, new UpdateOptions { Mechanism = UpdateMechanism.NewProcess });
        Assert.Equal(UpdateOutcome.Refused, result.Outcome);
        Assert.Equal(UpdateMechanism.NewProcess, result.Mechanism);
        Assert.Equal(UpdatePhase.Prepare, result.Failure!.Phase);
        Assert.Contains("molt run", result.Failure.Message, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.Zero, result.PauseTime);
        Assert.Equal("v1 41", ProgramState.Call(host, "Program", "Report"));
        var inProcess = await host.UpdateAsync(v2);
        Assert.True(inProcess.Outcome == UpdateOutcome.Committed, inProcess.ToString());
    }
}
