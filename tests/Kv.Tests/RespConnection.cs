using System.Net.Sockets;
using System.Text;

namespace Kv.Tests;

/// <summary>
/// One client connection that speaks raw RESP (2 or 3): sends a command as an array of bulk strings and reads one whole
/// reply, nested ones included, as the exact text received (Latin-1, line ends kept), so that kv's replies can be compared
/// byte for byte with redis-server's. Every read is bounded.
/// </summary>
internal sealed class RespConnection : IAsyncDisposable
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(15);
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    private RespConnection(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
    }

    /// <summary>Connects to 127.0.0.1:<paramref name="port"/>.</summary>
    public static async Task<RespConnection> ConnectAsync(int port)
    {
        var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync("127.0.0.1", port);
        return new RespConnection(client);
    }

    /// <summary>Sends one command and reads its reply.</summary>
    public async Task<string> CommandAsync(params string[] arguments) => (await PipelineAsync([arguments]))[0];

    /// <summary>Sends the commands in one write (so that the server receives them together), then reads their replies in order.</summary>
    public async Task<IReadOnlyList<string>> PipelineAsync(IReadOnlyList<string[]> commands)
    {
        var text = new StringBuilder();
        foreach (var arguments in commands)
        {
            text.Append('*').Append(arguments.Length).Append("\r\n");
            foreach (var argument in arguments)
            {
                text.Append('$').Append(Encoding.Latin1.GetByteCount(argument)).Append("\r\n").Append(argument).Append("\r\n");
            }
        }
        await _stream.WriteAsync(Encoding.Latin1.GetBytes(text.ToString()));
        var replies = new List<string>(commands.Count);
        foreach (var _ in commands)
        {
            using var deadline = new CancellationTokenSource(ReplyTimeout);
            var reply = new StringBuilder();
            await ReadReplyAsync(reply, deadline.Token);
            replies.Add(reply.ToString());
        }
        return replies;
    }

    private async Task ReadReplyAsync(StringBuilder reply, CancellationToken cancellationToken)
    {
        var line = await ReadLineAsync(cancellationToken);
        reply.Append(line);
        var kind = line[0];
        var length = kind is '$' or '=' or '!' or '*' or '%' or '~' or '>' ? long.Parse(line.AsSpan(1, line.Length - 3), System.Globalization.CultureInfo.InvariantCulture) : 0;
        switch (kind)
        {
            case '$' or '=' or '!' when length >= 0:
                reply.Append(await ReadExactlyAsync((int)length + 2, cancellationToken));
                break;
            case '*' or '~' or '>':
                for (var i = 0; i < length; i++)
                {
                    await ReadReplyAsync(reply, cancellationToken);
                }
                break;
            case '%':
                for (var i = 0; i < length * 2; i++)
                {
                    await ReadReplyAsync(reply, cancellationToken);
                }
                break;
        }
    }

    private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var at = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (at >= 0)
            {
                var line = Encoding.Latin1.GetString(_buffer, _start, at + 1 - _start);
                _start = at + 1;
                return line;
            }
            await FillAsync(cancellationToken);
        }
    }

    private async Task<string> ReadExactlyAsync(int count, CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        while (count > 0)
        {
            if (_start == _end)
            {
                await FillAsync(cancellationToken);
            }
            var take = Math.Min(count, _end - _start);
            text.Append(Encoding.Latin1.GetString(_buffer, _start, take));
            _start += take;
            count -= take;
        }
        return text.ToString();
    }

    private async Task FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        var read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
        if (read == 0)
        {
            throw new IOException("the server closed the connection");
        }
        _end += read;
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}
