using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Molt.Hosting.Processes;

namespace Molt.Hosting.Tests.Processes;

/// <summary>systemd's readiness protocol, received as systemd (or <c>systemd-notify</c>'s listener) would: one datagram each.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SystemdNotifierTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("molt-notify-").FullName;

    [Fact]
    public void Notifications_ToAPath_AreOneDatagramEach_InSystemdsFormat()
    {
        var path = Path.Combine(_directory, "notify.sock");
        using var systemd = Listen(new UnixDomainSocketEndPoint(path));
        using var notifier = new SystemdNotifier(path);

        notifier.Ready();
        Assert.Equal("READY=1", Receive(systemd));
        notifier.Ready(4242);
        Assert.Equal("MAINPID=4242\nREADY=1", Receive(systemd));
        notifier.MainProcess(4343);
        Assert.Equal("MAINPID=4343", Receive(systemd));
        var before = MonotonicMicroseconds();
        notifier.Reloading();
        var reloading = Receive(systemd).Split('\n');
        var after = MonotonicMicroseconds();
        Assert.Equal("RELOADING=1", reloading[0]);
        Assert.StartsWith("MONOTONIC_USEC=", reloading[1], StringComparison.Ordinal);
        Assert.InRange(long.Parse(reloading[1]["MONOTONIC_USEC=".Length..]), before, after);
        notifier.Status("updating\nto v2");
        Assert.Equal("STATUS=updating to v2", Receive(systemd));
        notifier.Stopping();
        Assert.Equal("STOPPING=1", Receive(systemd));
        Assert.True(notifier.IsEnabled);
    }

    [Fact]
    public void Notifications_ToAnAbstractName_Arrive()
    {
        var name = $"molt-notify-test-{Guid.NewGuid():N}";
        using var systemd = Listen(new UnixDomainSocketEndPoint("\0" + name));
        using var notifier = new SystemdNotifier("@" + name);

        notifier.Ready(17);

        Assert.Equal("MAINPID=17\nREADY=1", Receive(systemd));
    }

    [Fact]
    public void WithoutTheVariable_EveryNotification_IsANoOp()
    {
        using var unset = new SystemdNotifier(null);
        using var empty = new SystemdNotifier("");

        unset.Ready(1);
        unset.Reloading();
        empty.Stopping();

        Assert.False(unset.IsEnabled);
        Assert.False(empty.IsEnabled);
        Assert.Null(empty.Address);
    }

    [Fact]
    public void AnAddressOfAnotherKind_IsRefusedInWords()
    {
        var refused = Assert.Throws<ArgumentException>(() => new SystemdNotifier("vsock:2:1234"));
        Assert.StartsWith("NOTIFY_SOCKET='vsock:2:1234' is neither a socket path nor an abstract name", refused.Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static Socket Listen(UnixDomainSocketEndPoint endPoint)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(endPoint);
        socket.ReceiveTimeout = 10_000;
        return socket;
    }

    private static string Receive(Socket socket)
    {
        var buffer = new byte[4096];
        return Encoding.UTF8.GetString(buffer, 0, socket.Receive(buffer));
    }

    /// <summary>CLOCK_MONOTONIC as .NET's Stopwatch reads it on Linux (nanoseconds), independently of the notifier.</summary>
    // Divided first: the timestamp times a million overflows a long after about 2.5 hours of uptime.
    private static long MonotonicMicroseconds() => (long)(Stopwatch.GetTimestamp() / (Stopwatch.Frequency / 1_000_000.0));
}
