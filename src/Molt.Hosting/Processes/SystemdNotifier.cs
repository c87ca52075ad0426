using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Molt.Hosting.Processes;

/// <summary>
/// The client side of systemd's readiness protocol (<c>sd_notify</c>): one datagram per notification to the Unix socket
/// named by <c>$NOTIFY_SOCKET</c>, a path or, with a leading '@', a name in the abstract namespace. Without the variable
/// every notification is a no-op, so a program run from a terminal behaves the same. A process that is not the unit's
/// main process needs <c>NotifyAccess=all</c>.
/// </summary>
internal sealed class SystemdNotifier : IDisposable
{
    /// <summary>The variable systemd sets for a <c>Type=notify</c> service.</summary>
    public const string SocketVariable = "NOTIFY_SOCKET";

    private readonly UnixDomainSocketEndPoint? _endPoint;
    private readonly Lock _lock = new();
    private Socket? _socket;

    /// <summary>A notifier for <paramref name="address"/> (as in <c>$NOTIFY_SOCKET</c>); null or empty: a no-op.</summary>
    /// <exception cref="ArgumentException">The address is neither a path nor an abstract name (vsock is not supported).</exception>
    public SystemdNotifier(string? address)
    {
        Address = string.IsNullOrEmpty(address) ? null : address;
        _endPoint = Address switch
        {
            null => null,
            ['/', ..] => new UnixDomainSocketEndPoint(Address),
            ['@', ..] => new UnixDomainSocketEndPoint("\0" + Address[1..]),
            _ => throw new ArgumentException($"{SocketVariable}='{Address}' is neither a socket path nor an abstract name ('@...'): not notified.", nameof(address)),
        };
    }

    /// <summary>The address notified, or null when this notifier is a no-op.</summary>
    public string? Address { get; }

    /// <summary>Whether notifications are sent (<c>$NOTIFY_SOCKET</c> was set).</summary>
    public bool IsEnabled => _endPoint is not null;

    /// <summary>The notifier for this process's <c>$NOTIFY_SOCKET</c>.</summary>
    public static SystemdNotifier FromEnvironment() => new(Environment.GetEnvironmentVariable(SocketVariable));

    /// <summary>
    /// <c>READY=1</c>: the service serves. With <paramref name="mainProcessId"/>, also <c>MAINPID=</c> in the same
    /// datagram: after a process update the new process says it is now the main one, and ready.
    /// </summary>
    public void Ready(int? mainProcessId = null) =>
        Notify(mainProcessId is { } pid ? $"MAINPID={pid.ToString(CultureInfo.InvariantCulture)}\nREADY=1" : "READY=1");

    /// <summary><c>MAINPID=</c>: the service's main process is now <paramref name="processId"/>.</summary>
    public void MainProcess(int processId) => Notify($"MAINPID={processId.ToString(CultureInfo.InvariantCulture)}");

    /// <summary>
    /// <c>RELOADING=1</c> with <c>MONOTONIC_USEC=</c> (the time on <c>CLOCK_MONOTONIC</c>, which systemd 253+ wants for
    /// <c>Type=notify-reload</c>): an update started; <see cref="Ready"/> ends it.
    /// </summary>
    public void Reloading() =>
        Notify($"RELOADING=1\nMONOTONIC_USEC={Libc.MonotonicMicroseconds().ToString(CultureInfo.InvariantCulture)}");

    /// <summary><c>STOPPING=1</c>: the service is shutting down.</summary>
    public void Stopping() => Notify("STOPPING=1");

    /// <summary><c>STATUS=</c>: one line that <c>systemctl status</c> shows (line breaks become spaces).</summary>
    public void Status(string text) => Notify("STATUS=" + text.ReplaceLineEndings(" "));

    /// <summary>Sends one notification of newline-separated assignments; nothing when not enabled.</summary>
    /// <exception cref="SocketException">Nobody listens at the address, or the datagram was not sent.</exception>
    public void Notify(string assignments)
    {
        if (_endPoint is null)
        {
            return;
        }
        lock (_lock)
        {
            if (_socket is null)
            {
                _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
                Libc.SetCloseOnExec((int)_socket.Handle, true);
            }
            _socket.SendTo(Encoding.UTF8.GetBytes(assignments), _endPoint);
        }
    }

    /// <summary>Closes the socket; the variable is left for the processes that follow.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _socket?.Dispose();
            _socket = null;
        }
    }
}
