using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Kv.Demo;

/// <summary>
/// Two clients left mid-conversation across an update: one blocked in <c>BLPOP</c>, one inside <c>MULTI</c> with commands
/// queued — among them the push that the blocked client waits for. After the update the transaction's <c>EXEC</c> runs in the
/// new version, atomically, and its push serves the blocked client on the connection it blocked on. A real Redis gives the same
/// answers: the demo checks them.
/// </summary>
internal sealed class PendingClients : IAsyncDisposable
{
    private readonly TcpClient _blocked;
    private readonly TcpClient _transaction;
    private readonly string _queue;
    private readonly string _counter;
    private readonly TimeSpan _timeout;

    private PendingClients(TcpClient blocked, TcpClient transaction, string tag, TimeSpan timeout)
    {
        _blocked = blocked;
        _transaction = transaction;
        _queue = $"demo:jobs:{tag}";
        _counter = $"demo:tx:{tag}";
        _timeout = timeout;
    }

    /// <summary>What the clients were left doing, as the demo prints it.</summary>
    public string Description => $"a client blocked in BLPOP {_queue} 0, and one inside MULTI with INCR {_counter} and LPUSH {_queue} queued";

    /// <summary>Opens both clients: the first blocks, the second queues a transaction (each reply checked as Redis gives it).</summary>
    public static async Task<PendingClients> OpenAsync(int port, string tag, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var blocked = new TcpClient { NoDelay = true };
        var transaction = new TcpClient { NoDelay = true };
        var clients = new PendingClients(blocked, transaction, tag, timeout);
        try
        {
            await blocked.ConnectAsync("127.0.0.1", port, cancellationToken).ConfigureAwait(false);
            await transaction.ConnectAsync("127.0.0.1", port, cancellationToken).ConfigureAwait(false);
            await SendAsync(blocked, ["BLPOP", clients._queue, "0"], cancellationToken).ConfigureAwait(false);
            foreach (var (command, expected) in new (string[], string)[]
            {
                (["MULTI"], "OK"), (["INCR", clients._counter], "QUEUED"), (["LPUSH", clients._queue, $"job-{tag}"], "QUEUED"),
            })
            {
                await SendAsync(transaction, command, cancellationToken).ConfigureAwait(false);
                var reply = await clients.ReadAsync(transaction, cancellationToken).ConfigureAwait(false);
                if (reply != expected)
                {
                    throw new InvalidOperationException($"{string.Join(' ', command)} answered {reply}, not {expected}");
                }
            }
            return clients;
        }
        catch
        {
            await clients.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Runs the transaction (EXEC) and reads what the blocked client got: the checks, as (what, passed). Expected: EXEC answers
    /// [1, 1] (the counter, the list's length), and the blocked client [queue, job].
    /// </summary>
    public async Task<List<(string What, bool Passed)>> FinishAsync(string release, CancellationToken cancellationToken)
    {
        await SendAsync(_transaction, ["EXEC"], cancellationToken).ConfigureAwait(false);
        var exec = await ReadAsync(_transaction, cancellationToken).ConfigureAwait(false);
        var served = await ReadAsync(_blocked, cancellationToken).ConfigureAwait(false);
        var job = _queue["demo:jobs:".Length..];
        return
        [
            ($"the transaction opened before the update ran after it, in {release}, on the same connection: EXEC answered {exec}", exec == "[1, 1]"),
            ($"the client blocked in BLPOP before the update was served by that transaction's push, on the same connection: {served}",
                served == $"[{_queue}, job-{job}]"),
        ];
    }

    private static Task SendAsync(TcpClient client, string[] command, CancellationToken cancellationToken)
    {
        var text = new StringBuilder().Append(CultureInfo.InvariantCulture, $"*{command.Length}\r\n");
        foreach (var argument in command)
        {
            text.Append(CultureInfo.InvariantCulture, $"${Encoding.UTF8.GetByteCount(argument)}\r\n{argument}\r\n");
        }
        return client.GetStream().WriteAsync(Encoding.UTF8.GetBytes(text.ToString()), cancellationToken).AsTask();
    }

    /// <summary>One reply as text: a status or bulk string as it is, an integer as digits, an array as [a, b], nil as "nil".</summary>
    private async Task<string> ReadAsync(TcpClient client, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        return await ReplyAsync(client.GetStream(), timeout.Token).ConfigureAwait(false);
    }

    private static async Task<string> ReplyAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var line = await LineAsync(stream, cancellationToken).ConfigureAwait(false);
        var rest = line[1..];
        switch (line[0])
        {
            case '+' or ':':
                return rest;
            case '-':
                return "error: " + rest;
            case '$':
                var length = int.Parse(rest, CultureInfo.InvariantCulture);
                if (length < 0)
                {
                    return "nil";
                }
                var data = new byte[length + 2];
                await stream.ReadExactlyAsync(data, cancellationToken).ConfigureAwait(false);
                return Encoding.UTF8.GetString(data, 0, length);
            case '*':
                var count = int.Parse(rest, CultureInfo.InvariantCulture);
                if (count < 0)
                {
                    return "nil";
                }
                var items = new List<string>();
                for (var i = 0; i < count; i++)
                {
                    items.Add(await ReplyAsync(stream, cancellationToken).ConfigureAwait(false));
                }
                return $"[{string.Join(", ", items)}]";
            default:
                throw new InvalidDataException($"not a RESP2 reply: {line}");
        }
    }

    private static async Task<string> LineAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var line = new StringBuilder();
        var one = new byte[1];
        while (true)
        {
            await stream.ReadExactlyAsync(one, cancellationToken).ConfigureAwait(false);
            if (one[0] == '\n' && line.Length > 0 && line[^1] == '\r')
            {
                return line.ToString(0, line.Length - 1);
            }
            line.Append((char)one[0]);
        }
    }

    public ValueTask DisposeAsync()
    {
        _blocked.Dispose();
        _transaction.Dispose();
        return ValueTask.CompletedTask;
    }
}
