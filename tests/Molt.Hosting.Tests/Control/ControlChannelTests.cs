using Molt.Hosting.Control;

namespace Molt.Hosting.Tests.Control;

public class ControlChannelTests
{
    private const string Source = TestPrograms.Usings + """
        public class Ticker { public long Ticks; }
        public static class Program
        {
            public static Ticker State = new();
            public static async Task Main(string[] args) { if (!Live.IsUpdating) Live.StartUnit("ticker", State, Tick); await Live.RunAsync(); }
            public static async Task Tick(Ticker t)
            {
                while (true)
                {
                    await Live.UpdatePointAsync("tick");
                    t.Ticks++;
                    try { await Task.Delay(5, Live.UpdateRequested); } catch (OperationCanceledException) { }
                }
            }
        }
        """;

    [Fact]
    public async Task Client_StatusCheckUpdateRollback_OverTheEndpoint()
    {
        var v1 = TestPrograms.Build("Controlled", "v1", Source);
        var v2 = TestPrograms.Build("Controlled", "v2", Source + "\n// v2");
        var name = $"controlled-{Guid.NewGuid():N}"[..24];
        await using var host = await MoltHost.StartAsync(v1);
        await using var server = MoltControlServer.Start(host, name);
        Assert.Contains(ControlEndpoints.List(), e => e.Name == name && e.ProcessId == Environment.ProcessId);

        await using var client = await MoltControlClient.ConnectAsync(name);
        var status = await client.StatusAsync();
        Assert.Equal(name, status.Name);
        Assert.Equal(0, status.Version.Generation);
        Assert.Contains(status.Units, u => u.Name == "ticker");

        var check = await client.CheckAsync(v2);
        Assert.True(check.Compatible, string.Join("\n", check.Lines));

        var phases = new List<UpdatePhase>();
        var update = await client.UpdateAsync(v2, progress: new SynchronousProgress(p => phases.Add(p.Phase)));
        Assert.Equal("Committed", update.Outcome);
        Assert.Equal([UpdatePhase.Prepare, UpdatePhase.Quiesce, UpdatePhase.Transfer, UpdatePhase.Restart, UpdatePhase.Unload], phases);

        var rollback = await client.RollbackAsync();
        Assert.Equal("Committed", rollback.Outcome);
        Assert.Equal(v1, host.Version.AssemblyPath);
        var afterRollback = await client.StatusAsync();
        Assert.Equal(2, afterRollback.History.Count);
        Assert.Equal(2, afterRollback.UpdatesTotal);

        // A program updated for years answers within a frame: its status carries the most recent updates, and how many there were.
        server.StatusHistoryLimit = 2;
        var third = await client.UpdateAsync(v2);
        Assert.Equal("Committed", third.Outcome);
        var limited = await client.StatusAsync();
        Assert.Equal(3, limited.UpdatesTotal);
        Assert.Collection(limited.History,
            h => Assert.Equal(rollback.To, h.To),
            h => Assert.Equal(third.To, h.To));
    }

    [Fact]
    public async Task Client_CheckOfAVersionThatChangesThousandsOfTypes_ArrivesWhole()
    {
        // 3,000 types whose field widens from int to long: a report of some megabytes, over the 1 MiB a request may be.
        string Types(string fieldType) => string.Concat(Enumerable.Range(0, 3000).Select(i => $"public class C{i} {{ public {fieldType} F; }}\n"));
        var v1 = TestPrograms.Build("ControlledLarge", "v1", Source + Types("int"));
        var v2 = TestPrograms.Build("ControlledLarge", "v2", Source + Types("long"));
        var name = $"controlled-{Guid.NewGuid():N}"[..24];
        await using var host = await MoltHost.StartAsync(v1);
        await using var server = MoltControlServer.Start(host, name);
        await using var client = await MoltControlClient.ConnectAsync(name);

        var check = await client.CheckAsync(v2);

        Assert.True(check.Compatible, check.Lines[^1]);
        Assert.Equal(3000, check.Findings.Count(f => f.Kind == CheckFindingKind.FieldRetyped && f.Detail.Contains("a widening conversion", StringComparison.Ordinal)));
        Assert.True(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(check, ControlJson.Default.CheckSummary).Length > ControlProtocol.MaxFrameBytes);
    }

    [Fact]
    public async Task Client_UnknownProgram_IsUnreachable()
    {
        await Assert.ThrowsAsync<ProgramUnreachableException>(() => MoltControlClient.ConnectAsync("no-such-program-here"));
    }

    private sealed class SynchronousProgress(Action<UpdateProgress> report) : IProgress<UpdateProgress>
    {
        public void Report(UpdateProgress value) => report(value);
    }
}
