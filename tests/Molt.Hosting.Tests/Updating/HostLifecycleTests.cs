using System.Net.Sockets;
using static Molt.Hosting.Tests.Updating.UpdatingTestKit;

namespace Molt.Hosting.Tests.Updating;

/// <summary>The host around updates: one update at a time, the phases of the pause, and stopping the program.</summary>
[Collection(UpdatingCollection.Name)]
public class HostLifecycleTests
{
    // Each unit leaves a mark (a file in the folder given as args[0]) from its finally block: which version's
    // unit ended, and how. A socket unit accepts one client and echoes its bytes; its finally closes the sockets.
    private static string StoppingSource(string version) => TestPrograms.Usings + """
        using System.IO;
        public class Waiter { public long Wakes; }
        public class Worker { public long Rounds; }
        public class Link { public Socket Listener; public Socket Peer; }
        public static class Program
        {
            public static string Dir;
            public static Link TheLink;
            public static async Task Main(string[] args)
            {
                if (!Live.IsUpdating)
                {
                    Dir = args[0];
                    var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                    listener.Listen(4);
                    TheLink = new Link { Listener = listener };
                    Live.StartUnit("waiter", new Waiter(), Wait);
                    Live.StartThreadUnit("worker", new Worker(), Work);
                    Live.StartUnit("link", TheLink, Serve);
                }
                await Live.RunAsync();
            }
            static void Mark(string unit) => File.WriteAllText(Path.Combine(Dir, unit + ".VERSION.ended"), "");
            public static async Task Wait(Waiter w)
            {
                try
                {
                    while (true)
                    {
                        await Live.UpdatePointAsync("wait");
                        try { await Task.Delay(Timeout.Infinite, Live.UpdateRequested); } catch (OperationCanceledException) { w.Wakes++; }
                    }
                }
                finally { Mark("waiter"); }
            }
            public static void Work(Worker w)
            {
                try
                {
                    while (true) { Live.UpdatePoint("work"); w.Rounds++; Live.UpdateRequested.WaitHandle.WaitOne(2); }
                }
                finally { Mark("worker"); }
            }
            public static async Task Serve(Link l)
            {
                var buffer = new byte[256];
                try
                {
                    while (true)
                    {
                        await Live.UpdatePointAsync("serve");
                        try
                        {
                            if (l.Peer == null) { l.Peer = await l.Listener.AcceptAsync(Live.UpdateRequested); continue; }
                            var n = await l.Peer.ReceiveAsync(buffer.AsMemory(), SocketFlags.None, Live.UpdateRequested);
                            if (n == 0) { return; }
                            await l.Peer.SendAsync(buffer.AsMemory(0, n), SocketFlags.None);
                        }
                        catch (OperationCanceledException) { }
                    }
                }
                finally { l.Peer?.Dispose(); l.Listener.Dispose(); Mark("link"); }
            }
            public static int Port() => ((IPEndPoint)TheLink.Listener.LocalEndPoint).Port;
        }
        """.Replace("VERSION", version, StringComparison.Ordinal);

    [Fact]
    public async Task StopAsync_EndsEveryUnitByExceptionAtItsUpdatePoint_SoTheirFinallyBlocksRun()
    {
        var dir = Directory.CreateTempSubdirectory("molt-stop-").FullName;
        try
        {
            var v1 = TestPrograms.Build("LifecycleStop", "v1", StoppingSource("v1"));
            var v2 = TestPrograms.Build("LifecycleStop", "v2", StoppingSource("v2"));
            var host = await StartAsync(v1, args: [dir]);
            var port = Call<int>(host, "Port");
            using var client = await LineClient.ConnectAsync(port);
            Assert.Equal("ping", await client.AskAsync("ping"));
            bool Ended(string unit, string version) => File.Exists(Path.Combine(dir, $"{unit}.{version}.ended"));

            // An update retires v1's units: the thread leaves by exception (its finally runs), the async units are
            // abandoned at their update point (their finally blocks do not run: the sockets stay open for v2).
            AssertCommitted(await host.UpdateAsync(v2));
            Assert.True(Ended("worker", "v1"), "the retired thread unit's finally block ran");
            Assert.False(Ended("waiter", "v1"), "an abandoned async unit's finally block ran");
            Assert.False(Ended("link", "v1"), "an abandoned async unit's finally block ran");
            Assert.Equal("pong", await client.AskAsync("pong"));

            await host.StopAsync();

            Assert.True(Ended("waiter", "v2"), "the async unit's finally block ran");
            Assert.True(Ended("worker", "v2"), "the thread unit's finally block ran");
            Assert.True(Ended("link", "v2"), "the socket unit's finally block ran");
            Assert.Null(await client.ReadLineAsync()); // The server closed the connection.
            var refused = await Assert.ThrowsAsync<SocketException>(() => LineClient.ConnectAsync(port));
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
            Assert.Empty(host.Units);
            Assert.Throws<InvalidOperationException>(() => host.Version);
            await Assert.ThrowsAsync<InvalidOperationException>(() => host.UpdateAsync(v1));
            await host.StopAsync(); // Stopping a stopped program does nothing.
            await host.DisposeAsync();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task SecondUpdate_WhileOneIsInProgress_Throws_AndTheFirstCommits()
    {
        var v1 = TestPrograms.Build("LifecycleOneAtATime", "v1", SocketUnitTests.EchoV1);
        var v2 = TestPrograms.Build("LifecycleOneAtATime", "v2", SocketUnitTests.EchoV2);
        await using var host = await StartAsync(v1);
        Call(host, "HoldNextUpdate");
        var first = Task.Run(() => host.UpdateAsync(v2));
        // The hold unit keeps the first update in quiescence while the others are parked.
        await Eventually(() => Unit(host, "accept").Status == "Parked" && Unit(host, "clock").Status == "Parked", "the first update is quiescing");

        var second = await Assert.ThrowsAsync<InvalidOperationException>(() => host.UpdateAsync(v2));

        Assert.Contains("already in progress", second.Message);
        Assert.False(first.IsCompleted);
        Call(host, "ReleaseUpdate");
        AssertCommitted(await first);
        Assert.Equal("v2", Call<string>(host, "Version"));
        Assert.Single(host.History);
        // The host takes updates again once the first is done.
        AssertCommitted(await host.UpdateAsync(v1));
        Assert.Equal("v1", Call<string>(host, "Version"));
    }

    [Fact]
    public async Task CommittedUpdate_MeasuresEveryPhase_AndThePauseSpansQuiesceTransferAndRestart()
    {
        var v1 = TestPrograms.Build("LifecyclePhases", "v1", SocketUnitTests.EchoV1);
        var v2 = TestPrograms.Build("LifecyclePhases", "v2", SocketUnitTests.EchoV2);
        await using var host = await StartAsync(v1);

        var result = await host.UpdateAsync(v2);

        AssertCommitted(result);
        Assert.True(result.PrepareTime > TimeSpan.Zero, result.ToString());
        Assert.True(result.QuiesceTime > TimeSpan.Zero, result.ToString());
        Assert.True(result.TransferTime > TimeSpan.Zero, result.ToString());
        Assert.True(result.RestartTime > TimeSpan.Zero, result.ToString());
        Assert.True(result.UnloadTime > TimeSpan.Zero, result.ToString());
        Assert.True(result.PauseTime >= result.TransferTime, result.ToString());
        // The pause is quiesce + transfer + restart + commit, each measured on its own (3 ticks of rounding).
        Assert.True(result.PauseTime + TimeSpan.FromTicks(3) >= result.QuiesceTime + result.TransferTime + result.RestartTime, result.ToString());
        Assert.True(result.StaticsMigrated > 0, result.ToString());
        Assert.True(result.ObjectsRebuilt > 0, result.ToString());
    }

    [Fact]
    public async Task UpdateCancelledDuringQuiescence_RollsBack_AndTheProgramGoesOn()
    {
        var v1 = TestPrograms.Build("LifecycleCancel", "v1", SocketUnitTests.EchoV1);
        var v2 = TestPrograms.Build("LifecycleCancel", "v2", SocketUnitTests.EchoV2);
        await using var host = await StartAsync(v1);
        using var client = await LineClient.ConnectAsync(Call<int>(host, "Port"));
        Assert.Equal("v1:a", await client.AskAsync("a"));
        Call(host, "HoldNextUpdate");
        using var cancel = new CancellationTokenSource();
        var updating = Task.Run(() => host.UpdateAsync(v2, cancel.Token));
        await Eventually(() => Unit(host, "conn-1").Status == "Parked" && Unit(host, "clock").Status == "Parked", "the update is quiescing");

        await cancel.CancelAsync();
        var result = await updating;

        AssertRolledBack(result, UpdatePhase.Quiesce);
        Assert.Contains("cancelled by its caller", result.Failure!.Message);
        Call(host, "ReleaseUpdate");
        Assert.Equal("v1:b", await client.AskAsync("b"));
        var ticks = Call<long>(host, "Ticks");
        await Eventually(() => Call<long>(host, "Ticks") > ticks + 5, "the clock ticks on in v1");
        AssertCommitted(await host.UpdateAsync(v2));
        Assert.Equal("v2:C", await client.AskAsync("c"));
    }
}
