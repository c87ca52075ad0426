using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Kv.Benchmarks;

/// <summary>
/// A minimal RESP2 client over one blocking socket: enough for the checks (DBSIZE, INFO) and the latency prober,
/// which wants nothing between its clock and the socket. Replies are read whole; arrays are not needed here.
/// </summary>
internal sealed class RespConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    /// <summary>Connects to 127.0.0.1:<paramref name="port"/>; a reply that takes longer than <paramref name="timeout"/> fails.</summary>
    public RespConnection(int port, TimeSpan timeout)
    {
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _socket.ReceiveTimeout = (int)timeout.TotalMilliseconds;
        _socket.SendTimeout = (int)timeout.TotalMilliseconds;
        _socket.Connect("127.0.0.1", port);
    }

    /// <summary>A command as RESP: an array of bulk strings.</summary>
    public static byte[] Encode(params string[] parts)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"*{parts.Length}\r\n");
        foreach (var part in parts)
        {
            text.Append(CultureInfo.InvariantCulture, $"${Encoding.Latin1.GetByteCount(part)}\r\n{part}\r\n");
        }
        return Encoding.Latin1.GetBytes(text.ToString());
    }

    /// <summary>Sends an encoded command.</summary>
    public void Send(byte[] command) => _socket.Send(command);

    /// <summary>Sends a command and reads its reply: a string (simple, bulk, integer as text), null for a nil bulk, or an exception for an error reply.</summary>
    public string? Call(params string[] parts)
    {
        Send(Encode(parts));
        var (kind, text) = ReadReply();
        return kind == '-' ? throw new InvalidOperationException($"{string.Join(' ', parts)}: -{text}") : text;
    }

    /// <summary>Reads one reply: its type byte and its text (null for a nil bulk string).</summary>
    public (char Kind, string? Text) ReadReply()
    {
        var line = ReadLine();
        var kind = (char)line[0];
        var rest = Encoding.Latin1.GetString(line.AsSpan(1));
        switch (kind)
        {
            case '+' or '-' or ':':
                return (kind, rest);
            case '$':
                var length = int.Parse(rest, CultureInfo.InvariantCulture);
                if (length < 0)
                {
                    return (kind, null);
                }
                var body = ReadExactly(length + 2);
                return (kind, Encoding.Latin1.GetString(body, 0, length));
            default:
                throw new InvalidDataException($"unexpected reply type '{kind}' (arrays are not read by this client)");
        }
    }

    private byte[] ReadLine()
    {
        while (true)
        {
            var at = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (at > _start && _buffer[at - 1] == '\r')
            {
                var line = _buffer[_start..(at - 1)];
                _start = at + 1;
                return line;
            }
            Fill();
        }
    }

    private byte[] ReadExactly(int count)
    {
        var result = new byte[count];
        var copied = 0;
        while (copied < count)
        {
            if (_start == _end)
            {
                Fill();
            }
            var n = Math.Min(count - copied, _end - _start);
            Array.Copy(_buffer, _start, result, copied, n);
            _start += n;
            copied += n;
        }
        return result;
    }

    private void Fill()
    {
        if (_start > 0)
        {
            Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length)
        {
            throw new InvalidDataException("a reply line longer than the buffer");
        }
        var n = _socket.Receive(_buffer, _end, _buffer.Length - _end, SocketFlags.None);
        if (n == 0)
        {
            throw new IOException("the server closed the connection");
        }
        _end += n;
    }

    public void Dispose() => _socket.Dispose();
}
