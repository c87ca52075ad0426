using static Molt.Hosting.Tests.Updating.UpdatingTestKit;

namespace Molt.Hosting.Tests.Updating;

/// <summary>
/// Units blocked in socket I/O: the update wakes them, they park, and the new version's units go on with the
/// same sockets (passed by reference), so clients keep their connections and lose no data.
/// </summary>
[Collection(UpdatingCollection.Name)]
public class SocketUnitTests
{
    /// <summary>
    /// A line echo server on 127.0.0.1 (port 0): an accept loop unit starts a unit per connection; each answers
    /// a line with <paramref name="reply"/> (an expression over <c>line</c>). A thread unit ticks beside them, and
    /// a "hold" unit can hold the next update in quiescence (for up to 30 s) while a test looks at it.
    /// </summary>
    internal static string EchoSource(string version, string reply, string mainPrologue = "") => TestPrograms.Usings + """
        using System.IO;
        public class Server { public Socket Listener; public int Accepted; }
        public class Conn { public int Id; public Socket Socket; public StringBuilder Partial = new(); public long Lines; }
        public class Holder { public long Rounds; }
        public class Clock { public long Ticks; }
        public static class Program
        {
            public static Server TheServer;
            public static Dictionary<int, Conn> Conns = new();
            public static Clock TheClock = new();
            public static volatile bool Holding;
            public static async Task Main(string[] args)
            {
                MAIN_PROLOGUE
                if (!Live.IsUpdating)
                {
                    var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                    listener.Listen(16);
                    TheServer = new Server { Listener = listener };
                    Live.StartUnit("accept", TheServer, Accept);
                    Live.StartUnit("hold", new Holder(), Hold);
                    Live.StartThreadUnit("clock", TheClock, Tick);
                }
                await Live.RunAsync();
            }
            public static async Task Accept(Server s)
            {
                try
                {
                    while (true)
                    {
                        await Live.UpdatePointAsync("accept");
                        Socket client;
                        try { client = await s.Listener.AcceptAsync(Live.UpdateRequested); }
                        catch (OperationCanceledException) { continue; }
                        var conn = new Conn { Id = ++s.Accepted, Socket = client };
                        lock (Conns) { Conns[conn.Id] = conn; }
                        Live.StartUnit($"conn-{conn.Id}", conn, Serve);
                    }
                }
                finally { s.Listener.Dispose(); }
            }
            public static async Task Serve(Conn c)
            {
                var buffer = new byte[1024];
                try
                {
                    while (true)
                    {
                        await Live.UpdatePointAsync("receive");
                        int n;
                        try { n = await c.Socket.ReceiveAsync(buffer.AsMemory(), SocketFlags.None, Live.UpdateRequested); }
                        catch (OperationCanceledException) { continue; }
                        if (n == 0) { return; }
                        c.Partial.Append(Encoding.UTF8.GetString(buffer, 0, n));
                        var text = c.Partial.ToString();
                        int newline;
                        while ((newline = text.IndexOf('\n')) >= 0)
                        {
                            var line = text.Substring(0, newline);
                            text = text.Substring(newline + 1);
                            c.Lines++;
                            await c.Socket.SendAsync(Encoding.UTF8.GetBytes(Reply(line) + "\n").AsMemory(), SocketFlags.None);
                        }
                        c.Partial.Clear().Append(text);
                    }
                }
                finally
                {
                    c.Socket.Dispose();
                    lock (Conns) { Conns.Remove(c.Id); }
                }
            }
            public static async Task Hold(Holder h)
            {
                while (true)
                {
                    await Live.UpdatePointAsync("hold");
                    try { await Task.Delay(Timeout.Infinite, Live.UpdateRequested); } catch (OperationCanceledException) { }
                    for (var i = 0; i < 3000 && Holding; i++) { h.Rounds++; await Task.Delay(10); }
                }
            }
            public static void Tick(Clock c)
            {
                while (true) { Live.UpdatePoint("tick"); c.Ticks++; Live.UpdateRequested.WaitHandle.WaitOne(2); }
            }
            static string Reply(string line) => REPLY;
            public static int Port() => ((IPEndPoint)TheServer.Listener.LocalEndPoint).Port;
            public static string Partial(int id) { lock (Conns) { return Conns.TryGetValue(id, out var c) ? c.Partial.ToString() : null; } }
            public static long Ticks() => TheClock.Ticks;
            public static void HoldNextUpdate() => Holding = true;
            public static void ReleaseUpdate() => Holding = false;
            public static string Version() => "VERSION";
        }
        """
        .Replace("MAIN_PROLOGUE", mainPrologue, StringComparison.Ordinal)
        .Replace("REPLY", reply, StringComparison.Ordinal)
        .Replace("VERSION", version, StringComparison.Ordinal);

    internal static readonly string EchoV1 = EchoSource("v1", "\"v1:\" + line");
    internal static readonly string EchoV2 = EchoSource("v2", "\"v2:\" + line.ToUpperInvariant()");

    [Fact]
    public async Task UnitBlockedInReceive_WakesAndMigratesWithItsConnection_LosingNoDataSentDuringTheUpdate()
    {
        var v1 = TestPrograms.Build("SocketReceive", "v1", EchoV1);
        var v2 = TestPrograms.Build("SocketReceive", "v2", EchoV2);
        await using var host = await StartAsync(v1);
        using var client = await LineClient.ConnectAsync(Call<int>(host, "Port"));
        Assert.Equal("v1:hello", await client.AskAsync("hello"));
        // Half a line, received by v1: it is in the connection's state when the update comes.
        await client.SendAsync("par");
        await Eventually(() => Call<string>(host, "Partial", 1) == "par", "v1 holds the half line");

        Call(host, "HoldNextUpdate");
        var updating = Task.Run(() => host.UpdateAsync(v2));
        await Eventually(() => Unit(host, "conn-1").Status == "Parked" && Unit(host, "accept").Status == "Parked",
            "the connection's unit, woken from its receive, parks");
        // Sent while the connection's unit is parked, in the middle of the update.
        await client.SendAsync("tial\nduring\n");
        Call(host, "ReleaseUpdate");
        var result = await updating;

        AssertCommitted(result);
        Assert.Contains("conn-1 (from 'receive')", result.ResumedUnits);
        Assert.Equal("receive", Unit(host, "conn-1").ResumedFrom);
        // The same connection, now served by v2: the half line from before and the data from during the update.
        Assert.Equal("v2:PARTIAL", await client.ReadLineAsync());
        Assert.Equal("v2:DURING", await client.ReadLineAsync());
        Assert.Equal("v2:AFTER", await client.AskAsync("after"));
        Assert.True(result.ReferencesPassed > 0, result.ToString());
    }

    [Fact]
    public async Task AcceptLoopUnit_StartsAUnitPerConnection_AndTheNewVersionServesOldAndNewConnections()
    {
        var v1 = TestPrograms.Build("SocketAccept", "v1", EchoV1);
        var v2 = TestPrograms.Build("SocketAccept", "v2", EchoV2);
        await using var host = await StartAsync(v1);
        var port = Call<int>(host, "Port");
        var clients = new List<LineClient>();
        try
        {
            for (var i = 1; i <= 3; i++)
            {
                clients.Add(await LineClient.ConnectAsync(port));
                Assert.Equal($"v1:a{i}", await clients[^1].AskAsync($"a{i}"));
            }
            Assert.Equal(["accept", "clock", "conn-1", "conn-2", "conn-3", "hold"], host.Units.Select(u => u.Name));

            var result = await host.UpdateAsync(v2);

            AssertCommitted(result);
            Assert.Equal(["accept (from 'accept')", "clock (from 'tick')", "conn-1 (from 'receive')", "conn-2 (from 'receive')", "conn-3 (from 'receive')", "hold (from 'hold')"],
                result.ResumedUnits.Order(StringComparer.Ordinal));
            for (var i = 1; i <= 3; i++)
            {
                Assert.Equal($"v2:B{i}", await clients[i - 1].AskAsync($"b{i}"));
            }
            // New connections are accepted by v2's accept loop, which numbers them on from v1's count.
            for (var i = 4; i <= 5; i++)
            {
                clients.Add(await LineClient.ConnectAsync(port));
                Assert.Equal($"v2:C{i}", await clients[^1].AskAsync($"c{i}"));
            }
            Assert.Equal(["accept", "clock", "conn-1", "conn-2", "conn-3", "conn-4", "conn-5", "hold"], host.Units.Select(u => u.Name));
            Assert.All(host.Units.Where(u => u.Name is "conn-4" or "conn-5"), u => Assert.Null(u.ResumedFrom));
            Assert.All(host.Units.Where(u => u.Name is "conn-1" or "conn-2" or "conn-3"), u => Assert.Equal("receive", u.ResumedFrom));

            // A client that leaves ends its unit in v2.
            clients[0].Dispose();
            await Eventually(() => host.Units.All(u => u.Name != "conn-1"), "conn-1 ends when its client closes");
            Assert.Equal("v2:D2", await clients[1].AskAsync("d2"));
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }
}
