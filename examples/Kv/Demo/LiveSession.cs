using System.Text.Json;
using System.Threading.Channels;

namespace Kv.Demo;

/// <summary>
/// One connection of Debian's Python redis client kept open from the first version to the last
/// (<c>clients/kv_data.py session</c>): one <c>redis.Connection</c>, never a pool, so that it cannot reconnect
/// behind our back. Commands go to its standard input, one per line; each reply comes back as one JSON line.
/// </summary>
public sealed class LiveSession : IAsyncDisposable
{
    private readonly ExternalTool _tool;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly TimeSpan _timeout;

    private LiveSession(ExternalTool tool, TimeSpan timeout)
    {
        _tool = tool;
        _timeout = timeout;
        _tool.LineReceived += line => _lines.Writer.TryWrite(line);
    }

    /// <summary>The client's own port: the same number after every update means the same TCP connection.</summary>
    public int LocalPort { get; private set; }

    /// <summary>Whether the last reply came over the socket the client opened first (it never reconnects; it says so).</summary>
    public bool LastReplyOnFirstSocket { get; private set; }

    /// <summary>Opens the connection and waits for the client to say it is ready.</summary>
    public static async Task<LiveSession> OpenAsync(string clientsFolder, int port, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var tool = ExternalTool.Start(ExternalTool.Python, [Path.Combine(clientsFolder, "kv_data.py"), "session", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)], redirectInput: true);
        var session = new LiveSession(tool, timeout);
        try
        {
            using var ready = await session.NextAsync(cancellationToken).ConfigureAwait(false);
            if (!ready.RootElement.TryGetProperty("local_port", out var localPort))
            {
                throw new SessionException($"the live connection could not be opened: {ready.RootElement}");
            }
            session.LocalPort = localPort.GetInt32();
            return session;
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Opens <paramref name="connections"/> more connections of the Python client (<c>kv_data.py crowd</c>), each named
    /// <c>crowd-i</c> with CLIENT SETNAME and never reconnected, and waits until all are open: hundreds of connections,
    /// each a unit of the server, held through every update.
    /// </summary>
    public static async Task<LiveSession> OpenCrowdAsync(string clientsFolder, int port, int connections, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var tool = ExternalTool.Start(ExternalTool.Python, [Path.Combine(clientsFolder, "kv_data.py"), "crowd", "--port", Text(port), "--connections", Text(connections)], redirectInput: true);
        var crowd = new LiveSession(tool, timeout);
        try
        {
            using var ready = await crowd.NextAsync(cancellationToken).ConfigureAwait(false);
            if (!ready.RootElement.TryGetProperty("ready", out var opened) || opened.GetInt32() != connections)
            {
                throw new SessionException($"the crowd's connections could not be opened: {ready.RootElement}");
            }
            return crowd;
        }
        catch
        {
            await crowd.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Asks each of the crowd's connections its name: the problems found (none when every one is the same connection with its name).</summary>
    public async Task<(int Checked, IReadOnlyList<string> Problems)> CheckCrowdAsync(CancellationToken cancellationToken)
    {
        await _tool.WriteLineAsync("check").ConfigureAwait(false);
        using var reply = await NextAsync(cancellationToken).ConfigureAwait(false);
        var root = reply.RootElement;
        if (!root.TryGetProperty("checked", out var count))
        {
            throw new SessionException($"the crowd did not answer its check: {root}");
        }
        var problems = root.GetProperty("problems").EnumerateArray().Select(p => p.GetString() ?? "").ToList();
        var total = root.GetProperty("problem_count").GetInt32();
        if (total > problems.Count)
        {
            problems.Add($"... {total - problems.Count} more");
        }
        return (count.GetInt32(), problems);
    }

    private static string Text(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Sends one command (arguments separated by spaces) and returns the client's JSON line for its reply.</summary>
    /// <exception cref="SessionException">The client reported an error, or went away.</exception>
    public async Task<JsonElement> SendAsync(string command, CancellationToken cancellationToken)
    {
        await _tool.WriteLineAsync(command).ConfigureAwait(false);
        using var reply = await NextAsync(cancellationToken).ConfigureAwait(false);
        if (reply.RootElement.TryGetProperty("error", out var error))
        {
            throw new SessionException($"'{command}' failed on the live connection: {error}");
        }
        LastReplyOnFirstSocket = reply.RootElement.TryGetProperty("same_socket", out var same) && same.ValueKind == JsonValueKind.True
            && reply.RootElement.TryGetProperty("local_port", out var local) && local.GetInt32() == LocalPort;
        return reply.RootElement.TryGetProperty("reply", out var value) ? value.Clone() : reply.RootElement.Clone();
    }

    /// <summary>Sends a command and returns its reply as text (a bulk or simple string, or an integer).</summary>
    public async Task<string> AskAsync(string command, CancellationToken cancellationToken)
    {
        var reply = await SendAsync(command, cancellationToken).ConfigureAwait(false);
        return reply.ValueKind == JsonValueKind.String ? reply.GetString()! : reply.ToString();
    }

    private async Task<JsonDocument> NextAsync(CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_timeout);
        while (true)
        {
            string line;
            try
            {
                line = await _lines.Reader.ReadAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new SessionException(_tool.HasExited
                    ? $"the live client ended (exit code {_tool.ExitCode}): {_tool.Errors.Trim()}"
                    : $"the live client did not answer within {_timeout.TotalSeconds:0} s");
            }
            if (line.StartsWith('{'))
            {
                return JsonDocument.Parse(line);
            }
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _tool.DisposeAsync();
}

/// <summary>The live connection failed: a client error.</summary>
public sealed class SessionException(string message) : Exception(message)
{
}
