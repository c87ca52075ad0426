using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Molt.Hosting.Processes;
using Xunit.Abstractions;

namespace Molt.Hosting.Tests.Processes;

/// <summary>The channel's framing, descriptors and errors, both ends in this process; and what passing sockets costs.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class HandoffChannelTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public void Message_ArrivesWhole_WithItsDescriptors_AsNewDescriptorsOfTheSameSockets_CloseOnExec()
    {
        var (sender, receiver) = Pair();
        using var _ = sender;
        using var __ = receiver;
        using var listener = Loopback();
        var payload = Enumerable.Range(0, 5000).Select(i => (byte)i).ToArray();

        sender.Send(payload, [listener.SafeHandle], Patience);
        using var message = receiver.Receive(Patience);
        using var adopted = message.TakeSocket(0);

        Assert.Equal(payload, message.Payload);
        Assert.NotEqual(listener.Handle, adopted.Handle);
        Assert.Equal(Inode(listener), Inode(adopted));
        Assert.Equal(listener.LocalEndPoint, adopted.LocalEndPoint);
        Assert.True(CloseOnExec((int)adopted.Handle), "a received descriptor must not be inherited by a child this process starts");
        Assert.Throws<InvalidOperationException>(() => message.TakeSocket(0));
    }

    [Fact]
    public void TooManyDescriptors_AreRefusedBeforeSending_InWords()
    {
        var (sender, receiver) = Pair();
        using var _ = sender;
        using var __ = receiver;
        using var a = Loopback();
        sender.MaxDescriptors = 2;

        var refused = Assert.Throws<HandoffException>(() => sender.Send("x"u8, [a.SafeHandle, a.SafeHandle, a.SafeHandle], Patience));

        Assert.Equal("Too many descriptors for one message: 3, at most 2.", refused.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => sender.MaxDescriptors = HandoffChannel.KernelMaxDescriptors + 1);
    }

    [Fact]
    public void MoreDescriptorsThanTheReceiverTakes_DiscardTheMessage_AndNoneLeaks()
    {
        var (sender, receiver) = Pair();
        using var _ = sender;
        using var __ = receiver;
        using var listener = Loopback();
        receiver.MaxDescriptors = 1;

        sender.Send("three"u8, [listener.SafeHandle, listener.SafeHandle, listener.SafeHandle], Patience);
        var refused = Assert.Throws<HandoffException>(() => receiver.Receive(Patience));

        Assert.Contains("more descriptors than the channel's 1", refused.Message, StringComparison.Ordinal);
        Assert.Contains("the 1 that arrived are discarded", refused.Message, StringComparison.Ordinal);
        Assert.Equal(1, DescriptorsOf(Inode(listener))); // Only the listener's own: the one that arrived was closed.
        // Framing is intact: the next message arrives as sent.
        sender.Send("next"u8, Patience);
        using var next = receiver.Receive(Patience);
        Assert.Equal("next", Encoding.UTF8.GetString(next.Payload));
    }

    [Fact]
    public void LongerMessage_IsReportedTruncated_AndTheNextOneArrivesWhole()
    {
        var (sender, receiver) = Pair();
        using var _ = sender;
        using var __ = receiver;
        receiver.MaxMessageBytes = 10;

        sender.Send(new byte[100], Patience);
        var refused = Assert.Throws<HandoffException>(() => receiver.Receive(Patience));
        sender.Send("0123456789"u8, Patience);
        using var next = receiver.Receive(Patience);

        Assert.Equal("A message longer than the channel's 10 bytes was truncated; it is discarded.", refused.Message);
        Assert.Equal("0123456789", Encoding.UTF8.GetString(next.Payload));
        Assert.Throws<HandoffException>(() => sender.Send(new byte[HandoffChannel.DefaultMaxMessageBytes + 1], Patience));
        Assert.Throws<ArgumentException>(() => sender.Send([], Patience));
    }

    [Fact]
    public void PeerClosed_IsSaid_OnReceiveAndOnSend()
    {
        var (sender, receiver) = Pair();
        using var _ = receiver;
        sender.Send("last"u8, Patience);
        sender.Dispose();

        using var last = receiver.Receive(Patience); // What was sent before the close still arrives.
        var onReceive = Assert.Throws<HandoffException>(() => receiver.Receive(Patience));
        var onSend = Assert.Throws<HandoffException>(() => receiver.Send("x"u8, Patience));

        Assert.Equal("last", Encoding.UTF8.GetString(last.Payload));
        Assert.Equal("The peer closed the hand-off channel.", onReceive.Message);
        Assert.Equal("The peer closed the hand-off channel: the message was not sent.", onSend.Message);
    }

    [Fact]
    public void NoMessage_BeforeTheDeadline_TimesOut_InWords()
    {
        var (sender, receiver) = Pair();
        using var _ = sender;
        using var __ = receiver;
        var clock = Stopwatch.StartNew();

        var waited = Assert.Throws<TimeoutException>(() => receiver.Receive(TimeSpan.FromMilliseconds(300)));

        Assert.Equal("The deadline of 300 ms passed while receiving a hand-off message.", waited.Message);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(290), TimeSpan.FromSeconds(3));
        using var cancelled = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        Assert.Throws<OperationCanceledException>(() => receiver.Receive(Patience, cancelled.Token));
    }

    [Fact]
    public void Descriptor_NotAChannel_IsRefusedInWords()
    {
        using var tcp = Loopback();
        var refused = Assert.Throws<HandoffException>(() => HandoffChannel.Adopt((int)tcp.Handle));
        Assert.Equal($"Descriptor {(int)tcp.Handle} is not a hand-off channel (a Unix SOCK_SEQPACKET socket).", refused.Message);
    }

    /// <summary>
    /// What the old process must respect when it closes its copies (facts of .NET 10 on Linux, pinned here): a copy
    /// closed while an asynchronous receive is pending on it cancels that receive and the new owner's connection goes on;
    /// a copy closed while a thread is blocked in a synchronous receive on it is reset (.NET unblocks the thread by
    /// disconnecting the close-on-exec socket, which is the one connection both copies share). So nothing may be blocked
    /// on a socket being handed off: the units are quiesced first.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ClosingTheOldCopy_WithAReceivePending_KeepsTheConnectionOnlyIfTheReceiveWasAsynchronous(bool blocked)
    {
        var (sender, receiver) = Pair();
        using var _ = sender;
        using var __ = receiver;
        using var listener = Loopback();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!);
        var old = await listener.AcceptAsync();
        var buffer = new byte[16];
        var pending = blocked
            ? Task.Factory.StartNew(() => old.Receive(buffer), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)
            : old.ReceiveAsync(buffer.AsMemory()).AsTask();
        await Task.Delay(100); // The receive is waiting in the kernel or in .NET's event loop.

        sender.Send("connection"u8, [old.SafeHandle], Patience);
        using var message = receiver.Receive(Patience);
        using var adopted = message.TakeSocket(0);
        old.Dispose();
        await Assert.ThrowsAnyAsync<Exception>(() => pending.WaitAsync(Patience)); // Ended by the close, either way.

        using var deadline = new CancellationTokenSource(Patience);
        if (blocked)
        {
            // The client sees the connection reset: lost for the new owner too.
            var reset = await Assert.ThrowsAsync<SocketException>(async () => await client.ReceiveAsync(buffer, deadline.Token));
            Assert.Equal(SocketError.ConnectionReset, reset.SocketErrorCode);
        }
        else
        {
            await client.SendAsync("after"u8.ToArray());
            Assert.Equal("after", Encoding.ASCII.GetString(buffer, 0, await adopted.ReceiveAsync(buffer, deadline.Token)));
        }
    }

    /// <summary>
    /// The numbers for the docs: 1000 connected sockets (4 messages of at most 253) and 64 MiB of bytes in 64 KiB
    /// messages, sent by one thread and received by another; every socket adopted and checked to be the same connection.
    /// </summary>
    [Fact]
    public async Task Measured_PassingAThousandConnections_AndSixtyFourMebibytes()
    {
        const int Connections = 1000;
        var (sender, receiver) = Pair();
        using var _ = sender;
        using var __ = receiver;
        using var listener = Loopback();
        var clients = new List<Socket>();
        var served = new List<Socket>();
        try
        {
            for (var i = 0; i < Connections; i++)
            {
                var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                clients.Add(client);
                await client.ConnectAsync(listener.LocalEndPoint!);
                served.Add(await listener.AcceptAsync());
            }

            var clock = Stopwatch.StartNew();
            var sending = OnOwnThread(() =>
            {
                foreach (var batch in served.Chunk(HandoffChannel.KernelMaxDescriptors))
                {
                    sender.Send("batch"u8, [.. batch.Select(s => (SafeHandle)s.SafeHandle)], Patience);
                }
            });
            var adopted = new List<Socket>();
            var adopting = TimeSpan.Zero;
            while (adopted.Count < Connections)
            {
                using var message = receiver.Receive(Patience);
                var adoption = Stopwatch.StartNew();
                for (var i = 0; i < message.DescriptorCount; i++)
                {
                    adopted.Add(message.TakeSocket(i));
                }
                adopting += adoption.Elapsed;
            }
            await sending;
            var sockets = clock.Elapsed;
            try
            {
                for (var i = 0; i < Connections; i++)
                {
                    Assert.Equal(clients[i].LocalEndPoint, adopted[i].RemoteEndPoint);
                }
            }
            finally
            {
                adopted.ForEach(s => s.Dispose());
            }

            const int Bytes = 64 << 20;
            var chunk = new byte[HandoffChannel.DefaultMaxMessageBytes];
            clock.Restart();
            var streaming = OnOwnThread(() =>
            {
                for (var sent = 0; sent < Bytes; sent += chunk.Length)
                {
                    sender.Send(chunk, Patience);
                }
            });
            long received = 0;
            for (var messages = 0; received < Bytes && messages < Bytes / chunk.Length; messages++)
            {
                using var message = receiver.Receive(Patience);
                received += message.Payload.Length;
            }
            await streaming;
            var bytes = clock.Elapsed;

            output.WriteLine($"{Connections} connections passed and adopted in {sockets.TotalMilliseconds:0.0} ms " +
                $"({sockets.TotalMicroseconds / Connections:0.0} µs each, of which {adopting.TotalMilliseconds:0.0} ms adopting them as Sockets); 64 MiB in 64 KiB messages in {bytes.TotalMilliseconds:0} ms " +
                $"({Bytes / bytes.TotalSeconds / (1 << 20):0} MiB/s)");
            Assert.Equal(Bytes, received);
            Assert.True(sockets < TimeSpan.FromSeconds(10) && bytes < TimeSpan.FromSeconds(30), "passing took far longer than measured when written");
        }
        finally
        {
            clients.ForEach(s => s.Dispose());
            served.ForEach(s => s.Dispose());
        }
    }

    /// <summary>
    /// Blocking sends on a thread of their own: on the pool, among other tests' blocking waits, the pool's slow growth
    /// (about one thread per 0.5-1 s when starved) is what would be measured.
    /// </summary>
    private static Task OnOwnThread(Action send)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        new Thread(() =>
        {
            try
            {
                send();
                done.SetResult();
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        }) { IsBackground = true, Name = "hand-off sender" }.Start();
        return done.Task;
    }

    private static (HandoffChannel Sender, HandoffChannel Receiver) Pair()
    {
        var (first, second) = HandoffChannel.CreateSocketPair();
        return (HandoffChannel.Adopt(first), HandoffChannel.Adopt(second));
    }

    private static Socket Loopback()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.Listen(1024);
        return socket;
    }

    private static string Inode(Socket socket) => new FileInfo($"/proc/self/fd/{(int)socket.Handle}").LinkTarget!;

    /// <summary>How many descriptors of this process refer to the socket.</summary>
    private static int DescriptorsOf(string inode) =>
        Directory.GetFiles("/proc/self/fd").Count(fd => new FileInfo(fd).LinkTarget == inode);

    /// <summary>Read from the kernel's own account (<c>/proc/self/fdinfo</c>), not through the code under test.</summary>
    private static bool CloseOnExec(int fd) =>
        (Convert.ToInt32(File.ReadAllLines($"/proc/self/fdinfo/{fd}").First(l => l.StartsWith("flags:", StringComparison.Ordinal))["flags:".Length..].Trim(), 8) & 0x80000) != 0;
}
