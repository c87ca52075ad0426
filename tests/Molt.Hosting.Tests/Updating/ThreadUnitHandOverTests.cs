namespace Molt.Hosting.Tests.Updating;

/// <summary>
/// A retired thread unit unwinds, so its finally blocks run; <see cref="UnitRetiredException.Stopping"/> tells a
/// hand-over (leave the resources alone: the new version uses them) from a stop (dispose them).
/// </summary>
public class ThreadUnitHandOverTests
{
    private const string Source = TestPrograms.Usings + """
        public class Worker { public System.IO.MemoryStream Log = new(); public long Rounds; }
        public static class Program
        {
            public static Worker Current;
            public static async Task Main(string[] args)
            {
                if (!Live.IsUpdating) { Current = new Worker(); Live.StartThreadUnit("writer", Current, Run); }
                await Live.RunAsync();
            }
            public static void Run(Worker w)
            {
                var handedOver = false;
                try
                {
                    while (true) { Live.UpdatePoint("write"); w.Log.WriteByte(1); w.Rounds++; Thread.Sleep(1); }
                }
                catch (UnitRetiredException e) { handedOver = !e.Stopping; throw; }
                finally { if (!handedOver) w.Log.Dispose(); }
            }
            public static System.IO.MemoryStream Log() => Current.Log;
            public static long Rounds() => Current.Rounds;
        }
        """;

    [Fact]
    public async Task ThreadUnit_FinallyDisposesOnlyWhenStopping_NotWhenHandedOver()
    {
        var v1 = TestPrograms.Build("HandOver", "v1", Source);
        var v2 = TestPrograms.Build("HandOver", "v2", Source + "\n// v2");
        var host = await MoltHost.StartAsync(v1);
        MemoryStream log;
        try
        {
            log = (MemoryStream)ProgramState.Call(host, "Program", "Log")!;
            await Eventually.True(() => (long)ProgramState.Call(host, "Program", "Rounds")! > 10);

            var result = await host.UpdateAsync(v2);

            Assert.True(result.Outcome == UpdateOutcome.Committed && result.OldVersionUnloaded == true, result.ToString());
            // The old thread unwound through its finally, but knew it was handing over: the stream (passed by reference) stays open.
            Assert.Same(log, ProgramState.Call(host, "Program", "Log"));
            var rounds = (long)ProgramState.Call(host, "Program", "Rounds")!;
            await Eventually.True(() => (long)ProgramState.Call(host, "Program", "Rounds")! > rounds + 10);
            Assert.True(log.CanWrite);
        }
        finally
        {
            await host.StopAsync();
        }

        // At a stop the same finally block disposes it.
        Assert.False(log.CanWrite);
    }
}
