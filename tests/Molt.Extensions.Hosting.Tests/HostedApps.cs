using System.Net;
using System.Net.Sockets;
using Molt.Testing;

namespace Molt.Extensions.Hosting.Tests;

/// <summary>
/// The hosted applications these tests update: an ASP.NET Core application compiled in several versions from one source
/// (a JSON endpoint, a slow endpoint held by a file, a live feed by server-sent events, a WebSocket echo, a
/// BackgroundService, a singleton with a logger and options), and what each version changes.
/// </summary>
internal static class HostedApps
{
    private static readonly ProgramCompiler Compiler = ProgramCompiler.ForHostedApplications("molt-hosting-tests");

    public const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.IO;
        using System.Linq;
        using System.Net.WebSockets;
        using System.Text;
        using System.Threading;
        using System.Threading.Tasks;
        using Microsoft.AspNetCore.Builder;
        using Microsoft.AspNetCore.Http;
        using Microsoft.Extensions.DependencyInjection;
        using Microsoft.Extensions.Hosting;
        using Microsoft.Extensions.Logging;
        using Microsoft.Extensions.Options;
        using Molt;

        """;

    /// <summary>The web application, version <paramref name="version"/>; <paramref name="extra"/> is added to its source, <paramref name="beforeBuild"/> to its Main.</summary>
    public static string Web(string version, string extra = "", string beforeBuild = "", string storeItems = "public List<string> Items = [];", string itemsCount = "s.Items.Count", string addItem = "s.Items.Add(name)") => Usings + $$"""
        public static class Program
        {
            public const string Version = "{{version}}";

            public static async Task Main(string[] args)
            {
                var builder = WebApplication.CreateBuilder(args);
                builder.Logging.ClearProviders();
                builder.AddMolt();
                builder.Services.AddSingleton<Store>();
                builder.Services.AddSingleton<Worker>();
                builder.Services.AddHostedService(sp => sp.GetRequiredService<Worker>());
                builder.Services.Configure<Settings>(o => o.Greeting = "hello from " + Version);
                {{beforeBuild}}
                var app = builder.Build();
                app.UseWebSockets();
                app.MapGet("/", (Store s, HttpContext h) => new Reply(Version, ++s.Hits, {{itemsCount}}, h.Connection.Id, s.Ticks, s.Turns(), s.HasLogger, s.Greeting, Live.CurrentUnit ?? "", Live.IsUpdating));
                app.MapPost("/items/{name}", (Store s, string name) => { {{addItem}}; return {{itemsCount}}; });
                app.MapGet("/slow", async (string gate) =>
                {
                    while (!File.Exists(gate)) await Task.Delay(10);
                    return Version;
                });
                app.MapGet("/feed", (HttpContext http, Store s) =>
                {
                    http.Response.ContentType = "text/event-stream";
                    return ConnectionUnit.RunAsync(http, new Feed(http.Response.Body, s), Feed.NextAsync);
                });
                app.MapGet("/ws", async (HttpContext http) =>
                {
                    var socket = await http.WebSockets.AcceptWebSocketAsync();
                    await ConnectionUnit.RunAsync(http, new Echo(socket), Echo.NextAsync);
                });
                await app.RunAsync();
            }
        }

        public sealed record Reply(string Version, int Hits, int Items, string Connection, int Ticks, int Turns, bool Logger, string Greeting, string Unit, bool Updating);

        public sealed class Settings { public string Greeting { get; set; } = ""; }

        public sealed class Store(ILogger<Store> log, IOptions<Settings> options, IServiceProvider services)
        {
            private readonly ILogger _log = log;
            private readonly IOptions<Settings> _options = options;
            private readonly IServiceProvider _services = services;
            public int Hits;
            public int Ticks;
            {{storeItems}}
            public bool HasLogger => _log is not null;
            public string Greeting => _options.Value.Greeting;
            public int Turns() => _services.GetRequiredService<Worker>().Turns;
        }

        public sealed class Worker(Store store) : BackgroundService
        {
            public int Turns;
            protected override async Task ExecuteAsync(CancellationToken stoppingToken)
            {
                while (!stoppingToken.IsCancellationRequested)
                {
                    Turns++;
                    store.Ticks++;
                    try { await Task.Delay(20, stoppingToken); } catch (OperationCanceledException) { return; }
                }
            }
        }

        public sealed class Feed(Stream body, Store store)
        {
            public Stream Body = body;
            public Store Store = store;
            public int Sent;
            public static async Task<bool> NextAsync(Feed f, CancellationToken ct)
            {
                await Task.Delay(30, ct);
                f.Sent++;
                await f.Body.WriteAsync(Encoding.UTF8.GetBytes($"data: {Program.Version} {f.Sent}\n\n"), ct);
                await f.Body.FlushAsync(ct);
                return true;
            }
        }

        public sealed class Echo(WebSocket socket)
        {
            public WebSocket Socket = socket;
            public byte[] Buffer = new byte[1024];
            public int Messages;
            public static async Task<bool> NextAsync(Echo e, CancellationToken ct)
            {
                var received = await ConnectionUnit.ReceiveAsync(e.Socket, e.Buffer, ct);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    await e.Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                    return false;
                }
                e.Messages++;
                var reply = $"{Program.Version}:{e.Messages}:{Encoding.UTF8.GetString(e.Buffer, 0, received.Count)}";
                await e.Socket.SendAsync(Encoding.UTF8.GetBytes(reply), WebSocketMessageType.Text, true, ct);
                return true;
            }
        }
        {{extra}}
        """;

    public static string Build(string name, string version, string source) => Compiler.Build(name, version, source);

    /// <summary>A port free now on 127.0.0.1.</summary>
    public static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
