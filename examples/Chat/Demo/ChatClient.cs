using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Chat.Demo;

/// <summary>
/// One chat client on its own TCP connection, for the whole run (it never reconnects). In its loop it says
/// numbered lines (<c>nick/1</c>, <c>nick/2</c>...) in its room and waits for each to come back, and answers
/// version probes in between; any error, timeout or unexpected line is recorded and ends the client.
/// </summary>
public sealed class ChatClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly StreamReader _reader;
    private readonly TimeSpan _replyTimeout;
    private readonly Lock _lock = new();
    private readonly List<string> _errors = [];
    private TaskCompletionSource<string>? _versionProbe;
    private int _sent;
    private int _acknowledged;
    private int _fromOthers;
    private volatile bool _broken;

    private ChatClient(Socket socket, string nick, string? room, TimeSpan replyTimeout)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = new StreamReader(_stream, Encoding.UTF8);
        Nick = nick;
        Room = room;
        _replyTimeout = replyTimeout;
        LocalEndPoint = socket.LocalEndPoint!;
    }

    /// <summary>The client's nick; its lines are <c>nick/n</c>.</summary>
    public string Nick { get; }

    /// <summary>The room it talks in; null for a client that only asks questions.</summary>
    public string? Room { get; }

    /// <summary>The name the server gave the connection when it was accepted (<c>guestN</c>: unit <c>conn-N</c>).</summary>
    public string ServerName { get; private set; } = "";

    /// <summary>The server's unit for this connection.</summary>
    public string UnitName => "conn-" + ServerName["guest".Length..];

    /// <summary>The client's end of its one connection.</summary>
    public EndPoint LocalEndPoint { get; }

    /// <summary>Lines said (counted before each is sent).</summary>
    public int Sent => Volatile.Read(ref _sent);

    /// <summary>Lines said that came back from the server.</summary>
    public int Acknowledged => Volatile.Read(ref _acknowledged);

    /// <summary>Lines of other members of its room received.</summary>
    public int FromOthers => Volatile.Read(ref _fromOthers);

    /// <summary>Whether the connection is the original one and still healthy.</summary>
    public bool IsConnected => !_broken && _socket.Connected && Equals(_socket.LocalEndPoint, LocalEndPoint);

    /// <summary>Everything that went wrong.</summary>
    public IReadOnlyList<string> Errors
    {
        get { lock (_lock) { return [.. _errors]; } }
    }

    /// <summary>Connects, reads the greeting, sets the nick and joins the room.</summary>
    public static async Task<ChatClient> ConnectAsync(int port, string nick, string? room, TimeSpan replyTimeout, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var client = new ChatClient(socket, nick, room, replyTimeout);
        var hello = await client.ReadUntilAsync(l => l.StartsWith("HELLO guest", StringComparison.Ordinal)).ConfigureAwait(false);
        client.ServerName = hello["HELLO ".Length..];
        await client.AskAsync($"NICK {nick}", $"OK NICK {nick}").ConfigureAwait(false);
        if (room is not null)
        {
            await client.AskAsync($"JOIN {room}", $"OK JOIN {room}").ConfigureAwait(false);
        }
        return client;
    }

    /// <summary>
    /// Says numbered lines until <paramref name="stop"/>, at most <paramref name="maxMessages"/>, one every
    /// <paramref name="interval"/>, each waited for; answers version probes in between. Ends at the first error.
    /// </summary>
    public async Task RunAsync(int maxMessages, TimeSpan interval, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested && !_broken)
            {
                if (TakeProbe() is { } probe)
                {
                    var reply = await AskAsync("VERSION", "VERSION ").ConfigureAwait(false);
                    probe.TrySetResult(reply["VERSION ".Length..]);
                    continue;
                }
                if (Sent < maxMessages)
                {
                    var text = $"{Nick}/{Sent + 1}";
                    Interlocked.Increment(ref _sent);
                    await AskAsync($"SAY {text}", $"MSG {Room} {Nick} {text}").ConfigureAwait(false);
                    Interlocked.Increment(ref _acknowledged);
                }
                try
                {
                    await Task.Delay(interval, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or TimeoutException or ChatProtocolException)
        {
            Fail(e.Message);
        }
        finally
        {
            TakeProbe()?.TrySetException(new ChatProtocolException($"{Nick}: the client stopped before answering the probe"));
        }
    }

    /// <summary>Asks the running loop to send VERSION between two lines; completes with the version it replied.</summary>
    public Task<string> ProbeVersionAsync()
    {
        var probe = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            _versionProbe = probe;
        }
        return probe.Task;
    }

    /// <summary>For a client with no loop running: sends a command and returns the first reply line that starts with <paramref name="replyPrefix"/>.</summary>
    public async Task<string> AskAsync(string command, string replyPrefix)
    {
        await SendAsync(command).ConfigureAwait(false);
        return await ReadUntilAsync(l => l.StartsWith(replyPrefix, StringComparison.Ordinal)).ConfigureAwait(false);
    }

    /// <summary>For a client with no loop running: a room's history lines, up to END.</summary>
    public async Task<List<string>> HistoryAsync(string room)
    {
        await SendAsync($"HISTORY {room}").ConfigureAwait(false);
        var lines = new List<string>();
        while (true)
        {
            var line = await ReadLineAsync().ConfigureAwait(false);
            if (line == "END")
            {
                return lines;
            }
            if (!line.StartsWith("HIST ", StringComparison.Ordinal))
            {
                throw new ChatProtocolException($"{Nick}: unexpected line in a history: '{line}'");
            }
            lines.Add(line);
        }
    }

    /// <summary>For a client with no loop running: sends the start of a line, without its end.</summary>
    public Task SendPartAsync(string text) => SendAsync(text, lineEnd: false);

    /// <summary>Says goodbye and closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_broken)
        {
            try
            {
                await AskAsync("QUIT", "BYE").ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or TimeoutException or ChatProtocolException)
            {
                // Closing anyway.
            }
        }
        _reader.Dispose();
        await _stream.DisposeAsync().ConfigureAwait(false);
    }

    private TaskCompletionSource<string>? TakeProbe()
    {
        lock (_lock)
        {
            var probe = _versionProbe;
            _versionProbe = null;
            return probe;
        }
    }

    private async Task SendAsync(string line, bool lineEnd = true)
    {
        var bytes = Encoding.UTF8.GetBytes(lineEnd ? line + "\n" : line);
        using var timeout = new CancellationTokenSource(_replyTimeout);
        try
        {
            await _socket.SendAsync(bytes, SocketFlags.None, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{Nick}: sending '{line}' took more than {_replyTimeout.TotalSeconds:0} s");
        }
    }

    /// <summary>Reads lines until one matches; lines of other members are counted, an error or anything unexpected throws.</summary>
    private async Task<string> ReadUntilAsync(Func<string, bool> wanted)
    {
        while (true)
        {
            var line = await ReadLineAsync().ConfigureAwait(false);
            if (wanted(line))
            {
                return line;
            }
            if (Room is not null && line.StartsWith($"MSG {Room} ", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _fromOthers);
            }
            else if (!line.StartsWith("TOPIC ", StringComparison.Ordinal))
            {
                throw new ChatProtocolException($"{Nick}: unexpected line from the server: '{line}'");
            }
        }
    }

    private async Task<string> ReadLineAsync()
    {
        using var timeout = new CancellationTokenSource(_replyTimeout);
        string? line;
        try
        {
            line = await _reader.ReadLineAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{Nick}: no reply from the server within {_replyTimeout.TotalSeconds:0} s");
        }
        return line ?? throw new ChatProtocolException($"{Nick}: the server closed the connection");
    }

    private void Fail(string error)
    {
        lock (_lock)
        {
            _errors.Add(error);
        }
        _broken = true;
    }
}

/// <summary>The server said something a client did not expect (an ERR, a wrong reply, a closed connection).</summary>
public sealed class ChatProtocolException(string message) : Exception(message);
