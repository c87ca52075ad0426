using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Molt.Extensions.Hosting;

/// <summary>
/// The one Kestrel of a hosted application, which outlives its versions, and the one application it serves: each request
/// goes to the running version's pipeline. During an update a gate holds new requests (Kestrel keeps accepting, nothing
/// is refused) while the old version's requests in flight finish; the waiting requests then go to whichever version runs.
/// </summary>
/// <remarks>
/// Kestrel listens on sockets bound here and given to it by descriptor (<c>ListenHandle</c>), so that the program holds
/// its listening sockets itself: Kestrel's copies are duplicates.
/// </remarks>
internal sealed class ApplicationServer : IHttpApplication<ApplicationServer.Request>
{
    private readonly object _lock = new();
    private readonly SemaphoreSlim _starting = new(1, 1);
    private KestrelServer? _kestrel;
    private List<string> _addresses = [];
    private VersionPipeline? _current;

    /// <summary>The duplicates Kestrel listens on, with what each refers to (<c>socket:[inode]</c>).</summary>
    private readonly List<(int Descriptor, string? Socket)> _duplicates = [];

    /// <summary>Set while new requests must wait; null when the gate is open.</summary>
    private TaskCompletionSource? _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private bool _stopped;

    private readonly PausableTransport _transport = new(new SocketTransportFactory(Options.Create(new SocketTransportOptions()), NullLoggerFactory.Instance));

    /// <summary>During a process update: new connections wait in the backlog for the new process.</summary>
    public void PauseAccepting() => _transport.Pause();

    public void ResumeAccepting() => _transport.Resume();

    /// <summary>In a process update's new process: the listening sockets the old process handed over, before Kestrel starts.</summary>
    public void Adopt(IEnumerable<Socket> listeners)
    {
        if (_kestrel is null && Listeners.Count == 0)
        {
            Listeners.AddRange(listeners);
        }
    }

    /// <summary>The listening sockets the program holds (Kestrel listens on duplicates of them).</summary>
    public List<Socket> Listeners { get; } = [];

    /// <summary>A request as this application sees it: Kestrel's features, and the version's own context for it.</summary>
    internal sealed class Request(IFeatureCollection features)
    {
        public IFeatureCollection Features { get; } = features;

        public VersionPipeline? Pipeline { get; set; }

        public object? Inner { get; set; }

        /// <summary>The version's context was disposed already (its connection went to a unit): Kestrel's dispose is not forwarded.</summary>
        public bool Released { get; set; }
    }

    /// <summary>Binds and starts Kestrel at the first version's start; later versions get the same addresses.</summary>
    public async Task<List<string>> EnsureListeningAsync(IReadOnlyList<string> requested, HostedApplication version, CancellationToken cancellationToken)
    {
        await _starting.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_kestrel is not null)
            {
                return _addresses;
            }
            var options = new KestrelServerOptions { AddServerHeader = false };
            var addresses = new List<string>();
            foreach (var address in requested.Count > 0 ? requested : ["http://localhost:5000"])
            {
                var socket = Listeners.Count > addresses.Count ? Listeners[addresses.Count] : Bind(address);
                if (Listeners.Count <= addresses.Count)
                {
                    Listeners.Add(socket);
                }
                var local = (IPEndPoint)socket.LocalEndPoint!;
                addresses.Add($"http://{(local.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{local.Address}]" : local.Address.ToString())}:{local.Port}");
                var duplicate = Duplicate(socket);
                _duplicates.Add((duplicate, DescriptorTarget(duplicate)));
                options.ListenHandle((ulong)duplicate);
            }
            var kestrel = new KestrelServer(Options.Create(options), _transport, new RunningVersionLoggerFactory(() => Volatile.Read(ref _current)));
            Task start;
            using (ExecutionContext.SuppressFlow())
            {
                // Kestrel's loops must not carry the first version's start-up scope: each request gets its version's.
                start = Task.Run(() => kestrel.StartAsync(this, CancellationToken.None), CancellationToken.None);
            }
            await start.ConfigureAwait(false);
            _kestrel = kestrel;
            _addresses = addresses;
            return addresses;
        }
        finally
        {
            _starting.Release();
        }
    }

    private static Socket Bind(string address)
    {
        var parsed = BindingAddress.Parse(address);
        if (!string.Equals(parsed.Scheme, "http", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"Molt serves hosted applications over http only: '{address}' cannot be served (terminate TLS in front of the application).");
        }
        var ip = parsed.Host switch
        {
            "localhost" => IPAddress.Loopback,
            "*" or "+" or "[::]" => IPAddress.IPv6Any,
            var host when IPAddress.TryParse(host.Trim('[', ']'), out var parsedIp) => parsedIp,
            _ => IPAddress.IPv6Any,
        };
        var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (ip.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(new IPEndPoint(ip, parsed.Port));
            socket.Listen(512);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static int Duplicate(Socket socket)
    {
        var fd = dup((int)socket.SafeHandle.DangerousGetHandle());
        return fd >= 0 ? fd : throw new InvalidOperationException($"dup failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>What a descriptor of this process refers to (<c>socket:[inode]</c>), or null when it is closed.</summary>
    private static string? DescriptorTarget(int descriptor) => new FileInfo($"/proc/self/fd/{descriptor}").LinkTarget;

    [DllImport("libc", SetLastError = true)]
    private static extern int dup(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);

    /// <summary>Lets requests into a version (the first start, a commit, a rollback), including those that waited at the gate.</summary>
    public void Open(VersionPipeline pipeline)
    {
        TaskCompletionSource? gate;
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }
            _current = pipeline;
            gate = _gate;
            _gate = null;
        }
        gate?.TrySetResult();
    }

    /// <summary>Holds new requests back, then waits for the requests in flight in <paramref name="pipeline"/>, or until <paramref name="stillWanted"/> says no.</summary>
    public async Task CloseAndDrainAsync(VersionPipeline pipeline, Func<bool> stillWanted)
    {
        lock (_lock)
        {
            _gate ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        var drained = pipeline.DrainedAsync();
        while (!drained.IsCompleted && stillWanted())
        {
            await Task.WhenAny(drained, Task.Delay(20)).ConfigureAwait(false);
        }
    }

    /// <summary>The program stops: requests still waiting get 503, Kestrel finishes those in flight (a few seconds at most) and closes.</summary>
    public async Task StopAsync()
    {
        TaskCompletionSource? gate;
        lock (_lock)
        {
            _stopped = true;
            _current = null;
            gate = _gate;
            _gate = null;
        }
        gate?.TrySetResult();
        if (_kestrel is { } kestrel)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await kestrel.StopAsync(timeout.Token).ConfigureAwait(false);
            kestrel.Dispose();
        }
        // Kestrel does not close a descriptor it was given: a listening socket stays open (and accepting into its
        // backlog) while any descriptor of it is. One still referring to the same socket is closed here.
        foreach (var (descriptor, socket) in _duplicates)
        {
            if (socket is not null && DescriptorTarget(descriptor) == socket)
            {
                _ = close(descriptor);
            }
        }
        foreach (var listener in Listeners)
        {
            listener.Dispose();
        }
    }

    public Request CreateContext(IFeatureCollection contextFeatures) => new(contextFeatures);

    public async Task ProcessRequestAsync(Request request)
    {
        if (await ServeAsync(request).ConfigureAwait(false) is { } handOff)
        {
            // The endpoint handed its connection to a unit: the response ends when the unit does, in whatever version it
            // is then. Nothing here holds the version that served the request (the serving method has returned).
            await handOff.Ended.ConfigureAwait(false);
        }
    }

    /// <summary>Serves a request in the running version; returns the hand-off when the endpoint gave its connection to a unit.</summary>
    private async Task<Connections.HandOff?> ServeAsync(Request request)
    {
        VersionPipeline? pipeline;
        while (true)
        {
            Task? wait;
            lock (_lock)
            {
                pipeline = _current;
                wait = _gate?.Task;
                if (wait is null && pipeline is not null)
                {
                    pipeline.Enter();
                }
            }
            if (wait is null)
            {
                break;
            }
            await wait.ConfigureAwait(false);
        }
        if (pipeline is null)
        {
            request.Features.Get<IHttpResponseFeature>()!.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return null;
        }
        request.Pipeline = pipeline;
        // The request runs as code of its version (Live.CurrentUnit is null, units it starts are that version's).
        Live.CurrentScope.Value = pipeline.Version.Scope;
        request.Inner = pipeline.CreateContext(request.Features);
        await pipeline.ProcessRequestAsync(request.Inner).ConfigureAwait(false);
        if (request.Features.Get<Connections.HandOff>() is not { } handOff)
        {
            return null;
        }
        // The request is over for its version, which may be retired while the connection lives on.
        request.Released = true;
        var services = request.Features.Get<IServiceProvidersFeature>();
        pipeline.DisposeContext(request.Inner, null);
        request.Inner = null;
        request.Pipeline = null;
        // What the request's version left in Kestrel's features (the endpoint and its code, its scope's provider, a
        // WebSocket handshake holding its context) would hold that version's code for as long as the connection lives:
        // only Kestrel's own features stay.
        request.Features.Get<IEndpointFeature>()?.Endpoint = null;
        request.Features.Get<IRouteValuesFeature>()?.RouteValues = [];
        foreach (var (type, feature) in request.Features.ToList())
        {
            if (feature is not null and not Connections.HandOff && feature.GetType().Assembly != typeof(KestrelServer).Assembly)
            {
                request.Features[type] = null;
            }
        }
        await FrameworkCaches.ReleaseRequestServicesAsync(services).ConfigureAwait(false);
        if (handOff.Context is DefaultHttpContext context)
        {
            context.ServiceScopeFactory = null!; // Disposed, the context keeps only this of its version.
        }
        pipeline.Exit();
        return handOff;
    }

    public void DisposeContext(Request context, Exception? exception)
    {
        if (context.Pipeline is not { } pipeline || context.Released)
        {
            return;
        }
        if (context.Inner is not null)
        {
            pipeline.DisposeContext(context.Inner, exception);
        }
        pipeline.Exit();
    }
}
