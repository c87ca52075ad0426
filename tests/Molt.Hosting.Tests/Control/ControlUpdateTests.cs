using System.Net.Sockets;
using System.Text.Json;
using Molt.Hosting.Control;
using static Molt.Hosting.Tests.Control.ControlTestKit;

namespace Molt.Hosting.Tests.Control;

/// <summary>
/// Updates through the control channel: one at a time; a client that goes away mid-update, or never says a
/// word, holds nothing that the update or other clients need.
/// </summary>
public sealed class ControlUpdateTests(EndpointDirectoryFixture fixture) : IClassFixture<EndpointDirectoryFixture>
{
    private static (string V1, string V2) Versions() =>
        (TestPrograms.Build("SlowTicker", "v1", TickerSource), TestPrograms.Build("SlowTicker", "v2", TickerSource + "\n// v2"));

    /// <summary>Makes the unit wait after its update point (not at it) until released: an update then stays in quiescence.</summary>
    private static async Task HoldUnitAsync(MoltHost host)
    {
        ProgramState.Call(host, "Program", "HoldUnit");
        Assert.True(await WaitUntilAsync(() => (bool)ProgramState.Call(host, "Program", "IsHolding")!), "The unit did not start holding.");
    }

    [Fact]
    public async Task SecondUpdate_WhileOneRuns_IsRefused_AlreadyInProgress()
    {
        using var escaped = new EscapedExceptions();
        var (v1, v2) = Versions();
        await using var host = await MoltHost.StartAsync(v1);
        var name = UniqueName("serial");
        await using var server = MoltControlServer.Start(host, name, null, fixture.Endpoints);
        await HoldUnitAsync(host);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var first = await MoltControlClient.ConnectAsync(name, fixture.Endpoints, timeout.Token);
        var prepared = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstUpdate = first.UpdateAsync(v2, TimeSpan.FromSeconds(60),
            new InlineProgress(p => { if (p.Phase == UpdatePhase.Prepare) prepared.TrySetResult(); }), timeout.Token);
        await prepared.Task.WaitAsync(Patience); // The first update is now waiting for the held unit.

        await using var second = await MoltControlClient.ConnectAsync(name, fixture.Endpoints, timeout.Token);
        var refused = await Assert.ThrowsAsync<ControlRequestRefusedException>(() => second.UpdateAsync(v2, cancellationToken: timeout.Token));
        Assert.Contains("already in progress", refused.Message, StringComparison.Ordinal);
        var refusedRollback = await Assert.ThrowsAsync<ControlRequestRefusedException>(() => second.RollbackAsync(cancellationToken: timeout.Token));
        Assert.Contains("roll back", refusedRollback.Message, StringComparison.Ordinal); // Nothing committed yet to roll back to.
        Assert.Equal(name, (await second.StatusAsync(timeout.Token)).Name); // Status is served meanwhile.
        Assert.False(firstUpdate.IsCompleted);

        ProgramState.Call(host, "Program", "ReleaseUnit");
        var committed = await firstUpdate.WaitAsync(Patience);
        Assert.Equal("Committed", committed.Outcome);
        Assert.Equal(v2, host.Version.AssemblyPath);
        Assert.Single(host.History); // The refused one never started.
        await AssertTicksAsync(host);
        escaped.AssertNone();
    }

    [Fact]
    public async Task ClientDisconnects_MidUpdate_UpdateCommits_ProgramStillServes()
    {
        using var escaped = new EscapedExceptions();
        var logs = new CapturingLoggerFactory();
        var (v1, v2) = Versions();
        await using var host = await MoltHost.StartAsync(v1);
        var name = UniqueName("gone");
        await using var server = MoltControlServer.Start(host, name, logs, fixture.Endpoints);
        await HoldUnitAsync(host);

        using (var socket = await ConnectRawAsync(server.SocketPath))
        {
            await SendAsync(socket, Frame(JsonSerializer.Serialize(new ControlRequest(ControlProtocol.Version, "update", v2, 60), ControlJson.Default.ControlRequest)));
            var prepare = await ReadProgressAsync(socket);
            Assert.Equal("Prepare", prepare);
        } // Gone, with the update waiting for the held unit: every later progress frame and the reply go nowhere.

        ProgramState.Call(host, "Program", "ReleaseUnit");
        Assert.True(await WaitUntilAsync(() => host.History.Count == 1), "The update did not finish.");
        Assert.Equal(UpdateOutcome.Committed, host.History[0].Outcome);
        Assert.Equal(v2, host.Version.AssemblyPath);
        await AssertTicksAsync(host);
        await AssertServesAsync(name, fixture.Endpoints);
        Assert.DoesNotContain(logs.Entries, e => e.Error is not null);
        escaped.AssertNone();
    }

    [Fact]
    public async Task SilentClients_HoldNothing_OthersAreServedAndUpdated_ServerStopsAnyway()
    {
        using var escaped = new EscapedExceptions();
        var (v1, v2) = Versions();
        await using var host = await MoltHost.StartAsync(v1);
        var name = UniqueName("silent");
        var server = MoltControlServer.Start(host, name, null, fixture.Endpoints);
        var silent = new List<Socket>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                silent.Add(await ConnectRawAsync(server.SocketPath)); // Connect, never send.
            }
            var halfFrame = await ConnectRawAsync(server.SocketPath);
            silent.Add(halfFrame);
            await SendAsync(halfFrame, [0, 0, 0, 40, (byte)'{']); // Announce 40 bytes, send 1, then nothing.

            await AssertServesAsync(name, fixture.Endpoints);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await using (var client = await MoltControlClient.ConnectAsync(name, fixture.Endpoints, timeout.Token))
            {
                Assert.Equal("Committed", (await client.UpdateAsync(v2, cancellationToken: timeout.Token)).Outcome);
                Assert.Equal("Committed", (await client.RollbackAsync(cancellationToken: timeout.Token)).Outcome);
            }
            await AssertTicksAsync(host);

            // Closing the endpoint does not wait for them to speak.
            await server.DisposeAsync().AsTask().WaitAsync(Patience);
            Assert.False(File.Exists(server.SocketPath));
            foreach (var socket in silent)
            {
                Assert.True(await ClosedByServerAsync(socket), "A silent client's connection outlived the endpoint.");
            }
        }
        finally
        {
            silent.ForEach(s => s.Dispose());
            await server.DisposeAsync();
        }
        escaped.AssertNone();
    }

    [Fact]
    public async Task SilentClient_IsClosed_AfterTheIdleTimeout_AndLogged()
    {
        var logs = new CapturingLoggerFactory();
        var (v1, _) = Versions();
        await using var host = await MoltHost.StartAsync(v1);
        var name = UniqueName("idle");
        await using var server = MoltControlServer.Start(host, name, logs, fixture.Endpoints);
        server.IdleTimeout = TimeSpan.FromMilliseconds(300);

        using var socket = await ConnectRawAsync(server.SocketPath);
        Assert.True(await ClosedByServerAsync(socket), "A client that never sent a request was not closed.");
        Assert.True(await WaitUntilAsync(() => logs.Entries.Any(e => e.Id.Id == 43)));

        // A client that keeps talking is not idle: each request restarts the clock.
        using var talker = await ConnectRawAsync(server.SocketPath);
        for (var i = 0; i < 3; i++)
        {
            await SendAsync(talker, StatusRequest);
            Assert.True((await ReadAnswerAsync(talker)).Ok);
        }
        await AssertServesAsync(name, fixture.Endpoints);
    }

    [Fact]
    public async Task QuiesceTimeout_OutOfRange_IsRefusedBeforeThePause_UnitKeepsTicking()
    {
        var (v1, v2) = Versions();
        await using var host = await MoltHost.StartAsync(v1);
        var name = UniqueName("deadline");
        await using var server = MoltControlServer.Start(host, name, null, fixture.Endpoints);

        // Beyond what the host's timers reach: once refused only after the units had been asked to park, which left them parked.
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => host.UpdateAsync(v2, new UpdateOptions { QuiesceTimeout = TimeSpan.FromDays(100) }));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => host.UpdateAsync(v2, new UpdateOptions { QuiesceTimeout = TimeSpan.Zero }));
        await AssertTicksAsync(host);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var client = await MoltControlClient.ConnectAsync(name, fixture.Endpoints, timeout.Token);
        var refused = await Assert.ThrowsAsync<ControlRequestRefusedException>(() => client.UpdateAsync(v2, TimeSpan.FromDays(100), cancellationToken: timeout.Token));
        Assert.Contains("quiescence timeout", refused.Message, StringComparison.Ordinal);
        Assert.Empty(host.History);
        await AssertTicksAsync(host);
        Assert.Equal("Committed", (await client.UpdateAsync(v2, TimeSpan.FromSeconds(30), cancellationToken: timeout.Token)).Outcome);
    }

    private static async Task<string?> ReadProgressAsync(Socket socket)
    {
        var header = new byte[4];
        using var timeout = new CancellationTokenSource(Patience);
        for (var read = 0; read < header.Length;)
        {
            read += await socket.ReceiveAsync(header.AsMemory(read), SocketFlags.None, timeout.Token);
        }
        var payload = new byte[System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(header)];
        for (var read = 0; read < payload.Length;)
        {
            read += await socket.ReceiveAsync(payload.AsMemory(read), SocketFlags.None, timeout.Token);
        }
        var frame = JsonDocument.Parse(payload).RootElement;
        Assert.Equal("progress", frame.GetProperty("kind").GetString());
        return frame.GetProperty("phase").GetString();
    }

    private sealed class InlineProgress(Action<UpdateProgress> report) : IProgress<UpdateProgress>
    {
        public void Report(UpdateProgress value) => report(value);
    }
}
