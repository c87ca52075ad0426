// One source, compiled twice (AppV1, AppV2) as an assembly named WebApp, like two versions of a program.
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace WebApp;

public sealed class Counter { public int Hits; }

public sealed class Worker : BackgroundService
{
    public int Turns;
    public int Executions;
    public int LastThread;
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Executions++;
        LastThread = Environment.CurrentManagedThreadId;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                Turns++;
                await Task.Delay(50, stoppingToken);
            }
        }
        catch (OperationCanceledException) { }
    }
}

public static class App
{
#if V2
    public const string Version = "v2";
#else
    public const string Version = "v1";
#endif

    /// <summary>What a Program.Main would do, minus Run: modes bisect what holds a collectible context.</summary>
    public static WebApplication Build(string mode, Action<WebApplicationBuilder>? configure)
    {
        var builder = mode.Contains("slim") ? WebApplication.CreateSlimBuilder([]) : WebApplication.CreateBuilder([]);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        if (mode.Contains("nolog")) builder.Logging.ClearProviders();
        builder.Services.AddSingleton<Counter>();
        if (mode.Contains("worker")) builder.Services.AddHostedService<Worker>();
        configure?.Invoke(builder);
        var app = builder.Build();
        if (mode.Contains("noroute"))
        {
            app.Run(async ctx =>
            {
                var c = ctx.RequestServices.GetRequiredService<Counter>();
                if (ctx.Request.Path == "/slow") await Task.Delay(1500);
                await ctx.Response.WriteAsync($"{Version} hits={Interlocked.Increment(ref c.Hits)} conn={ctx.Connection.Id} port={ctx.Connection.RemotePort}\n");
            });
        }
        else
        {
            app.MapGet("/", (Counter c, HttpContext ctx) =>
                $"{Version} hits={Interlocked.Increment(ref c.Hits)} conn={ctx.Connection.Id} port={ctx.Connection.RemotePort}\n");
            app.MapGet("/slow", async (Counter c, HttpContext ctx) =>
            {
                await Task.Delay(1500);
                return $"{Version} slow hits={Interlocked.Increment(ref c.Hits)} conn={ctx.Connection.Id} port={ctx.Connection.RemotePort}\n";
            });
        }
        return app;
    }
}
