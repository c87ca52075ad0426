using System.Net.Sockets;
using Molt.Hosting.Processes;
using System.Text.Json;
using System.Threading.Channels;
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
    /// <summary>The longest quiescence deadline a request may ask for (the host's timers reach about 49 days).</summary>
    private const double MaxQuiesceTimeoutSeconds = 24 * 60 * 60;

    private readonly MoltHost _host;
    private readonly Socket _listener;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _acceptStop = new();
    private Task _accepting = Task.CompletedTask;
    private bool _handedOver;
    private readonly uint _owner = PeerCredentials.CurrentUserId;
    private readonly string _directory;
    private readonly Lock _connectionsLock = new();
    private readonly HashSet<Task> _connections = [];
    private readonly Lock _describeLock = new();
    private int _disposed;

    private MoltControlServer(MoltHost host, string name, string directory, Socket listener, ILogger logger, bool accept = true)
    {
        _host = host;
        Name = name;
        _directory = directory;
        _listener = listener;
        _logger = logger;
        if (accept)
        {
            StartAccepting();
        }
        _host.VersionCommitted += Describe;
    }

    /// <summary>
    /// The endpoint of a program that a process update brought into this process: its listening socket is the old process's,
    /// handed over with the state, so the name never stops answering. Accepting starts with <see cref="StartAccepting"/>, once the
    /// old process has gone (until then connections wait in the socket's backlog).
    /// </summary>
    internal static MoltControlServer Adopt(MoltHost host, string name, Socket listener, ILoggerFactory? loggerFactory)
    {
        var directory = ControlEndpoints.Directory;
        var server = new MoltControlServer(host, name, directory, listener, (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<MoltControlServer>(), accept: false);
        return server;
    }

    /// <summary>Starts accepting connections (at once for an endpoint this process opened).</summary>
    internal void StartAccepting()
    {
        if (!OperatingSystem.IsWindows())
        {
            Libc.SetCloseOnExec((int)_listener.Handle, true);
        }
        WriteInfo(Info(_host, Name), ControlEndpoints.InfoPath(Name, _directory));
        _accepting = Task.Run(AcceptAsync);
    }

    /// <summary>The listening socket, for a process update to hand it over.</summary>
    internal Socket Listener => _listener;

    /// <summary>
    /// After a committed process update: stops accepting (the new process accepts from now on, on the same socket) without
    /// closing the socket or removing the endpoint's files, which are the new process's now.
    /// </summary>
    internal void HandOver()
    {
        _handedOver = true;
        _acceptStop.Cancel();
    }

    /// <summary>Waits (bounded) until every connection being served has ended: the update's reply has been sent.</summary>
    internal async Task ConnectionsEndedAsync(TimeSpan timeout)
    {
        Task[] open;
        lock (_connectionsLock)
        {
            open = [.. _connections];
        }
        try
        {
            await Task.WhenAll(open).WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
    }

    /// <summary>The program's name: its endpoint's name.</summary>
    public string Name { get; }

    /// <summary>The endpoint's socket path.</summary>
    public string SocketPath => ControlEndpoints.SocketPath(Name, _directory);

    /// <summary>Reads a connection's peer credentials (tests replace it to see a failure handled).</summary>
    internal Func<Socket, PeerCredentials> ReadPeer { get; set; } = PeerCredentials.Of;

    /// <summary>Runs between binding a starting endpoint's socket and listening on it (tests widen that window with it).</summary>
    internal static Action<string>? AfterBind { get; set; }

    /// <summary>How long a connection may take to send its next complete request before it is closed.</summary>
    internal TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(2);

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
        // Held until the socket listens: a second start of the name then finds it answering.
        using var starting = ControlEndpoints.LockName(name, directory, TimeSpan.FromSeconds(10));
        if (ControlEndpoints.List(directory).FirstOrDefault(e => e.Name == name) is { } running)
        {
            throw new InvalidOperationException($"A program named '{name}' is running already (process {running.ProcessId}).");
        }
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            Bind(listener, path, name);
            AfterBind?.Invoke(name);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
            listener.Listen(16);
            WriteInfo(Info(host, name), ControlEndpoints.InfoPath(name, directory));
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        return new MoltControlServer(host, name, directory, listener, (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<MoltControlServer>());
    }

    /// <summary>
    /// Binds the endpoint's socket. A socket file already there is taken over only when nobody answers on it
    /// (its process died): a live program's endpoint is never unlinked, even when its description is missing.
    /// </summary>
    private static void Bind(Socket listener, string path, string name)
    {
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            return;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
        }
        if (ControlEndpoints.Answers(path))
        {
            throw new InvalidOperationException($"A program named '{name}' is running already (its endpoint {path} answers).");
        }
        ControlEndpoints.TryDelete(path); // Nobody listens: left by a process that died.
        listener.Bind(new UnixDomainSocketEndPoint(path));
    }

    private static EndpointInfo Info(MoltHost host, string name) =>
        new(name, Environment.ProcessId, host.Version.AssemblyPath, host.StartedAt) { Version = host.Version.Version, Generation = host.Version.Generation };

    /// <summary>
    /// Rewrites the endpoint's description when an update or a rollback commits, so that <c>molt list</c> names the version
    /// running now. Runs on the updating thread: it never throws into the update, and never writes after the endpoint closed.
    /// </summary>
    private void Describe()
    {
        lock (_describeLock)
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                return;
            }
            try
            {
                WriteInfo(Info(_host, Name), ControlEndpoints.InfoPath(Name, _directory));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Log.ControlDescriptionNotWritten(_logger, Name, e.Message);
            }
        }
    }

    /// <summary>Writes the description whole, by renaming: <c>molt list</c> never reads half of it (and removes it as garbled).</summary>
    private static void WriteInfo(EndpointInfo info, string infoPath)
    {
        var temporary = Path.Combine(Path.GetDirectoryName(infoPath)!, $".{Path.GetFileName(infoPath)}.{Environment.ProcessId}.tmp");
        File.WriteAllText(temporary, JsonSerializer.Serialize(info, ControlJson.Default.EndpointInfo));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        File.Move(temporary, infoPath, overwrite: true);
    }

    private async Task AcceptAsync()
    {
        using var accepting = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, _acceptStop.Token);
        while (!accepting.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(accepting.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                break;
            }
            catch (SocketException e)
            {
                if (accepting.IsCancellationRequested)
                {
                    break;
                }
                // E.g. out of file descriptors: the endpoint must not close for good over it.
                Log.ControlAcceptFailed(_logger, Name, e);
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100), _stopping.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                continue;
            }
            var connection = Task.Run(() => ServeSafelyAsync(client));
            lock (_connectionsLock)
            {
                _connections.Add(connection);
            }
            _ = connection.ContinueWith(Forget, this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        Task[] remaining;
        lock (_connectionsLock)
        {
            remaining = [.. _connections];
        }
        await Task.WhenAll(remaining).ConfigureAwait(false);
    }

    private static void Forget(Task connection, object? server)
    {
        var self = (MoltControlServer)server!;
        lock (self._connectionsLock)
        {
            self._connections.Remove(connection);
        }
    }

    /// <summary>Serves one connection; nothing it meets escapes (a faulted connection task would go unobserved).</summary>
    private async Task ServeSafelyAsync(Socket client)
    {
        try
        {
            await ServeAsync(client).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Log.ControlConnectionFailed(_logger, Name, e);
        }
        finally
        {
            client.Dispose();
        }
    }

    private async Task ServeAsync(Socket client)
    {
        PeerCredentials peer;
        try
        {
            peer = ReadPeer(client);
        }
        catch (Exception e)
        {
            // Who is there is unknown: refuse, as for a stranger.
            Log.ControlPeerUnreadable(_logger, Name, e);
            return;
        }
        if (!peer.MayControl(_owner))
        {
            Log.ControlRefused(_logger, Name, peer.UserId, peer.ProcessId);
            return;
        }
        await using var stream = new NetworkStream(client, ownsSocket: false);
        while (!_stopping.IsCancellationRequested)
        {
            ControlRequest? request;
            var idleTimeout = IdleTimeout;
            using (var idle = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token))
            {
                idle.CancelAfter(idleTimeout);
                try
                {
                    request = await ControlFrames.ReadAsync(stream, ControlJson.Default.ControlRequest, ControlProtocol.MaxFrameBytes, idle.Token).ConfigureAwait(false);
                }
                catch (InvalidDataException e)
                {
                    Log.ControlBadFrame(_logger, Name, peer.ProcessId, e.Message);
                    await TryReplyAsync(stream, new ControlReply("reply", Ok: false, Error: $"Malformed request: {e.Message}")).ConfigureAwait(false);
                    return; // After a bad frame the stream's framing cannot be trusted.
                }
                catch (OperationCanceledException) when (idle.IsCancellationRequested && !_stopping.IsCancellationRequested)
                {
                    Log.ControlIdle(_logger, Name, peer.ProcessId, idleTimeout);
                    return;
                }
                catch (Exception e) when (e is IOException or OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    return;
                }
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

    private async Task<ControlReply> HandleAsync(ControlRequest request, Stream stream)
    {
        if (request.Version != ControlProtocol.Version)
        {
            return Refuse($"Protocol version {request.Version} is not spoken here (this host speaks {ControlProtocol.Version}).");
        }
        if (request.QuiesceTimeoutSeconds is { } seconds && !(seconds > 0 && seconds <= MaxQuiesceTimeoutSeconds))
        {
            return Refuse($"A quiescence timeout of {seconds} s is outside (0, {MaxQuiesceTimeoutSeconds}] s.");
        }
        try
        {
            switch (request.Command)
            {
                case "status":
                    return new ControlReply("reply", Status: Status());
                case "update" when request.Path is { Length: > 0 } path:
                    return await WithProgressAsync(stream, async progress => new ControlReply("reply", Update: Summary(
                        await _host.UpdateAsync(path, Options(request, progress), _stopping.Token).ConfigureAwait(false)))).ConfigureAwait(false);
                case "rollback":
                    return await WithProgressAsync(stream, async progress => new ControlReply("reply", Update: Summary(
                        await _host.RollbackAsync(Options(request, progress), _stopping.Token).ConfigureAwait(false)))).ConfigureAwait(false);
                case "check" when request.Path is { Length: > 0 } path:
                    return new ControlReply("reply", Check: await _host.CheckAsync(path, _stopping.Token).ConfigureAwait(false));
                case "update" or "check":
                    return Refuse($"'{request.Command}' needs the path of the new version's main assembly.");
                case null:
                    return Refuse("The request names no command.");
                default:
                    return Refuse($"Unknown command '{request.Command}'.");
            }
        }
        catch (InvalidOperationException e)
        {
            return Refuse(e.Message);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            return Refuse("The program's endpoint is closing.");
        }
        catch (Exception e)
        {
            // E.g. a path the file system rejects: the client hears why; the program goes on.
            Log.ControlRequestFailed(_logger, Name, request.Command, e);
            return Refuse($"'{request.Command}' failed: {e.Message}");
        }
    }

    /// <summary>
    /// Runs an update with its progress sent as frames by a pump of their own: the update only queues them, so
    /// it never waits on (nor hears of) a client that reads slowly or went away. The reply follows the last one.
    /// </summary>
    private async Task<ControlReply> WithProgressAsync(Stream stream, Func<IProgress<UpdateProgress>, Task<ControlReply>> run)
    {
        var progress = new FrameProgress();
        var pump = progress.PumpAsync(stream, _stopping.Token);
        try
        {
            return await run(progress).ConfigureAwait(false);
        }
        finally
        {
            progress.Complete();
            await pump.ConfigureAwait(false);
        }
    }

    /// <summary>An update's summary, timed as the history times it (when the version it went to was loaded; after a process update, in the new process).</summary>
    private static UpdateSummary Summary(UpdateResult result) => UpdateSummary.Of(result, result.To.LoadedAt);

    private static UpdateOptions Options(ControlRequest request, IProgress<UpdateProgress> progress) => new()
    {
        QuiesceTimeout = request.QuiesceTimeoutSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
        Progress = progress,
        Mechanism = request.Mechanism switch
        {
            null or "" or "in-process" => UpdateMechanism.InProcess,
            "process" => UpdateMechanism.NewProcess,
            var other => throw new InvalidOperationException($"Unknown update mechanism '{other}' (in-process or process)."),
        },
        Environment = request.Environment,
        HostPath = request.HostPath,
    };

    /// <summary>How many of the most recent updates a status carries: a history of years would outgrow a frame.</summary>
    internal int StatusHistoryLimit { get; set; } = 20;

    private ProgramStatus Status()
    {
        var history = _host.History;
        var earlier = _host.EarlierHistory;
        var all = earlier.Concat(history.Select(r => UpdateSummary.Of(r, r.To.LoadedAt))).ToList();
        return new(
            Name,
            Environment.ProcessId,
            _host.Version,
            _host.StartedAt,
            _host.Units,
            [.. all.Skip(Math.Max(0, all.Count - StatusHistoryLimit))],
            GC.GetTotalMemory(forceFullCollection: false),
            [.. _host.OldVersionsNotUnloaded.Select(v => v.ToString())],
            _host.KeepsOldCode,
            all.Count,
            Processes.ProgramProcessStart.DescribeRuntime(),
            System.Reflection.Assembly.GetEntryAssembly()?.Location);
    }

    private static ControlReply Refuse(string error) => new("reply", Ok: false, Error: error);

    private async Task<bool> TryReplyAsync(Stream stream, ControlReply reply)
    {
        try
        {
            try
            {
                await ControlFrames.WriteAsync(stream, reply, ControlJson.Default.ControlReply, ControlProtocol.MaxReplyBytes, _stopping.Token).ConfigureAwait(false);
            }
            catch (InvalidDataException e)
            {
                // Say so rather than send what no client reads.
                await ControlFrames.WriteAsync(stream, Refuse($"The reply to this request is too large to send: {e.Message}"),
                    ControlJson.Default.ControlReply, ControlProtocol.MaxReplyBytes, _stopping.Token).ConfigureAwait(false);
            }
            return true;
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Closes the endpoint: stops accepting, ends every connection (an update in progress is cancelled) and removes the endpoint's files.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_describeLock)
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }
        }
        _host.VersionCommitted -= Describe;
        try
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
            if (!_handedOver)
            {
                // Handed over, the socket is the new process's too: closing it could shut it down for both.
                _listener.Dispose();
            }
            await _accepting.ConfigureAwait(false);
        }
        finally
        {
            if (!_handedOver)
            {
                ControlEndpoints.TryDelete(SocketPath);
                ControlEndpoints.TryDelete(ControlEndpoints.InfoPath(Name, _directory));
            }
        }
        _stopping.Dispose();
    }

    /// <summary>Queues each completed phase as a progress frame; never blocks nor throws into the update.</summary>
    private sealed class FrameProgress : IProgress<UpdateProgress>
    {
        private readonly Channel<ControlReply> _frames = Channel.CreateUnbounded<ControlReply>(new UnboundedChannelOptions { SingleReader = true });

        public void Report(UpdateProgress value) =>
            _frames.Writer.TryWrite(new ControlReply("progress", Phase: value.Phase.ToString(), Milliseconds: value.Elapsed.TotalMilliseconds));

        public void Complete() => _frames.Writer.TryComplete();

        /// <summary>Writes the frames in order until the update is done; stops writing (not reading) when the client is gone.</summary>
        public async Task PumpAsync(Stream stream, CancellationToken cancellationToken)
        {
            var writing = true;
            await foreach (var frame in _frames.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                if (!writing)
                {
                    continue;
                }
                try
                {
                    await ControlFrames.WriteAsync(stream, frame, ControlJson.Default.ControlReply, ControlProtocol.MaxReplyBytes, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    writing = false; // The client went away; the update goes on regardless.
                }
            }
        }
    }
}
