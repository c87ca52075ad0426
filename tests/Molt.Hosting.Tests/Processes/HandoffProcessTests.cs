using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Molt.Hosting.Control;
using Molt.Hosting.Processes;
using Molt.Hosting.Tests.Control;
using Xunit.Abstractions;

namespace Molt.Hosting.Tests.Processes;

/// <summary>
/// Descriptors really cross between two processes: the test process hands a listening socket and a connected one to a
/// child (<c>Molt.Handoff.Child</c>), whose clients the child then serves; and a path-based channel lets in only the
/// process it expects.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class HandoffProcessTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = HandoffChild.Patience;

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    public async Task ListenerAndConnection_HandedToAChild_AreServedByIt_NothingLost_AfterTheParentClosesItsCopies(string loopback)
    {
        var address = IPAddress.Parse(loopback);
        using var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(address, 0));
        listener.Listen(8);
        // A client the parent accepted, whose first line the parent never reads: those bytes stay in the kernel.
        using var talking = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await talking.ConnectAsync(listener.LocalEndPoint!);
        var served = await listener.AcceptAsync();
        // A client that connected before the hand-off and that the parent never accepts: it waits in the listener's queue.
        using var waiting = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await waiting.ConnectAsync(listener.LocalEndPoint!);
        await talking.SendAsync("sent before the hand-off\n"u8.ToArray());
        Assert.True(await Eventually(() => served.Available > 0), "the client's bytes never reached the parent's socket");
        var unread = served.Available;
        var parentSockets = new[] { Inode((int)listener.Handle), Inode((int)served.Handle) };

        var notifyPath = Path.Combine(Directory.CreateTempSubdirectory("molt-notify-").FullName, "notify.sock");
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(notifyPath));

        var started = Stopwatch.StartNew();
        var (channel, childEnd) = HandoffChannel.CreatePair();
        using var _ = channel;
        using var child = HandoffChild.Start(childEnd, new Dictionary<string, string>
        {
            [SystemdNotifier.SocketVariable] = notifyPath,
            // Without its diagnostics socket, the child starts holding exactly the sockets it inherited.
            ["DOTNET_EnableDiagnostics"] = "0",
        }, "serve");
        try
        {
            var clock = Stopwatch.StartNew();
            channel.Send("sockets"u8, [listener.SafeHandle, served.SafeHandle], Patience);
            var sent = clock.Elapsed;
            using var adopted = channel.Receive(Patience);
            var answer = Encoding.UTF8.GetString(adopted.Payload).Split(' ');
            output.WriteLine($"{loopback}: 2 sockets sent in {sent.TotalMilliseconds:0.000} ms; the child adopted them and answered " +
                $"{started.Elapsed.TotalMilliseconds:0} ms after its start; {unread} unread bytes crossed in the kernel");
            Assert.True(answer is ["adopted", _, _, _, _, _], $"unexpected answer '{string.Join(' ', answer)}':\n{child.Output}");
            Assert.Equal(child.Id.ToString(), answer[1]);
            // Inheritance is explicit: the child started holding one socket, the channel's end, open across exec on
            // purpose; none of the parent's sockets leaked into it.
            var socketsAtStart = answer[2].Split(',');
            Assert.Single(socketsAtStart);
            Assert.StartsWith("socket:", socketsAtStart[0], StringComparison.Ordinal);
            Assert.DoesNotContain(socketsAtStart[0], parentSockets);
            Assert.Equal("False", answer[3]);
            // ...and once taken, the channel and the received sockets are close-on-exec, and the variable is gone.
            Assert.Equal("True,True,True", answer[4]);
            Assert.Equal("False", answer[5]);
            Assert.Equal($"MAINPID={child.Id}\nREADY=1", ReceiveDatagram(notify));

            var talkingPort = ((IPEndPoint)talking.LocalEndPoint!).Port;
            var waitingPort = ((IPEndPoint)waiting.LocalEndPoint!).Port;
            // The bytes the parent never read are read by the child, on the same connection.
            Assert.Equal($"{child.Id} {talkingPort} sent before the hand-off", await ReadLineAsync(talking));
            // The client queued before the hand-off is accepted by the child.
            Assert.Equal($"{child.Id} {waitingPort} queued before the hand-off", await ExchangeAsync(waiting, "queued before the hand-off"));

            // The parent closes its copies, as the old process does at commit: both connections go on.
            served.Dispose();
            listener.Dispose();
            Assert.Equal($"{child.Id} {talkingPort} after the parent closed", await ExchangeAsync(talking, "after the parent closed"));
            Assert.Equal($"{child.Id} {waitingPort} after the parent closed", await ExchangeAsync(waiting, "after the parent closed"));

            talking.Shutdown(SocketShutdown.Send);
            waiting.Shutdown(SocketShutdown.Send);
            using var done = channel.Receive(Patience);
            Assert.Equal("done", Encoding.UTF8.GetString(done.Payload));
            Assert.True(await child.ExitCodeAsync() == 0, child.Output);
        }
        finally
        {
            served.Dispose();
            File.Delete(notifyPath);
            Directory.Delete(Path.GetDirectoryName(notifyPath)!);
        }
    }

    [Fact]
    public async Task PathChannel_AStrangerConnecting_IsRefusedAndLogged_TheExpectedProcessGetsIn()
    {
        var logs = new CapturingLoggerFactory();
        using var listener = HandoffListener.Start(logs);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(listener.SocketPath)!));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(listener.SocketPath));

        // A process of the same user, not the one expected, connects first.
        using var stranger = HandoffChild.Start(null, null, "connect", listener.SocketPath);
        await stranger.WaitForLineAsync("connected");
        using var expected = HandoffChild.Start(null, null, "connect", listener.SocketPath);

        using var channel = await listener.AcceptAsync(expected.Id, Patience);
        channel.Send("hello"u8, Patience);
        using var reply = channel.Receive(Patience);

        Assert.Equal($"hello from {expected.Id}", Encoding.UTF8.GetString(reply.Payload));
        Assert.True(await expected.ExitCodeAsync() == 0, expected.Output);
        Assert.True(await stranger.ExitCodeAsync() == 3, $"the stranger was not refused:\n{stranger.Output}");
        Assert.Contains("refused: The peer closed the hand-off channel.", stranger.Output, StringComparison.Ordinal);
        var refusal = Assert.Single(logs.Entries, e => e.Id.Id == 60);
        Assert.Contains($"process {stranger.Id} of user {PeerCredentials.CurrentUserId}", refusal.Message, StringComparison.Ordinal);
        Assert.Contains($"only process {expected.Id}", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PathChannel_ThePeersUserIsChecked_NotOnlyItsProcessId()
    {
        var logs = new CapturingLoggerFactory();
        using var listener = HandoffListener.Start(logs);
        // Root can reach any path; the credential check is what stands in the way of another user's process.
        listener.ReadPeer = socket => PeerCredentials.Of(socket) with { UserId = PeerCredentials.CurrentUserId + 1 };
        using var impostor = HandoffChild.Start(null, null, "connect", listener.SocketPath);

        var waited = await Assert.ThrowsAsync<TimeoutException>(() => listener.AcceptAsync(impostor.Id, TimeSpan.FromSeconds(2)));

        Assert.Contains($"Process {impostor.Id} did not connect to the hand-off channel within 2000 ms", waited.Message, StringComparison.Ordinal);
        Assert.True(await impostor.ExitCodeAsync() == 3, impostor.Output);
        Assert.Contains(logs.Entries, e => e.Id.Id == 60 && e.Message.Contains($"process {impostor.Id} of user {PeerCredentials.CurrentUserId + 1}", StringComparison.Ordinal));
    }

    private static async Task<string> ExchangeAsync(Socket client, string line)
    {
        await client.SendAsync(Encoding.ASCII.GetBytes(line + "\n"));
        return await ReadLineAsync(client);
    }

    /// <summary>One line from the socket, read byte by byte so that nothing after it is taken.</summary>
    private static async Task<string> ReadLineAsync(Socket client)
    {
        using var deadline = new CancellationTokenSource(Patience);
        var line = new List<byte>();
        var one = new byte[1];
        while (line.Count < 4096)
        {
            if (await client.ReceiveAsync(one, deadline.Token) == 0)
            {
                throw new IOException($"The connection closed after '{Encoding.ASCII.GetString([.. line])}'.");
            }
            if (one[0] == '\n')
            {
                return Encoding.ASCII.GetString([.. line]);
            }
            line.Add(one[0]);
        }
        throw new InvalidDataException("A line longer than 4096 bytes.");
    }

    private static string ReceiveDatagram(Socket socket)
    {
        socket.ReceiveTimeout = (int)Patience.TotalMilliseconds;
        var buffer = new byte[4096];
        return Encoding.UTF8.GetString(buffer, 0, socket.Receive(buffer));
    }

    private static string Inode(int fd) => new FileInfo($"/proc/self/fd/{fd}").LinkTarget!;

    private static async Task<bool> Eventually(Func<bool> condition)
    {
        for (var i = 0; i < 100; i++)
        {
            if (condition())
            {
                return true;
            }
            await Task.Delay(20);
        }
        return condition();
    }
}
