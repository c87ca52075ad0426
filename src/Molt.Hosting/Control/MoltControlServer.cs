using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Molt.Hosting.Control;

/// <summary>
/// A hosted program's control endpoint: a Unix domain socket in this user's endpoint directory through which
/// <c>molt</c> asks for the program's status, checks a new version, updates it and rolls it back. Only the same
/// user (or root) gets in: every connection's peer credentials are checked, and refusals are logged. A
/// malformed, truncated or oversized request gets an error reply or a closed connection; the program goes on.
/// </summary>
public sealed class MoltControlServer : IAsyncDisposable
{
    private readonly MoltHost _host;
    private readonly Socket _listener;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _accepting;
    private readonly uint _owner = PeerCredentials.CurrentUserId;
    private readonly string _directory;

    private MoltControlServer(MoltHost host, string name, string directory, Socket listener, ILogger logger)
    {
        _host = host;
        Name = name;
        _directory = directory;
        _listener = listener;
        _logger = logger;
        _accepting = Task.Run(AcceptAsync);
    }

    /// <summary>The program's name: its endpoint's name.</summary>
    public string Name { get; }

    /// <summary>The endpoint's socket path.</summary>
    public string SocketPath => ControlEndpoints.SocketPath(Name, _directory);

    /// <summary>Reads a connection's peer credentials (tests replace it to see a failure handled).</summary>
    internal Func<Socket, PeerCredentials> ReadPeer { get; set; } = PeerCredentials.Of;

    /// <summary>Opens the control endpoint of a hosted program.</summary>
    /// <param name="host">The program.</param>
    /// <param name="name">Its name, unique among this user's running programs.</param>
    /// <param name="loggerFactory">Where refusals and protocol errors are logged.</param>
    /// <exception cref="InvalidOperationException">A program of that name is running already.</exception>
    public static MoltControlServer Start(MoltHost host, string name, ILoggerFactory? loggerFactory = null) =>
        Start(host, name, loggerFactory, ControlEndpoints.Directory);

    /// <summary>Opens the control endpoint in the given endpoint directory (tests use private ones).</summary>
    internal static MoltControlServer Start(MoltHost host, string name, ILoggerFactory? loggerFactory, string directory)
    {
        ArgumentNullException.ThrowIfNull(host);
        ControlEndpoints.Prepare(directory);
        var path = ControlEndpoints.SocketPath(name, directory);
        if (ControlEndpoints.List(directory).FirstOrDefault(e => e.Name == name) is { } running)
        {
            throw new InvalidOperationException($"A program named '{name}' is running already (process {running.ProcessId}).");
        }
        ControlEndpoints.TryDelete(path); // Left by a process that died.
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
            listener.Listen(16);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        var info = new EndpointInfo(name, Environment.ProcessId, host.Version.AssemblyPath, host.StartedAt);
        var infoPath = ControlEndpoints.InfoPath(name, directory);
        File.WriteAllText(infoPath, JsonSerializer.Serialize(info, ControlJson.Default.EndpointInfo));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(infoPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        return new MoltControlServer(host, name, directory, listener, (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<MoltControlServer>());
    }

    private async Task AcceptAsync()
    {
        var connections = new List<Task>();
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                break;
            }
            connections.RemoveAll(t => t.IsCompleted);
            connections.Add(Task.Run(() => ServeAsync(client)));
        }
        await Task.WhenAll(connections).ConfigureAwait(false);
    }

    private async Task ServeAsync(Socket client)
    {
        using var _ = client;
        var peer = ReadPeer(client);
        if (!peer.MayControl(_owner))
        {
            Log.ControlRefused(_logger, Name, peer.UserId, peer.ProcessId);
            return;
        }
        await using var stream = new NetworkStream(client, ownsSocket: false);
        while (!_stopping.IsCancellationRequested)
        {
            ControlRequest? request;
            try
            {
                request = await ControlFrames.ReadAsync(stream, ControlJson.Default.ControlRequest, _stopping.Token).ConfigureAwait(false);
            }
            catch (InvalidDataException e)
            {
                Log.ControlBadFrame(_logger, Name, peer.ProcessId, e.Message);
                await TryReplyAsync(stream, new ControlReply("reply", Ok: false, Error: $"Malformed request: {e.Message}")).ConfigureAwait(false);
                return; // After a bad frame the stream's framing cannot be trusted.
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or SocketException)
            {
                return;
            }
            if (request is null)
            {
                return;
            }
            var reply = await HandleAsync(request, stream).ConfigureAwait(false);
            if (!await TryReplyAsync(stream, reply).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    private async Task<ControlReply> HandleAsync(ControlRequest request, NetworkStream stream)
    {
        if (request.Version != ControlProtocol.Version)
        {
            return Refuse($"Protocol version {request.Version} is not spoken here (this host speaks {ControlProtocol.Version}).");
        }
        try
        {
            switch (request.Command)
            {
                case "status":
                    return new ControlReply("reply", Status: Status());
                case "update" when request.Path is { Length: > 0 } path:
                    return new ControlReply("reply", Update: UpdateSummary.Of(
                        await _host.UpdateAsync(path, Options(request, stream), _stopping.Token).ConfigureAwait(false), _host.Version.LoadedAt));
                case "rollback":
                    return new ControlReply("reply", Update: UpdateSummary.Of(
                        await _host.RollbackAsync(Options(request, stream), _stopping.Token).ConfigureAwait(false), _host.Version.LoadedAt));
                case "check" when request.Path is { Length: > 0 } path:
                    return new ControlReply("reply", Check: await _host.CheckAsync(path, _stopping.Token).ConfigureAwait(false));
                case "update" or "check":
                    return Refuse($"'{request.Command}' needs the path of the new version's main assembly.");
                default:
                    return Refuse($"Unknown command '{request.Command}'.");
            }
        }
        catch (InvalidOperationException e)
        {
            return Refuse(e.Message);
        }
    }

    private UpdateOptions Options(ControlRequest request, NetworkStream stream) => new()
    {
        QuiesceTimeout = request.QuiesceTimeoutSeconds is > 0 and var seconds ? TimeSpan.FromSeconds(seconds) : null,
        Progress = new FrameProgress(stream),
    };

    private ProgramStatus Status() => new(
        Name,
        Environment.ProcessId,
        _host.Version,
        _host.StartedAt,
        _host.Units,
        [.. _host.History.Select(r => UpdateSummary.Of(r, r.To.LoadedAt))],
        GC.GetTotalMemory(forceFullCollection: false),
        [.. _host.OldVersionsNotUnloaded.Select(v => v.ToString())]);

    private static ControlReply Refuse(string error) => new("reply", Ok: false, Error: error);

    private async Task<bool> TryReplyAsync(Stream stream, ControlReply reply)
    {
        try
        {
            await ControlFrames.WriteAsync(stream, reply, ControlJson.Default.ControlReply, _stopping.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException)
        {
            return false;
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _accepting.ConfigureAwait(false);
        ControlEndpoints.TryDelete(SocketPath);
        ControlEndpoints.TryDelete(ControlEndpoints.InfoPath(Name, _directory));
        _stopping.Dispose();
    }

    /// <summary>Sends each completed phase to the client as a progress frame, as it happens.</summary>
    private sealed class FrameProgress(Stream stream) : IProgress<UpdateProgress>
    {
        public void Report(UpdateProgress value)
        {
            try
            {
                // Small frames, written in order from the update's own flow: a blocking write keeps them in order.
                ControlFrames.WriteAsync(stream, new ControlReply("progress", Phase: value.Phase.ToString(), Milliseconds: value.Elapsed.TotalMilliseconds),
                    ControlJson.Default.ControlReply, CancellationToken.None).GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
            {
                // The client went away; the update goes on regardless.
            }
        }
    }
}
