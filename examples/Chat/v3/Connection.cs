using System.Net.Sockets;
using System.Text;
using Molt;

namespace Chat;

/// <summary>One client: its socket, the bytes it sent that are not a whole line yet, and who it is in the chat.</summary>
internal sealed class Connection(int id, Socket socket)
{
    // Kept here, not in a local of the unit, so that a line half received when an update comes survives it.
    private readonly byte[] _received = new byte[4096];
    private int _receivedCount;

    // Several units send to one client (a room's messages): one line at a time.
    private readonly SemaphoreSlim _sending = new(1, 1);

    public int Id { get; } = id;

    public Socket Socket { get; } = socket;

    [RenamedFrom("Nick")]
    public string Nickname { get; set; } = $"guest{id}";

    /// <summary>The room the client is in, if any (guarded by <see cref="ChatServer"/>'s lock).</summary>
    public Room? Room { get; set; }

    /// <summary>Where the next bytes received go.</summary>
    public Memory<byte> FreeSpace => _received.AsMemory(_receivedCount);

    public void Received(int count) => _receivedCount += count;

    /// <summary>Takes the next whole line received, if any. A line longer than the buffer is dropped.</summary>
    public bool TryTakeLine(out string line)
    {
        var end = Array.IndexOf(_received, (byte)'\n', 0, _receivedCount);
        if (end < 0)
        {
            if (_receivedCount == _received.Length)
            {
                _receivedCount = 0;
            }
            line = "";
            return false;
        }
        line = Encoding.UTF8.GetString(_received, 0, end).TrimEnd('\r');
        _receivedCount -= end + 1;
        Array.Copy(_received, end + 1, _received, 0, _receivedCount);
        return true;
    }

    /// <summary>Sends text and a line end. A client that has gone is noticed by its own unit, not here.</summary>
    public async Task SendAsync(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text + "\n");
        await _sending.WaitAsync();
        try
        {
            await Socket.SendAsync(bytes, SocketFlags.None);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Gone: its unit ends on its next receive and leaves its room.
        }
        finally
        {
            _sending.Release();
        }
    }
}
