using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Molt.Hosting.Control;

/// <summary>Who is at the other end of a Unix domain socket (Linux <c>SO_PEERCRED</c>), and who we are.</summary>
internal readonly record struct PeerCredentials(int ProcessId, uint UserId, uint GroupId)
{
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;

    /// <summary>The effective user id of this process.</summary>
    public static uint CurrentUserId => geteuid();

    /// <summary>Reads the credentials the kernel recorded for the peer when it connected.</summary>
    public static PeerCredentials Of(Socket socket)
    {
        Span<byte> buffer = stackalloc byte[12];
        var length = socket.GetRawSocketOption(SolSocket, SoPeerCred, buffer);
        if (length < 12)
        {
            throw new SocketException((int)SocketError.ProtocolNotSupported);
        }
        return new PeerCredentials(
            BitConverter.ToInt32(buffer[..4]),
            BitConverter.ToUInt32(buffer[4..8]),
            BitConverter.ToUInt32(buffer[8..12]));
    }

    /// <summary>Only the same user, or root, may control a program.</summary>
    public bool MayControl(uint ownerUserId) => UserId == ownerUserId || UserId == 0;

    [DllImport("libc", SetLastError = false)]
    private static extern uint geteuid();
}
