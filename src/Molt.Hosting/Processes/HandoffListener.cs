using System.Diagnostics;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Molt.Hosting.Control;

namespace Molt.Hosting.Processes;

/// <summary>
/// A hand-off channel reached by path, for a child that cannot inherit a socket pair: a Unix <c>SOCK_SEQPACKET</c>
/// socket in a fresh directory only this user may enter (0700, <c>mkdtemp</c>), and of every connection only the one
/// from the expected process of this user is taken (<c>SO_PEERCRED</c>); any other is refused, closed and logged
/// with its process and user id. Disposing removes the socket and its directory.
/// </summary>
internal sealed class HandoffListener : IDisposable
{
    /// <summary>Strangers refused before the wait is given up: the wait is bounded in count as well as in time.</summary>
    private const int MaxRefusals = 64;

    private readonly Socket _socket;
    private readonly string _directory;
    private readonly ILogger _logger;
    private readonly uint _owner = PeerCredentials.CurrentUserId;

    private HandoffListener(Socket socket, string directory, string socketPath, ILogger logger)
    {
        _socket = socket;
        _directory = directory;
        SocketPath = socketPath;
        _logger = logger;
    }

    /// <summary>Where the expected process connects (<see cref="HandoffChannel.Connect"/>).</summary>
    public string SocketPath { get; }

    /// <summary>Who connected, as the kernel recorded it; a test seam, as on the control endpoint.</summary>
    internal Func<Socket, PeerCredentials> ReadPeer { get; set; } = PeerCredentials.Of;

    /// <summary>Listens in a new private directory under the temporary directory.</summary>
    public static HandoffListener Start(ILoggerFactory? loggerFactory = null)
    {
        if (!Libc.IsSupported)
        {
            throw Libc.NotSupported();
        }
        var directory = Directory.CreateTempSubdirectory("molt-handoff-").FullName;
        var socketPath = Path.Combine(directory, "handoff.sock");
        var socket = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        try
        {
            Libc.SetCloseOnExec((int)socket.Handle, true);
            socket.Bind(new UnixDomainSocketEndPoint(socketPath));
            File.SetUnixFileMode(socketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            socket.Listen(4);
            var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Molt.Hosting.Processes.HandoffListener");
            return new HandoffListener(socket, directory, socketPath, logger);
        }
        catch
        {
            socket.Dispose();
            Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    /// <summary>
    /// Waits for process <paramref name="expectedProcessId"/> of this user to connect and returns its channel; refuses
    /// (closes and logs) every other peer meanwhile.
    /// </summary>
    /// <exception cref="TimeoutException">The expected process did not connect in time.</exception>
    /// <exception cref="HandoffException">64 other peers were refused first.</exception>
    public async Task<HandoffChannel> AcceptAsync(int expectedProcessId, TimeSpan timeout, CancellationToken cancellation = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(timeout);
        var clock = Stopwatch.StartNew();
        for (var refused = 0; ; refused++)
        {
            if (refused == MaxRefusals)
            {
                throw new HandoffException($"Refused {MaxRefusals} connections to the hand-off channel while waiting for process {expectedProcessId}: given up.");
            }
            Socket peer;
            try
            {
                peer = await _socket.AcceptAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
            {
                throw new TimeoutException($"Process {expectedProcessId} did not connect to the hand-off channel within {timeout.TotalMilliseconds:0} ms.");
            }
            try
            {
                var credentials = ReadPeer(peer);
                if (credentials.ProcessId == expectedProcessId && credentials.UserId == _owner)
                {
                    Log.HandoffAccepted(_logger, expectedProcessId, clock.Elapsed.TotalMilliseconds);
                    return HandoffChannel.FromConnectedSocket(peer);
                }
                Log.HandoffPeerRefused(_logger, credentials.ProcessId, credentials.UserId, expectedProcessId, _owner);
            }
            catch (Exception e) when (e is SocketException or IOException)
            {
                Log.HandoffPeerUnreadable(_logger, e);
            }
            peer.Dispose();
        }
    }

    /// <summary>Stops listening and removes the socket and its directory.</summary>
    public void Dispose()
    {
        _socket.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Already gone; nothing of ours is left to remove.
        }
    }
}
