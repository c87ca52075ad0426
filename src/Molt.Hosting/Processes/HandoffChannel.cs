using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Molt.Hosting.Processes;

/// <summary>
/// A private channel between the old and the new process of an update: a Unix <c>SOCK_SEQPACKET</c> socket whose every
/// message keeps its boundaries and may carry descriptors (<c>SCM_RIGHTS</c>). Either a socket pair whose other end
/// only the started child inherits (<see cref="CreatePair"/>, <see cref="FromEnvironment()"/>), or a connection accepted
/// by a <see cref="HandoffListener"/> from the expected process only. Every descriptor it holds or receives is
/// close-on-exec. One sender and one receiver at a time; every wait is bounded by a deadline.
/// </summary>
internal sealed class HandoffChannel : IDisposable
{
    /// <summary>The environment variable that tells a child the number of its inherited end.</summary>
    public const string DescriptorVariable = "MOLT_HANDOFF_FD";

    /// <summary>The kernel's limit of descriptors in one message (<c>SCM_MAX_FD</c>).</summary>
    public const int KernelMaxDescriptors = 253;

    /// <summary>The default largest message: larger state crosses as a sequence of messages.</summary>
    public const int DefaultMaxMessageBytes = 64 * 1024;

    private static readonly TimeSpan PollSlice = TimeSpan.FromMilliseconds(100);

    private readonly SafeHandle _handle;
    private readonly IDisposable? _owner;
    private readonly Lock _sendLock = new();
    private readonly Lock _receiveLock = new();
    private byte[] _sendBuffer = [];
    private byte[] _receiveBuffer = [];

    private HandoffChannel(SafeHandle handle, IDisposable? owner)
    {
        _handle = handle;
        _owner = owner;
    }

    /// <summary>The largest message this end sends or receives; a longer one received is an error, not a partial read.</summary>
    public int MaxMessageBytes
    {
        get;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            field = value;
        }
    } = DefaultMaxMessageBytes;

    /// <summary>The most descriptors one message may carry to this end (at most <see cref="KernelMaxDescriptors"/>).</summary>
    public int MaxDescriptors
    {
        get;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, KernelMaxDescriptors);
            field = value;
        }
    } = KernelMaxDescriptors;

    /// <summary>
    /// A new socket pair: the channel for this process and the end a child inherits (<see cref="HandoffChildEnd.Start"/>).
    /// Both are close-on-exec until the child is started.
    /// </summary>
    public static (HandoffChannel Channel, HandoffChildEnd ChildEnd) CreatePair()
    {
        var (mine, theirs) = CreateSocketPair();
        return (Wrap(mine), new HandoffChildEnd(theirs));
    }

    /// <summary>
    /// The channel this process inherited from its parent (<see cref="DescriptorVariable"/>), or null when started
    /// without one. The descriptor is made close-on-exec and the variable removed, so this process's own children
    /// inherit neither.
    /// </summary>
    public static HandoffChannel? FromEnvironment() => FromEnvironment(DescriptorVariable);

    /// <summary>The channel this process inherited under <paramref name="variable"/>, or null (see <see cref="FromEnvironment()"/>).</summary>
    public static HandoffChannel? FromEnvironment(string variable)
    {
        var value = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var fd))
        {
            throw new HandoffException($"{variable}='{value}' is not a descriptor number.");
        }
        var channel = Adopt(fd);
        Environment.SetEnvironmentVariable(variable, null);
        return channel;
    }

    /// <summary>Connects to a <see cref="HandoffListener"/>'s socket; the listener checks that this is the process it expects.</summary>
    public static HandoffChannel Connect(string socketPath)
    {
        Libc.EnsureSupported();
        var socket = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(socketPath));
            return FromConnectedSocket(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Takes a descriptor known to be this channel's kind: a Unix <c>SOCK_SEQPACKET</c> socket. It is made close-on-exec.</summary>
    internal static HandoffChannel Adopt(int fd)
    {
        Libc.EnsureSupported();
        if (Libc.SocketOption(fd, Libc.SoDomain) != Libc.AfUnix || Libc.SocketOption(fd, Libc.SoType) != Libc.SockSeqpacket)
        {
            throw new HandoffException($"Descriptor {fd} is not a hand-off channel (a Unix SOCK_SEQPACKET socket).");
        }
        Libc.SetCloseOnExec(fd, true);
        return Wrap(fd);
    }

    /// <summary>A connected Unix <c>SOCK_SEQPACKET</c> socket as a channel, which then owns it.</summary>
    internal static HandoffChannel FromConnectedSocket(Socket socket)
    {
        Libc.SetCloseOnExec((int)socket.Handle, true);
        return new HandoffChannel(socket.SafeHandle, socket);
    }

    /// <summary>A connected pair of Unix <c>SOCK_SEQPACKET</c> sockets, both close-on-exec.</summary>
    internal static (int First, int Second) CreateSocketPair()
    {
        Libc.EnsureSupported();
        var fds = new int[2];
        if (Libc.socketpair(Libc.AfUnix, Libc.SockSeqpacket | Libc.SockCloexec, 0, fds) != 0)
        {
            throw Libc.Failure("creating the hand-off socket pair");
        }
        return (fds[0], fds[1]);
    }

    /// <summary>
    /// Sends one message with descriptors attached (sockets, or any descriptor); the receiver gets its own copies of
    /// them, and the sender's stay open until it closes them. The message is whole or not sent.
    /// </summary>
    /// <exception cref="HandoffException">The peer closed the channel, or the message does not fit.</exception>
    /// <exception cref="TimeoutException">The peer did not make room for the message before the deadline.</exception>
    public void Send(ReadOnlySpan<byte> payload, ReadOnlySpan<SafeHandle> descriptors, TimeSpan timeout, CancellationToken cancellation = default)
    {
        if (payload.IsEmpty)
        {
            // An empty message reads as the end of the channel.
            throw new ArgumentException("A hand-off message has at least one byte.", nameof(payload));
        }
        if (payload.Length > MaxMessageBytes)
        {
            throw new HandoffException($"A message of {payload.Length} bytes is longer than the channel's {MaxMessageBytes}: send it in parts.");
        }
        if (descriptors.Length > MaxDescriptors)
        {
            throw new HandoffException($"Too many descriptors for one message: {descriptors.Length}, at most {MaxDescriptors}.");
        }
        var deadline = Deadline(timeout);
        lock (_sendLock)
        {
            var held = 0;
            var channelHeld = false;
            try
            {
                _handle.DangerousAddRef(ref channelHeld);
                var fd = (int)_handle.DangerousGetHandle();
                if (_sendBuffer.Length < payload.Length)
                {
                    _sendBuffer = GC.AllocateUninitializedArray<byte>(MaxMessageBytes, pinned: true);
                }
                payload.CopyTo(_sendBuffer);
                var control = descriptors.IsEmpty ? [] : GC.AllocateArray<byte>(ControlSpace(descriptors.Length), pinned: true);
                if (!descriptors.IsEmpty)
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(control, (ulong)(Libc.ControlHeaderBytes + 4 * descriptors.Length));
                    BinaryPrimitives.WriteInt32LittleEndian(control.AsSpan(8), Libc.SolSocket);
                    BinaryPrimitives.WriteInt32LittleEndian(control.AsSpan(12), Libc.ScmRights);
                    for (; held < descriptors.Length; held++)
                    {
                        var added = false;
                        descriptors[held].DangerousAddRef(ref added);
                        BinaryPrimitives.WriteInt32LittleEndian(control.AsSpan(Libc.ControlHeaderBytes + 4 * held), (int)descriptors[held].DangerousGetHandle());
                    }
                }
                var vector = new Libc.IoVector { Base = Marshal.UnsafeAddrOfPinnedArrayElement(_sendBuffer, 0), Length = (nuint)payload.Length };
                var vectorHandle = GCHandle.Alloc(vector, GCHandleType.Pinned);
                try
                {
                    var header = new Libc.MessageHeader
                    {
                        Vectors = vectorHandle.AddrOfPinnedObject(),
                        VectorCount = 1,
                        Control = control.Length == 0 ? 0 : Marshal.UnsafeAddrOfPinnedArrayElement(control, 0),
                        ControlLength = (nuint)control.Length,
                    };
                    while (true)
                    {
                        WaitFor(fd, Libc.PollOut, deadline, timeout, "sending a hand-off message", cancellation);
                        var sent = Libc.sendmsg(fd, ref header, Libc.MsgDontwait | Libc.MsgNosignal);
                        if (sent >= 0)
                        {
                            return;
                        }
                        var errno = Marshal.GetLastPInvokeError();
                        if (errno is Libc.Eagain or Libc.Eintr)
                        {
                            continue;
                        }
                        throw errno switch
                        {
                            Libc.Epipe or Libc.Econnreset => new HandoffException("The peer closed the hand-off channel: the message was not sent."),
                            Libc.Emsgsize => new HandoffException($"A message of {payload.Length} bytes does not fit the channel's socket buffer: send it in parts."),
                            _ => Libc.Failure("sending a hand-off message"),
                        };
                    }
                }
                finally
                {
                    vectorHandle.Free();
                }
            }
            finally
            {
                for (var i = 0; i < held; i++)
                {
                    descriptors[i].DangerousRelease();
                }
                if (channelHeld)
                {
                    _handle.DangerousRelease();
                }
            }
        }
    }

    /// <summary>Sends one message without descriptors.</summary>
    public void Send(ReadOnlySpan<byte> payload, TimeSpan timeout, CancellationToken cancellation = default) =>
        Send(payload, [], timeout, cancellation);

    /// <summary>
    /// Receives the next message. Descriptors arrive close-on-exec (<c>MSG_CMSG_CLOEXEC</c>, atomically) and belong to
    /// the message until taken.
    /// </summary>
    /// <exception cref="HandoffException">The peer closed the channel; or the message was longer than
    /// <see cref="MaxMessageBytes"/> or carried more than <see cref="MaxDescriptors"/> descriptors: it is discarded and
    /// whatever descriptors did arrive are closed.</exception>
    /// <exception cref="TimeoutException">No message before the deadline.</exception>
    public HandoffMessage Receive(TimeSpan timeout, CancellationToken cancellation = default)
    {
        var deadline = Deadline(timeout);
        lock (_receiveLock)
        {
            var channelHeld = false;
            try
            {
                _handle.DangerousAddRef(ref channelHeld);
                var fd = (int)_handle.DangerousGetHandle();
                if (_receiveBuffer.Length != MaxMessageBytes)
                {
                    _receiveBuffer = GC.AllocateUninitializedArray<byte>(MaxMessageBytes, pinned: true);
                }
                var control = GC.AllocateArray<byte>(ControlSpace(Math.Max(MaxDescriptors, 1)), pinned: true);
                var vector = new Libc.IoVector { Base = Marshal.UnsafeAddrOfPinnedArrayElement(_receiveBuffer, 0), Length = (nuint)_receiveBuffer.Length };
                var vectorHandle = GCHandle.Alloc(vector, GCHandleType.Pinned);
                try
                {
                    while (true)
                    {
                        WaitFor(fd, Libc.PollIn, deadline, timeout, "receiving a hand-off message", cancellation);
                        var header = new Libc.MessageHeader
                        {
                            Vectors = vectorHandle.AddrOfPinnedObject(),
                            VectorCount = 1,
                            // Room for MaxDescriptors only: more is cut by the kernel (MSG_CTRUNC) and reported.
                            Control = Marshal.UnsafeAddrOfPinnedArrayElement(control, 0),
                            // CMSG_LEN, not CMSG_SPACE: the padding would make room for one more.
                            ControlLength = (nuint)(MaxDescriptors == 0 ? 0 : Libc.ControlHeaderBytes + 4 * MaxDescriptors),
                        };
                        var received = Libc.recvmsg(fd, ref header, Libc.MsgDontwait | Libc.MsgCmsgCloexec);
                        if (received < 0)
                        {
                            var errno = Marshal.GetLastPInvokeError();
                            if (errno is Libc.Eagain or Libc.Eintr)
                            {
                                continue;
                            }
                            throw errno == Libc.Econnreset
                                ? new HandoffException("The peer closed the hand-off channel.")
                                : Libc.Failure("receiving a hand-off message");
                        }
                        var descriptors = ReadDescriptors(control, (int)header.ControlLength);
                        var problem =
                            received == 0 ? "The peer closed the hand-off channel."
                            : (header.Flags & Libc.MsgTrunc) != 0 ? $"A message longer than the channel's {MaxMessageBytes} bytes was truncated; it is discarded."
                            : (header.Flags & Libc.MsgCtrunc) != 0 ? $"A message carried more descriptors than the channel's {MaxDescriptors} (or this process may open): " +
                                $"the kernel dropped the extra ones; the message and the {descriptors.Length} that arrived are discarded."
                            : null;
                        if (problem is not null)
                        {
                            new HandoffMessage([], descriptors).Dispose();
                            throw new HandoffException(problem);
                        }
                        return new HandoffMessage(_receiveBuffer.AsSpan(0, (int)received).ToArray(), descriptors);
                    }
                }
                finally
                {
                    vectorHandle.Free();
                }
            }
            finally
            {
                if (channelHeld)
                {
                    _handle.DangerousRelease();
                }
            }
        }
    }

    /// <summary>
    /// Waits, without reading, until the peer has closed its end (its process exited): for a process that must not outlive
    /// the one at the other end. Returns false when <paramref name="cancellation"/> ends the wait first.
    /// </summary>
    public bool WaitUntilClosed(CancellationToken cancellation)
    {
        while (!cancellation.IsCancellationRequested)
        {
            var held = false;
            try
            {
                // Held while polled: this end closed meanwhile is not mistaken for the peer's (nor its number for another's).
                _handle.DangerousAddRef(ref held);
                // No events asked: poll still reports a hang-up or an error, and never that data is waiting (which is not ours to read).
                var poll = new Libc.PollDescriptor { Fd = (int)_handle.DangerousGetHandle(), Events = 0 };
                var ready = Libc.poll(ref poll, 1, (int)PollSlice.TotalMilliseconds);
                if (ready > 0 && (poll.ReturnedEvents & (Libc.PollHup | Libc.PollErr)) != 0)
                {
                    return true;
                }
            }
            catch (ObjectDisposedException)
            {
                return false; // This end was closed: nothing to watch.
            }
            finally
            {
                if (held)
                {
                    _handle.DangerousRelease();
                }
            }
        }
        return false;
    }

    /// <summary>This end's descriptor, to send it to another process (which then holds the channel's end too).</summary>
    internal SafeHandle Handle => _handle;

    /// <summary>Closes this end: the peer's next receive reports the channel closed.</summary>
    public void Dispose()
    {
        if (_owner is not null)
        {
            _owner.Dispose();
        }
        else
        {
            _handle.Dispose();
        }
    }

    /// <summary>Every wait of the hand-off is bounded: a deadline from now, of at most a day.</summary>
    private static long Deadline(TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(timeout, TimeSpan.FromDays(1));
        return Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
    }

    private static HandoffChannel Wrap(int fd) => new(new SafeSocketHandle(fd, ownsHandle: true), owner: null);

    /// <summary><c>CMSG_SPACE</c> for <paramref name="count"/> descriptors: the header, then the descriptors padded to 8 bytes.</summary>
    private static int ControlSpace(int count) => Libc.ControlHeaderBytes + ((4 * count + 7) & ~7);

    /// <summary>Every descriptor of the <c>SCM_RIGHTS</c> control messages received, in order.</summary>
    private static int[] ReadDescriptors(byte[] control, int length)
    {
        var descriptors = new List<int>();
        for (var offset = 0; offset + Libc.ControlHeaderBytes <= length;)
        {
            var messageLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(control.AsSpan(offset));
            if (messageLength < Libc.ControlHeaderBytes || offset + messageLength > length)
            {
                break;
            }
            if (BinaryPrimitives.ReadInt32LittleEndian(control.AsSpan(offset + 8)) == Libc.SolSocket &&
                BinaryPrimitives.ReadInt32LittleEndian(control.AsSpan(offset + 12)) == Libc.ScmRights)
            {
                for (var at = offset + Libc.ControlHeaderBytes; at + 4 <= offset + messageLength; at += 4)
                {
                    descriptors.Add(BinaryPrimitives.ReadInt32LittleEndian(control.AsSpan(at)));
                }
            }
            offset += (messageLength + 7) & ~7;
        }
        return [.. descriptors];
    }

    /// <summary>Waits until the channel is ready for <paramref name="events"/> (or has failed: the call that follows says how).</summary>
    private static void WaitFor(int fd, short events, long deadline, TimeSpan timeout, string doing, CancellationToken cancellation)
    {
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
            if (remaining <= TimeSpan.Zero)
            {
                throw new TimeoutException($"The deadline of {timeout.TotalMilliseconds:0} ms passed while {doing}.");
            }
            var poll = new Libc.PollDescriptor { Fd = fd, Events = events };
            var slice = (int)Math.Ceiling(Math.Min(remaining.TotalMilliseconds, PollSlice.TotalMilliseconds));
            var ready = Libc.poll(ref poll, 1, slice);
            if (ready > 0)
            {
                return;
            }
            if (ready < 0 && Marshal.GetLastPInvokeError() != Libc.Eintr)
            {
                throw Libc.Failure($"waiting while {doing}");
            }
        }
    }
}
