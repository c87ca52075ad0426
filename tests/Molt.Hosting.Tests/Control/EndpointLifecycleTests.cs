using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json;
using Molt.Hosting.Control;
using static Molt.Hosting.Tests.Control.ControlTestKit;

namespace Molt.Hosting.Tests.Control;

/// <summary>Endpoints of programs that died are cleaned up; a live program's name is not taken; a closed endpoint leaves nothing.</summary>
public sealed class EndpointLifecycleTests : IClassFixture<EndpointDirectoryFixture>
{
    private readonly EndpointDirectoryFixture fixture;

    public EndpointLifecycleTests(EndpointDirectoryFixture fixture)
    {
        this.fixture = fixture;
        ControlEndpoints.Prepare(fixture.Endpoints);
    }

    /// <summary>Leaves a socket file that nobody listens on, as a process that died does.</summary>
    private static void OrphanSocket(string path)
    {
        var bound = path + ".orphan";
        using var orphan = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        orphan.Bind(new UnixDomainSocketEndPoint(bound));
        File.Move(bound, path); // .NET unlinks the file it bound when the socket is disposed: this one it will not find.
    }

    /// <summary>The id of a process that has exited (a short-lived child of ours, reaped).</summary>
    private static async Task<int> DeadProcessIdAsync()
    {
        using var process = Process.Start(new ProcessStartInfo("true"))!;
        using var timeout = new CancellationTokenSource(Patience);
        await process.WaitForExitAsync(timeout.Token);
        return process.Id;
    }

    [Fact]
    public async Task Start_TwoOfOneNameAtOnce_OneRuns_TheOtherIsRefused()
    {
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("LifecycleTicker", "v1", TickerSource));
        var name = UniqueName("twice");
        using var firstBound = new ManualResetEventSlim();
        using var secondDone = new ManualResetEventSlim();
        var calls = 0;
        // The first start is held between binding its socket and listening on it: where a second start of the name would
        // find a socket nobody answers on, take it to be a dead program's, and take it over.
        MoltControlServer.AfterBind = n =>
        {
            if (n == name && Interlocked.Increment(ref calls) == 1)
            {
                firstBound.Set();
                secondDone.Wait(TimeSpan.FromMilliseconds(500));
            }
        };
        MoltControlServer? first = null, second = null;
        try
        {
            var starting = Task.Run(() => MoltControlServer.Start(host, name, null, fixture.Endpoints));
            Assert.True(firstBound.Wait(Patience), "the first start did not bind");
            var refusal = await Record.ExceptionAsync(() => Task.Run(() =>
            {
                try
                {
                    second = MoltControlServer.Start(host, name, null, fixture.Endpoints);
                }
                finally
                {
                    secondDone.Set();
                }
            }));
            first = await starting;

            Assert.Null(second);
            Assert.Contains($"A program named '{name}' is running already", Assert.IsType<InvalidOperationException>(refusal).Message, StringComparison.Ordinal);
            Assert.Contains(ControlEndpoints.List(fixture.Endpoints), e => e.Name == name);
            await using var client = await MoltControlClient.ConnectAsync(name, fixture.Endpoints);
            Assert.Equal(name, (await client.StatusAsync()).Name);
        }
        finally
        {
            MoltControlServer.AfterBind = null;
            if (second is not null)
            {
                await second.DisposeAsync();
            }
            if (first is not null)
            {
                await first.DisposeAsync();
            }
        }
    }

    [Fact]
    public void LockName_HeldByAStartThatDoesNotFinish_IsRefusedInWords()
    {
        var name = UniqueName("held");
        using var first = ControlEndpoints.LockName(name, fixture.Endpoints, TimeSpan.FromSeconds(1));

        var refused = Assert.Throws<InvalidOperationException>(() => ControlEndpoints.LockName(name, fixture.Endpoints, TimeSpan.FromMilliseconds(50)));

        Assert.Contains($"A program named '{name}' is starting already", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_RemovesTheEndpointOfADeadProcess_KeepsLiveOnes()
    {
        var program = TestPrograms.Build("LifecycleTicker", "v1", TickerSource);
        await using var host = await MoltHost.StartAsync(program);
        var live = UniqueName("live");
        await using var server = MoltControlServer.Start(host, live, null, fixture.Endpoints);

        var dead = UniqueName("dead");
        var info = ControlEndpoints.InfoPath(dead, fixture.Endpoints);
        var socketPath = ControlEndpoints.SocketPath(dead, fixture.Endpoints);
        await File.WriteAllTextAsync(info, JsonSerializer.Serialize(new EndpointInfo(dead, await DeadProcessIdAsync(), program, DateTimeOffset.UtcNow), ControlJson.Default.EndpointInfo));
        OrphanSocket(socketPath);
        var garbled = ControlEndpoints.InfoPath(UniqueName("garbled"), fixture.Endpoints);
        await File.WriteAllTextAsync(garbled, "{ not an endpoint");
        Assert.True(File.Exists(socketPath));

        var listed = ControlEndpoints.List(fixture.Endpoints);

        Assert.Contains(listed, e => e.Name == live && e.ProcessId == Environment.ProcessId);
        Assert.DoesNotContain(listed, e => e.Name == dead);
        Assert.False(File.Exists(info));
        Assert.False(File.Exists(socketPath));
        Assert.False(File.Exists(garbled));
        Assert.True(File.Exists(server.SocketPath));
        await AssertServesAsync(live, fixture.Endpoints);
    }

    [Fact]
    public async Task List_RemovesAnEndpointWhoseProcessIdWasReused_NobodyAnswersOnItsSocket()
    {
        var program = TestPrograms.Build("LifecycleTicker", "v1", TickerSource);
        var name = UniqueName("reused");
        var socketPath = ControlEndpoints.SocketPath(name, fixture.Endpoints);
        // A live process id (ours), as when the dead program's id went to another process; its socket is dead.
        await File.WriteAllTextAsync(ControlEndpoints.InfoPath(name, fixture.Endpoints),
            JsonSerializer.Serialize(new EndpointInfo(name, Environment.ProcessId, program, DateTimeOffset.UtcNow), ControlJson.Default.EndpointInfo));
        OrphanSocket(socketPath);

        Assert.DoesNotContain(ControlEndpoints.List(fixture.Endpoints), e => e.Name == name);
        Assert.False(File.Exists(socketPath));
        Assert.False(File.Exists(ControlEndpoints.InfoPath(name, fixture.Endpoints)));
    }

    [Fact]
    public async Task Start_WithTheNameOfALiveProgram_IsRefused_TheLiveOneStillServes()
    {
        var program = TestPrograms.Build("LifecycleTicker", "v1", TickerSource);
        await using var host = await MoltHost.StartAsync(program);
        var name = UniqueName("taken");
        await using var server = MoltControlServer.Start(host, name, null, fixture.Endpoints);

        var refused = Assert.Throws<InvalidOperationException>(() => MoltControlServer.Start(host, name, null, fixture.Endpoints));
        Assert.Contains("running already", refused.Message, StringComparison.Ordinal);

        // Even when its description is gone, a socket that answers is not taken over.
        File.Delete(ControlEndpoints.InfoPath(name, fixture.Endpoints));
        Assert.Throws<InvalidOperationException>(() => MoltControlServer.Start(host, name, null, fixture.Endpoints));
        await AssertServesAsync(name, fixture.Endpoints);
    }

    [Fact]
    public async Task Start_OverTheEndpointOfADeadProcess_TakesItOver()
    {
        var program = TestPrograms.Build("LifecycleTicker", "v1", TickerSource);
        await using var host = await MoltHost.StartAsync(program);
        var name = UniqueName("reborn");
        await File.WriteAllTextAsync(ControlEndpoints.InfoPath(name, fixture.Endpoints),
            JsonSerializer.Serialize(new EndpointInfo(name, await DeadProcessIdAsync(), program, DateTimeOffset.UtcNow), ControlJson.Default.EndpointInfo));
        OrphanSocket(ControlEndpoints.SocketPath(name, fixture.Endpoints));

        await using var server = MoltControlServer.Start(host, name, null, fixture.Endpoints);

        Assert.Contains(ControlEndpoints.List(fixture.Endpoints), e => e.Name == name && e.ProcessId == Environment.ProcessId);
        await AssertServesAsync(name, fixture.Endpoints);
    }

    [Fact]
    public async Task DisposeAsync_RemovesTheSocketAndTheDescription_Twice_IsHarmless()
    {
        var program = TestPrograms.Build("LifecycleTicker", "v1", TickerSource);
        await using var host = await MoltHost.StartAsync(program);
        var name = UniqueName("closing");
        var server = MoltControlServer.Start(host, name, null, fixture.Endpoints);
        var info = ControlEndpoints.InfoPath(name, fixture.Endpoints);
        Assert.True(File.Exists(server.SocketPath));
        Assert.True(File.Exists(info));

        await server.DisposeAsync().AsTask().WaitAsync(Patience);

        Assert.False(File.Exists(server.SocketPath));
        Assert.False(File.Exists(info));
        Assert.DoesNotContain(ControlEndpoints.List(fixture.Endpoints), e => e.Name == name);
        await Assert.ThrowsAsync<ProgramUnreachableException>(() => MoltControlClient.ConnectAsync(name, fixture.Endpoints));
        await server.DisposeAsync().AsTask().WaitAsync(Patience);
    }
}
