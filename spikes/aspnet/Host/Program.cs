// Spike for issue 12: facts about ASP.NET Core under collectible contexts, pipeline swaps, socket adoption.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

static class Program
{
    static async Task<int> Main(string[] args)
    {
        switch (args[0])
        {
            case "q1": return await Q1.Run(args[1], args[2], int.Parse(args[3]), args.Length > 4 && args[4] == "ctx");
            case "q2": return await Q2.Run(args[1], args[2]);
            case "q3listen": return await Q3.Listen(ulong.Parse(args[1]));
            case "q3accept": return await Q3.Accept(long.Parse(args[1]));
            case "q4": return await Q4.Run(args[1]);
            case "q2bench": return await Q2Bench.Run(args[1], int.Parse(args[2]));
        }
        return 2;
    }
}

/// <summary>A collectible context like Molt's: the app's own assemblies here, everything else from the default context.</summary>
sealed class AppContext(string mainPath, string name) : AssemblyLoadContext(name, isCollectible: true)
{
    readonly AssemblyDependencyResolver _resolver = new(mainPath);
    protected override Assembly? Load(AssemblyName an)
    {
        if (an.Name != "WebApp") return null; // framework (incl. Microsoft.AspNetCore.App) from the default context
        var p = _resolver.ResolveAssemblyToPath(an);
        return p is null ? null : LoadFromAssemblyPath(p);
    }
    public static (AppContext, Func<string, Action<WebApplicationBuilder>?, WebApplication>) Load(string dir, string name)
    {
        var path = Path.GetFullPath(Path.Combine(dir, "WebApp.dll"));
        var alc = new AppContext(path, name);
        var asm = alc.LoadFromAssemblyPath(path);
        var build = asm.GetType("WebApp.App")!.GetMethod("Build")!
            .CreateDelegate<Func<string, Action<WebApplicationBuilder>?, WebApplication>>();
        return (alc, build);
    }
}

/// <summary>Calls every [MetadataUpdateHandler]'s ClearCache in the default context: the caches hot reload empties.</summary>
static partial class HotReloadCaches
{
    public static void Clear()
    {
        foreach (var asm in AssemblyLoadContext.Default.Assemblies)
            foreach (var h in asm.GetCustomAttributes<System.Reflection.Metadata.MetadataUpdateHandlerAttribute>())
            {
                var m = h.HandlerType.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic).FirstOrDefault(x => x.Name == "ClearCache" && x.GetParameters() is [{ ParameterType: var pt }] && pt == typeof(Type[]));
                if (m is null) continue;
                m.Invoke(null, [null]);
                if (Environment.GetEnvironmentVariable("VERBOSE") == "1") Console.WriteLine($"  cleared {h.HandlerType.FullName} ({asm.GetName().Name})");
            }
    }
}

static partial class HotReloadCaches
{
    /// <summary>Minimal APIs' static ParameterBindingMethodCache (keyed by parameter types) has no hot reload handler: empty its dictionaries.</summary>
    public static void ClearParameterBindingCaches()
    {
        foreach (var asm in AssemblyLoadContext.Default.Assemblies)
        {
            Type[] types; try { types = asm.GetTypes(); } catch (ReflectionTypeLoadException e) { types = e.Types.Where(t => t is not null).ToArray()!; }
            foreach (var t in types.Where(t => t.Name == "ParameterBindingMethodCache"))
                foreach (var sf in t.GetFields(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
                    if (sf.GetValue(null) is { } instance && instance.GetType() == t)
                        foreach (var f in t.GetFields(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public))
                            if (f.GetValue(instance) is System.Collections.IDictionary d)
                            {
                                if (Environment.GetEnvironmentVariable("VERBOSE") == "1") Console.WriteLine($"  cleared {asm.GetName().Name} {t.FullName}.{f.Name} ({d.Count})");
                                d.Clear();
                            }
        }
    }
}

static class Collect
{
    /// <summary>GC loops until the context's weak reference is dead: returns the loops taken, or -1.</summary>
    public static int Until(WeakReference wr, int max = 30)
    {
        for (int i = 1; i <= max; i++)
        {
            GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();
            if (!wr.IsAlive) return i;
            Thread.Sleep(20);
        }
        return -1;
    }
}

static class Q1
{
    public static async Task<int> Run(string mode, string dir, int n, bool contextual)
    {
        using var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero });
        for (int i = 0; i < n; i++)
        {
            var (wr, buildStartMs, body, stopMs) = await OneRound(mode, dir, i, http, contextual);
            // OneRound's continuation may run this code nested inside OneRound's own frame (its locals hold the context
            // on the stack): leave that stack first.
            await Task.Yield();
            if (Environment.GetEnvironmentVariable("CLEAR") is "1" or "2") HotReloadCaches.Clear();
            if (Environment.GetEnvironmentVariable("CLEAR") is "2" or "3") HotReloadCaches.ClearParameterBindingCaches();
            var sw = Stopwatch.StartNew();
            int loops = Collect.Until(wr);
            if (loops < 0 && Environment.GetEnvironmentVariable("DUMP") is { } dump)
            {
                var cd = Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "createdump");
                Process.Start(cd, $"--withheap -f {dump} {Environment.ProcessId}")!.WaitForExit();
            }
            Console.WriteLine($"round {i}: build+start {buildStartMs} ms, first request '{body.Trim()}', stop+dispose {stopMs} ms, " +
                $"collected={(loops > 0)} after {loops} GC loops ({sw.ElapsedMilliseconds} ms), heap {GC.GetTotalMemory(true) / 1024} KiB, " +
                $"RSS {Process.GetCurrentProcess().WorkingSet64 / 1024 / 1024} MiB, contexts alive {AssemblyLoadContext.All.Count(c => c.Name?.StartsWith("app") == true)}");
        }
        return 0;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static async Task<(WeakReference, long, string, long)> OneRound(string mode, string dir, int i, HttpClient http, bool contextual)
    {
        var sw = Stopwatch.StartNew();
        var (alc, build) = AppContext.Load(dir, $"app{i}");
        if (mode == "loadonly") { var w0 = new WeakReference(alc); alc.Unload(); return (w0, sw.ElapsedMilliseconds, "-", 0); }
        WebApplication app;
        using (contextual ? alc.EnterContextualReflection() : default(AssemblyLoadContext.ContextualReflectionScope?))
        {
            app = build(mode, b =>
            {
                if (mode.Contains("capture")) b.Services.AddSingleton<IServer>(new CaptureServer());
                if (mode.Contains("nolifetime")) b.Services.AddSingleton<IHostLifetime, NullLifetime>();
            });
            if (mode.Contains("buildonly")) { await app.DisposeAsync(); var w1 = new WeakReference(alc); alc.Unload(); return (w1, sw.ElapsedMilliseconds, "-", 0); }
            await app.StartAsync();
        }
        long startMs = sw.ElapsedMilliseconds;
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.FirstOrDefault();
        var body = mode.Contains("norequest") || url is null ? "-" : await http.GetStringAsync(url + "/");
        sw.Restart();
        await app.StopAsync();
        await app.DisposeAsync();
        long stopMs = sw.ElapsedMilliseconds;
        var wr = new WeakReference(alc);
        alc.Unload();
        return (wr, startMs, body, stopMs);
    }
}

/// <summary>Stands in for Kestrel inside a version's WebApplication: it only captures the version's IHttpApplication.</summary>
sealed class CaptureServer : IServer
{
    public IFeatureCollection Features { get; } = new FeatureCollection();
    public VersionApp? App;
    public CaptureServer() => Features.Set<IServerAddressesFeature>(new ServerAddressesFeature());
    public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken ct) where TContext : notnull
    { App = new VersionApp<TContext>(application); return Task.CompletedTask; }
    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
    public void Dispose() { App = null; }
}

abstract class VersionApp
{
    public int InFlight;
    public abstract object Create(IFeatureCollection f);
    public abstract Task Process(object ctx);
    public abstract void Dispose(object ctx, Exception? ex);
}

sealed class VersionApp<T>(IHttpApplication<T> app) : VersionApp where T : notnull
{
    public override object Create(IFeatureCollection f) => app.CreateContext(f);
    public override Task Process(object ctx) => app.ProcessRequestAsync((T)ctx);
    public override void Dispose(object ctx, Exception? ex) => app.DisposeContext((T)ctx, ex);
}

/// <summary>The one application Kestrel (default context) knows: forwards each request to the current version; a gate holds new requests during a swap.</summary>
sealed class SwitchingApp : IHttpApplication<SwitchingApp.Ctx>
{
    public sealed class Ctx { public IFeatureCollection F = null!; public VersionApp? V; public object? Inner; }
    readonly object _lock = new();
    VersionApp _current;
    TaskCompletionSource? _gate;
    public int Waited;
    public SwitchingApp(VersionApp first) => _current = first;
    public Ctx CreateContext(IFeatureCollection f) => new() { F = f };
    public async Task ProcessRequestAsync(Ctx c)
    {
        while (true)
        {
            Task? wait = null;
            lock (_lock)
            {
                if (_gate is null) { c.V = _current; Interlocked.Increment(ref c.V.InFlight); }
                else wait = _gate.Task;
            }
            if (wait is null) break;
            Interlocked.Increment(ref Waited);
            await wait;
        }
        c.Inner = c.V.Create(c.F);
        await c.V.Process(c.Inner);
    }
    public void DisposeContext(Ctx c, Exception? ex)
    {
        if (c.V is null) return;
        if (c.Inner is not null) c.V.Dispose(c.Inner, ex);
        Interlocked.Decrement(ref c.V.InFlight);
    }
    /// <summary>Closes the gate, waits for the old version's requests in flight, switches, opens the gate.</summary>
    public async Task<(long drainMs, long pauseMs)> SwapAsync(VersionApp next)
    {
        var sw = Stopwatch.StartNew();
        VersionApp old;
        lock (_lock) { _gate = new(TaskCreationOptions.RunContinuationsAsynchronously); old = _current; }
        while (Volatile.Read(ref old.InFlight) > 0) await Task.Delay(1);
        long drain = sw.ElapsedMilliseconds;
        TaskCompletionSource g;
        lock (_lock) { _current = next; g = _gate!; _gate = null; }
        g.SetResult();
        return (drain, sw.ElapsedMilliseconds);
    }
}

static class Kestrel
{
    public static KestrelServer Create(Action<KestrelServerOptions> listen, IConnectionListenerFactory? transport = null)
    {
        var lf = LoggerFactory.Create(b => b.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning));
        var o = new KestrelServerOptions();
        listen(o);
        transport ??= new SocketTransportFactory(Options.Create(new SocketTransportOptions()), lf);
        return new KestrelServer(Options.Create(o), transport, lf);
    }
    public static string Address(KestrelServer s) => s.Features.Get<IServerAddressesFeature>()!.Addresses.First();
}

static class Q2
{
    public static async Task<int> Run(string v1dir, string v2dir)
    {
        var (alc1, build1) = AppContext.Load(v1dir, "app-v1");
        var (app1, cap1) = await StartVersion(build1);
        var sw = new SwitchingApp(cap1.App!);
        var kestrel = Kestrel.Create(o => o.Listen(IPAddress.Loopback, 0));
        await kestrel.StartAsync(sw, default);
        var url = Kestrel.Address(kestrel);
        Console.WriteLine($"listening {url} (one Kestrel in the default context)");

        // curl: one process, 4 URLs at 2/s over one connection; the swap happens after the second.
        var curl = Process.Start(new ProcessStartInfo("curl", $"-sv --rate 2/s {url}/ {url}/ {url}/ {url}/") { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var curlOut = curl.StandardOutput.ReadToEndAsync(); var curlErr = curl.StandardError.ReadToEndAsync();
        // HttpClient: one connection max; /slow in flight on its own client when the swap starts.
        using var keep = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1) });
        using var other = new HttpClient();
        Console.Write("keep-alive client before: " + await keep.GetStringAsync(url + "/"));
        var slow = other.GetStringAsync(url + "/slow");
        await Task.Delay(700);

        // Prepare v2 while v1 serves (build + start its WebApplication with the capture server).
        var prep = Stopwatch.StartNew();
        var (alc2, build2) = AppContext.Load(v2dir, "app-v2");
        var (app2, cap2) = await StartVersion(build2);
        Console.WriteLine($"v2 prepared (build+start of its WebApplication) in {prep.ElapsedMilliseconds} ms, v1 in flight {cap1.App!.InFlight}");
        var swap = sw.SwapAsync(cap2.App!);
        await Task.Delay(100);
        var during = keep.GetStringAsync(url + "/"); // arrives while the gate is closed
        var (drain, pause) = await swap;
        Console.Write("in flight at swap (started on v1): " + await slow);
        Console.Write("keep-alive client, sent during swap: " + await during);
        Console.Write("keep-alive client after: " + await keep.GetStringAsync(url + "/"));
        Console.WriteLine($"swap: drain {drain} ms, gate closed {pause} ms, requests that waited at the gate {sw.Waited}");

        await curl.WaitForExitAsync();
        Console.Write("curl bodies:\n" + await curlOut);
        Console.WriteLine("curl connection lines:\n" + string.Join("\n", (await curlErr).Split('\n').Where(l => l.Contains("Connected to") || l.Contains("Re-using") || l.Contains("left intact"))));

        // The connection that served /slow on v1 is idle keep-alive: touch it once so Kestrel resets its per-request features.
        if (Environment.GetEnvironmentVariable("TOUCH") == "1") Console.Write("other connection, touched: " + await other.GetStringAsync(url + "/"));
        // Retire v1: stop its WebApplication, unload, check collection.
        var wr = await Retire(app1, alc1);
        app1 = null; alc1 = null; cap1 = null;
        await Task.Yield(); // leave any stack frame of v1's code (see Q1)
        if (Environment.GetEnvironmentVariable("CLEAR") is "2") { HotReloadCaches.Clear(); HotReloadCaches.ClearParameterBindingCaches(); }
        int loops = Collect.Until(wr);
        Console.WriteLine($"v1 context collected after retire: {loops > 0} ({loops} loops); Kestrel still serving: " + await keep.GetStringAsync(url + "/"));
        await kestrel.StopAsync(default);
        kestrel.Dispose();
        await app2.StopAsync(); await app2.DisposeAsync();
        return 0;
    }

    static async Task<(WebApplication, CaptureServer)> StartVersion(Func<string, Action<WebApplicationBuilder>?, WebApplication> build)
    {
        var cap = new CaptureServer();
        var app = build("full", b => b.Services.AddSingleton<IServer>(cap));
        await app.StartAsync();
        return (app, cap);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static async Task<WeakReference> Retire(WebApplication app, AssemblyLoadContext alc)
    {
        await app.StopAsync(); await app.DisposeAsync();
        var wr = new WeakReference(alc);
        alc.Unload();
        return wr;
    }
}

/// <summary>Cost of the switching application: the same version served by its own Kestrel and behind the host's Kestrel, alternating.</summary>
static class Q2Bench
{
    public static async Task<int> Run(string dir, int requests)
    {
        var (alc, build) = AppContext.Load(dir, "app-direct");
        var direct = build("full", null);
        await direct.StartAsync();
        var directUrl = direct.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var (alc2, build2) = AppContext.Load(dir, "app-switched");
        var cap = new CaptureServer();
        var switched = build2("full", b => b.Services.AddSingleton<IServer>(cap));
        await switched.StartAsync();
        var kestrel = Kestrel.Create(o => o.Listen(IPAddress.Loopback, 0));
        await kestrel.StartAsync(new SwitchingApp(cap.App!), default);
        var switchedUrl = Kestrel.Address(kestrel);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 8 });
        async Task<double> Load(string url)
        {
            int left = requests;
            var sw = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
            {
                while (Interlocked.Decrement(ref left) >= 0) await http.GetStringAsync(url + "/");
            }));
            return requests / sw.Elapsed.TotalSeconds;
        }
        await Load(directUrl); await Load(switchedUrl); // warm-up
        for (int round = 0; round < 6; round++)
        {
            double d = await Load(directUrl), s = await Load(switchedUrl);
            Console.WriteLine($"round {round}: direct {d:F0} req/s, switched {s:F0} req/s, ratio {s / d:F3}");
        }
        await kestrel.StopAsync(default); kestrel.Dispose();
        await switched.StopAsync(); await direct.StopAsync();
        return 0;
    }
}

static class Q3
{
    static async Task<int> Serve(KestrelServer k, string what)
    {
        var (alc, build) = AppContext.Load(Path.Combine(System.AppContext.BaseDirectory, "..", "..", "..", "..", "AppV1", "bin", "Debug", "net10.0"), "app");
        var cap = new CaptureServer();
        var app = build("full", b => b.Services.AddSingleton<IServer>(cap));
        await app.StartAsync();
        await k.StartAsync(new SwitchingApp(cap.App!), default);
        Console.WriteLine($"READY {what}");
        Console.Out.Flush();
        // The driver ends us by closing our stdin.
        await Console.In.ReadToEndAsync();
        await k.StopAsync(default);
        return 0;
    }

    public static Task<int> Listen(ulong fd) =>
        Serve(Kestrel.Create(o => o.ListenHandle(fd)), $"listen-handle fd={fd}");

    public static Task<int> Accept(long fd)
    {
        // An accepted connection's socket, inherited from another process, handed to Kestrel by a transport that adopts it.
        var socket = new Socket(new SafeSocketHandle((IntPtr)fd, ownsHandle: true));
        var transport = new AdoptingTransport(socket);
        return Serve(Kestrel.Create(o => o.Listen(new AdoptedEndPoint()), transport), $"adopted accepted fd={fd} remote={socket.RemoteEndPoint}");
    }
}

sealed class NullLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken ct) => Task.CompletedTask;
    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}

sealed class AdoptedEndPoint : EndPoint { public override string ToString() => "adopted"; }

/// <summary>A Kestrel transport whose listener yields sockets accepted elsewhere, wrapped by the sockets transport's own connection factory.</summary>
sealed class AdoptingTransport(Socket adopted) : IConnectionListenerFactory
{
    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken ct = default) =>
        new(new Listener(endpoint, adopted));

    sealed class Listener(EndPoint ep, Socket first) : IConnectionListener
    {
        readonly SocketConnectionContextFactory _factory = new(new SocketConnectionFactoryOptions(), NullLogger.Instance);
        readonly TaskCompletionSource _unbound = new();
        Socket? _next = first;
        public EndPoint EndPoint => ep;
        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken ct = default)
        {
            if (Interlocked.Exchange(ref _next, null) is { } s) return _factory.Create(s);
            await _unbound.Task.WaitAsync(ct).ConfigureAwait(false);
            return null;
        }
        public ValueTask UnbindAsync(CancellationToken ct = default) { _unbound.TrySetResult(); return default; }
        public ValueTask DisposeAsync() { _unbound.TrySetResult(); _factory.Dispose(); return default; }
    }
}

static class Q4
{
    public static async Task<int> Run(string dir)
    {
        var (alc, build) = AppContext.Load(dir, "app-w");
        var app = build("full,worker", null);
        await app.StartAsync();
        await Task.Delay(300);
        Console.WriteLine($"version's IHostEnvironment: ApplicationName={app.Environment.ApplicationName}, ContentRoot={app.Environment.ContentRootPath}; entry assembly {System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name}");
        var worker = (BackgroundService)app.Services.GetServices<IHostedService>().First(s => s.GetType().Name == "Worker");
        var t = worker.GetType();
        int F(string n) => (int)t.GetField(n)!.GetValue(worker)!;
        Console.WriteLine($"host main thread {Environment.CurrentManagedThreadId}; worker ExecuteAsync ran on thread {F("LastThread")}; turns {F("Turns")}");
        var sw = Stopwatch.StartNew();
        await worker.StopAsync(default); // cancels its stoppingToken, awaits ExecuteAsync
        Console.WriteLine($"worker.StopAsync alone (host still running) took {sw.ElapsedMilliseconds} ms; ExecuteTask completed {worker.ExecuteTask?.IsCompleted}; turns {F("Turns")} (fields kept)");
        int parked = F("Turns"); await Task.Delay(300);
        Console.WriteLine($"parked 300 ms: turns {F("Turns")} (was {parked})");
        await worker.StartAsync(default); // same object, new stoppingToken, ExecuteAsync again
        await Task.Delay(300);
        Console.WriteLine($"worker.StartAsync on the same instance: executions {F("Executions")}, turns {F("Turns")}");
        await app.StopAsync(); await app.DisposeAsync();
        return 0;
    }
}
