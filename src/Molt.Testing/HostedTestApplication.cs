namespace Molt.Testing;

/// <summary>
/// A hosted application for tests (ASP.NET Core under Molt.Extensions.Hosting), compiled in several versions from one
/// source: <c>GET /</c> answers a JSON summary (version, hits, items, the connection's id, the BackgroundService's turns,
/// whether the framework's services are there), <c>POST /items/{name}</c>, <c>GET /slow?gate=FILE</c> (writes FILE.in when in its handler, answers once
/// FILE exists), <c>GET /feed</c> (server-sent events "data: VERSION N"), <c>GET /ws</c> (a WebSocket echo "VERSION:N:TEXT"),
/// a BackgroundService and a singleton with a logger and options. Compile it with <see cref="ProgramCompiler.ForHostedApplications"/>.
/// </summary>
public static class HostedTestApplication
{
    /// <summary>The usings of a hosted application's source.</summary>
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

    /// <summary>The application, version <paramref name="version"/>; <paramref name="extra"/> is added to its source, <paramref name="beforeBuild"/> to its Main before Build().</summary>
    /// <param name="version">What it says it is.</param>
    /// <param name="extra">More declarations.</param>
    /// <param name="beforeBuild">More statements before <c>builder.Build()</c>.</param>
    /// <param name="storeItems">The declaration of the store's items.</param>
    /// <param name="itemsCount">An expression counting them (of <c>s</c>, the store).</param>
    /// <param name="addItem">A statement adding <c>name</c>.</param>
    /// <returns>The C# source.</returns>
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
                    File.WriteAllText(gate + ".in", Version);   // in the handler now
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

}
