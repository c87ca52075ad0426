namespace Molt.Hosting.Tests;

public class CancellationTests
{
    private const string Stuck = TestPrograms.Usings + """
        public class Worker { public ManualResetEventSlim Gate = new(false); public long Rounds; }
        public class Spinner { public long Rounds; }
        public static class Program
        {
            public static Worker Stuck = new();
            public static Spinner Busy = new();
            public static async Task Main(string[] args)
            {
                Live.StartThreadUnit("stuck", Stuck, Block);
                Live.StartUnit("busy", Busy, Spin);
                await Live.RunAsync();
            }
            // Waits on something the update token does not wake, so it never reaches its update point.
            public static void Block(Worker w) { while (true) { Live.UpdatePoint("blocked"); w.Gate.Wait(); w.Rounds++; } }
            public static async Task Spin(Spinner s) { while (true) { await Live.UpdatePointAsync("spin"); s.Rounds++; await Task.Yield(); } }
            public static long BusyRounds() => Busy.Rounds;
            public static void Release() => Stuck.Gate.Set();
        }
        """;

    [Fact]
    public async Task Update_CancelledByCallerDuringQuiescence_RollsBackAndUnitsGoOn()
    {
        var v1 = TestPrograms.Build("Stuck", "v1", Stuck);
        var v2 = TestPrograms.Build("Stuck", "v2", Stuck + "\n// v2");
        await using var host = await MoltHost.StartAsync(v1, options: new MoltHostOptions { QuiesceTimeout = TimeSpan.FromMinutes(5) });
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        var result = await host.UpdateAsync(v2, cancel.Token);

        Assert.Equal(UpdateOutcome.RolledBack, result.Outcome);
        Assert.Equal(UpdatePhase.Quiesce, result.Failure!.Phase);
        Assert.Contains("cancelled by its caller", result.Failure.Message, StringComparison.Ordinal);
        Assert.Equal(0, host.Version.Generation);
        // The parked unit was released and goes on in the old version.
        var before = (long)ProgramState.Call(host, "Program", "BusyRounds")!;
        await Eventually.True(() => (long)ProgramState.Call(host, "Program", "BusyRounds")! > before + 100);
        ProgramState.Call(host, "Program", "Release");
    }
}

/// <summary>Waits, bounded, for a condition that the system under test makes true asynchronously.</summary>
internal static class Eventually
{
    public static async Task True(Func<bool> condition, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(20));
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not hold in time.");
            await Task.Delay(10);
        }
    }
}
