using Molt.Hosting;
using Molt.Testing;

namespace Molt.Extensions.Hosting.Tests;

/// <summary>A Generic Host worker (Host.CreateApplicationBuilder, AddHostedService&lt;T&gt;) updated live, and a hosted application's stop.</summary>
public class WorkerTests
{
    private static string Worker(string version, string extra = "") => HostedApps.Usings + $$"""
        public static class Program
        {
            public const string Version = "{{version}}";
            public static IServiceProvider Services;

            public static async Task Main(string[] args)
            {
                var builder = Host.CreateApplicationBuilder(args);
                builder.Logging.ClearProviders();
                builder.AddMolt();
                builder.Services.AddSingleton<Tally>();
                builder.Services.AddHostedService<Counter>();
                var host = builder.Build();
                Services = host.Services;
                await host.RunAsync();
            }

            public static int Turns() => Services.GetServices<IHostedService>().OfType<Counter>().Single().Turns;
            public static string Seen() => Version + ":" + string.Join(",", Services.GetRequiredService<Tally>().Versions);
            public static bool HasLogger() => Services.GetServices<IHostedService>().OfType<Counter>().Single().HasLogger;
        }

        public sealed class Tally { public List<string> Versions = []; }

        public sealed class Counter(Tally tally, ILogger<Counter> logger) : BackgroundService
        {
            public int Turns;
            private readonly ILogger<Counter> _logger = logger;
            public bool HasLogger => _logger is not null;
            protected override async Task ExecuteAsync(CancellationToken stoppingToken)
            {
                tally.Versions.Add(Program.Version);
                while (!stoppingToken.IsCancellationRequested)
                {
                    Turns++;
                    try { await Task.Delay(10, stoppingToken); } catch (OperationCanceledException) { return; }
                }
            }
        }
        {{extra}}
        """;

    [Fact]
    public async Task AWorkersBackgroundService_StopsBetweenTwoTurns_AndGoesOnInTheNewVersionWithItsFields()
    {
        var v2 = HostedApps.Build("worker", "v2", Worker("v2"));
        await using var host = await MoltHost.StartAsync(HostedApps.Build("worker", "v1", Worker("v1")));
        await HostedUpdateTests.WaitUntilAsync(() => Task.FromResult((int)ProgramState.Call(host, "Program", "Turns")! > 5), "the worker to turn");
        var result = await host.UpdateAsync(v2);
        Assert.True(result.Outcome == UpdateOutcome.Committed, result.ToString());
        Assert.True(result.OldVersionUnloaded == true, string.Join(" ", result.Warnings));
        var turns = (int)ProgramState.Call(host, "Program", "Turns")!;
        Assert.True(turns > 5, $"the service's field crossed: {turns}");
        await HostedUpdateTests.WaitUntilAsync(() => Task.FromResult((int)ProgramState.Call(host, "Program", "Turns")! > turns + 5), "the worker to turn in v2");
        Assert.Equal("v2:v1,v2", ProgramState.Call(host, "Program", "Seen"));   // one ExecuteAsync per version, the same Tally
        Assert.True((bool)ProgramState.Call(host, "Program", "HasLogger")!);
    }

    [Fact]
    public async Task AWorkerThatIgnoresItsToken_IsNotUpdated_AndGoesOn()
    {
        const string Stubborn = """
            public sealed class Stubborn : BackgroundService
            {
                public static int Turns;
                protected override async Task ExecuteAsync(CancellationToken stoppingToken)
                {
                    while (true) { Interlocked.Increment(ref Turns); await Task.Delay(10); }   // never looks at its token
                }
            }
            """;
        string Version(string v) => Worker(v, Stubborn).Replace("builder.Services.AddHostedService<Counter>();", "builder.Services.AddHostedService<Counter>(); builder.Services.AddHostedService<Stubborn>();", StringComparison.Ordinal);
        var v2 = HostedApps.Build("stubborn", "v2", Version("v2"));
        await using var host = await MoltHost.StartAsync(HostedApps.Build("stubborn", "v1", Version("v1")), options: new MoltHostOptions());
        var result = await host.UpdateAsync(v2, new UpdateOptions { QuiesceTimeout = TimeSpan.FromSeconds(1) });
        Assert.Equal(UpdateOutcome.RolledBack, result.Outcome);
        Assert.Contains("service:Stubborn", result.Failure!.Message, StringComparison.Ordinal);
        var turns = (int)ProgramState.Call(host, "Program", "Turns")!;
        await HostedUpdateTests.WaitUntilAsync(() => Task.FromResult((int)ProgramState.Call(host, "Program", "Turns")! > turns + 5), "the well-behaved worker to turn again");
        Assert.Equal("v1:v1,v1", ProgramState.Call(host, "Program", "Seen"));  // stopped at the update, started again on the same object
    }

    [Fact]
    public async Task StoppingAHostedApplication_EndsItsLiveFeed_AndItsHostedServices()
    {
        var port = HostedApps.FreePort();
        var host = await MoltHost.StartAsync(HostedApps.Build("web-stop", "v1", HostedApps.Web("v1")), ["--urls", $"http://127.0.0.1:{port}"]);
        using var client = new WebClient(port);
        await client.GetAsync();
        await using var feed = new FeedReader(client.BaseAddress);
        await feed.NextFromAsync("v1");
        await host.StopAsync();
        await HostedUpdateTests.WaitUntilAsync(() => Task.FromResult(feed.Closed), "the live feed to end");
        await Assert.ThrowsAsync<HttpRequestException>(() => new WebClient(port).GetAsync());
        await host.DisposeAsync();
    }

    private static string OldStyle(string version) => HostedApps.Usings + "using Microsoft.AspNetCore.Hosting;\n" + $$"""
        public static class Program
        {
            public const string Version = "{{version}}";
            public static async Task Main(string[] args) =>
                await Host.CreateDefaultBuilder(args)
                    .ConfigureLogging(l => l.ClearProviders())
                    .ConfigureWebHostDefaults(web => web
                        .ConfigureServices(s => { s.AddRouting(); s.AddSingleton<Hits>(); })
                        .Configure(app => { app.UseRouting(); app.UseEndpoints(e => e.MapGet("/", (Hits h) => $"{Version} {++h.Count}")); }))
                    .AddMolt()
                    .Build()
                    .RunAsync();
        }
        public sealed class Hits { public int Count; }
        """;

    [Fact]
    public async Task AnApplicationOnTheOlderHostBuilder_IsUpdatedToo()
    {
        var v2 = HostedApps.Build("web-old-style", "v2", OldStyle("v2"));
        var port = HostedApps.FreePort();
        await using var host = await MoltHost.StartAsync(HostedApps.Build("web-old-style", "v1", OldStyle("v1")), ["--urls", $"http://127.0.0.1:{port}"]);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        Assert.Equal("v1 1", await http.GetStringAsync("/"));
        Assert.Equal("v1 2", await http.GetStringAsync("/"));
        var result = await host.UpdateAsync(v2);
        Assert.True(result.Outcome == UpdateOutcome.Committed, result.ToString());
        Assert.True(result.OldVersionUnloaded == true, string.Join(" ", result.Warnings));
        Assert.Equal("v2 3", await http.GetStringAsync("/"));
    }

    private static string Throwing(string version) => HostedApps.Usings + $$"""
        public static class Program
        {
            public const string Version = "{{version}}";
            [NotMigrated] public static readonly List<string> Logged = [];
            public static string LoggedText() { lock (Logged) { return string.Join("\n", Logged); } }
            public static async Task Main(string[] args)
            {
                var builder = WebApplication.CreateBuilder(args);
                builder.Logging.ClearProviders();
                builder.Logging.AddProvider(new Recorder());
                builder.AddMolt();
                var app = builder.Build();
                app.MapGet("/boom", string () => throw new InvalidOperationException("boom in " + Version));
                await app.RunAsync();
            }
        }
        public sealed class Recorder : ILoggerProvider
        {
            public ILogger CreateLogger(string category) => new Line(category);
            public void Dispose() { }
            private sealed class Line(string category) : ILogger
            {
                public IDisposable BeginScope<TState>(TState state) where TState : notnull => null;
                public bool IsEnabled(LogLevel level) => level >= LogLevel.Warning;
                public void Log<TState>(LogLevel level, EventId id, TState state, Exception exception, Func<TState, Exception, string> formatter)
                {
                    lock (Program.Logged) { Program.Logged.Add($"{Program.Version} {category}: {formatter(state, exception)} {exception?.Message}"); }
                }
            }
        }
        """;

    [Fact]
    public async Task WhatKestrelReports_GoesToTheRunningVersionsLogging()
    {
        var v2 = HostedApps.Build("web-logs", "v2", Throwing("v2"));
        var port = HostedApps.FreePort();
        await using var host = await MoltHost.StartAsync(HostedApps.Build("web-logs", "v1", Throwing("v1")), ["--urls", $"http://127.0.0.1:{port}"]);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        Assert.Equal(System.Net.HttpStatusCode.InternalServerError, (await http.GetAsync("/boom")).StatusCode);
        await HostedUpdateTests.WaitUntilAsync(() => Task.FromResult(((string)ProgramState.Call(host, "Program", "LoggedText")!).Contains("v1 Microsoft.AspNetCore.Server.Kestrel", StringComparison.Ordinal)), "Kestrel's report in v1's logging");
        Assert.Contains("boom in v1", (string)ProgramState.Call(host, "Program", "LoggedText")!, StringComparison.Ordinal);
        var result = await host.UpdateAsync(v2);
        Assert.True(result.Outcome == UpdateOutcome.Committed, result.ToString());
        Assert.True(result.OldVersionUnloaded == true, string.Join(" ", result.Warnings));
        Assert.Equal(System.Net.HttpStatusCode.InternalServerError, (await http.GetAsync("/boom")).StatusCode);
        await HostedUpdateTests.WaitUntilAsync(() => Task.FromResult(((string)ProgramState.Call(host, "Program", "LoggedText")!).Contains("boom in v2", StringComparison.Ordinal)), "Kestrel's report in v2's logging");
    }
}
