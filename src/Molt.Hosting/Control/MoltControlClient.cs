using System.Net.Sockets;

namespace Molt.Hosting.Control;

/// <summary>
/// The client side of a program's control endpoint, as <c>molt</c> uses it: status, check, update and
/// rollback of a program running under the Molt host on this machine, for this user.
/// </summary>
public sealed class MoltControlClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;

    private MoltControlClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    /// <summary>Connects to the endpoint of the program of the given name.</summary>
    /// <exception cref="ProgramUnreachableException">No program of that name is running, or its endpoint does not answer.</exception>
    public static Task<MoltControlClient> ConnectAsync(string name, CancellationToken cancellationToken = default) =>
        ConnectAsync(name, ControlEndpoints.Directory, cancellationToken);

    /// <summary>Connects to a program's endpoint in the given endpoint directory (tests use private ones).</summary>
    internal static async Task<MoltControlClient> ConnectAsync(string name, string directory, CancellationToken cancellationToken = default)
    {
        var path = ControlEndpoints.SocketPath(name, directory);
        if (!File.Exists(path))
        {
            throw new ProgramUnreachableException($"No program named '{name}' is running (no endpoint at {path}).");
        }
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
            return new MoltControlClient(socket);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new ProgramUnreachableException($"The program named '{name}' does not answer at {path}: {e.Message}", e);
        }
    }

    /// <summary>The program's status.</summary>
    public async Task<ProgramStatus> StatusAsync(CancellationToken cancellationToken = default) =>
        (await SendAsync(new ControlRequest(ControlProtocol.Version, "status"), null, cancellationToken).ConfigureAwait(false)).Status!;

    /// <summary>A compatibility report of a new version against the running one; nothing is applied.</summary>
    public async Task<CheckSummary> CheckAsync(string newProgramPath, CancellationToken cancellationToken = default) =>
        (await SendAsync(new ControlRequest(ControlProtocol.Version, "check", Path.GetFullPath(newProgramPath)), null, cancellationToken).ConfigureAwait(false)).Check!;

    /// <summary>Updates the program; <paramref name="progress"/> hears of each phase as it completes.</summary>
    public async Task<UpdateSummary> UpdateAsync(string newProgramPath, TimeSpan? quiesceTimeout = null, IProgress<UpdateProgress>? progress = null, CancellationToken cancellationToken = default) =>
        (await SendAsync(new ControlRequest(ControlProtocol.Version, "update", Path.GetFullPath(newProgramPath), quiesceTimeout?.TotalSeconds), progress, cancellationToken).ConfigureAwait(false)).Update!;

    /// <summary>Updates the program with this update's options: its mechanism (in process, or in a new process with its environment and host).</summary>
    public async Task<UpdateSummary> UpdateAsync(string newProgramPath, UpdateOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var request = new ControlRequest(ControlProtocol.Version, "update", Path.GetFullPath(newProgramPath), options.QuiesceTimeout?.TotalSeconds,
            options.Mechanism == UpdateMechanism.NewProcess ? "process" : null, options.Environment, options.HostPath is { } host ? Path.GetFullPath(host) : null);
        return (await SendAsync(request, options.Progress, cancellationToken).ConfigureAwait(false)).Update!;
    }

    /// <summary>Updates the program back to the version it ran before the last committed update.</summary>
    public async Task<UpdateSummary> RollbackAsync(TimeSpan? quiesceTimeout = null, IProgress<UpdateProgress>? progress = null, CancellationToken cancellationToken = default) =>
        (await SendAsync(new ControlRequest(ControlProtocol.Version, "rollback", null, quiesceTimeout?.TotalSeconds), progress, cancellationToken).ConfigureAwait(false)).Update!;

    /// <summary>Rolls the program back with this rollback's options (its deadline, progress and mechanism).</summary>
    public async Task<UpdateSummary> RollbackAsync(UpdateOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var request = new ControlRequest(ControlProtocol.Version, "rollback", null, options.QuiesceTimeout?.TotalSeconds,
            options.Mechanism == UpdateMechanism.NewProcess ? "process" : null, options.Environment, options.HostPath);
        return (await SendAsync(request, options.Progress, cancellationToken).ConfigureAwait(false)).Update!;
    }

    private async Task<ControlReply> SendAsync(ControlRequest request, IProgress<UpdateProgress>? progress, CancellationToken cancellationToken)
    {
        try
        {
            await ControlFrames.WriteAsync(_stream, request, ControlJson.Default.ControlRequest, ControlProtocol.MaxFrameBytes, cancellationToken).ConfigureAwait(false);
            while (true)
            {
                var reply = await ControlFrames.ReadAsync(_stream, ControlJson.Default.ControlReply, ControlProtocol.MaxReplyBytes, cancellationToken).ConfigureAwait(false)
                    ?? throw new ProgramUnreachableException("The program closed its endpoint before it replied.");
                if (reply.Kind == "progress")
                {
                    if (reply.Phase is { } phase && Enum.TryParse<UpdatePhase>(phase, out var known))
                    {
                        progress?.Report(new UpdateProgress(known, TimeSpan.FromMilliseconds(reply.Milliseconds ?? 0)));
                    }
                    continue;
                }
                return reply.Ok ? reply : throw new ControlRequestRefusedException(reply.Error ?? "The program refused the request.");
            }
        }
        catch (Exception e) when (e is IOException or SocketException or InvalidDataException)
        {
            throw new ProgramUnreachableException($"The program's endpoint failed: {e.Message}", e);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
    }
}

/// <summary>No program of that name is running, or its control endpoint does not answer.</summary>
public sealed class ProgramUnreachableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The program refused a control request (e.g. an update is already in progress), with its reason.</summary>
public sealed class ControlRequestRefusedException(string message) : Exception(message);
