using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Molt.Testing;

namespace Molt.Cli.Tests;

/// <summary>
/// An ASP.NET Core application (Molt.Extensions.Hosting) moved to a new process by <c>molt update --process</c>: its
/// singletons and its BackgroundService's fields cross, its listening socket crosses (no client is ever refused: new
/// connections made during the pause wait for the new process; a kept-alive client's connection closes with the old
/// process and HttpClient resends what it had waiting), and a rollback into a third process works the same way.
/// </summary>
public sealed class HostedProcessUpdateTests : IAsyncLifetime
{
    private static readonly ProgramCompiler Compiler = ProgramCompiler.ForHostedApplications("molt-hosted-process-tests");
    private readonly MoltCli _molt = new(Path.Combine(Path.GetTempPath(), $"molt-hosted-process-{Guid.NewGuid():N}"));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _molt.DisposeAsync();

    private sealed record Reply(string Version, int Hits, int Items, string Connection, int Ticks, int Turns, bool Logger, string Greeting);

    [Fact]
    public async Task AHostedApplication_MovesToANewProcess_WithItsStateAndListeningSocket_RefusingNoConnection()
    {
        var v1 = Compiler.Build("web-process", "v1", HostedTestApplication.Web("v1"));
        var v2 = Compiler.Build("web-process", "v2", HostedTestApplication.Web("v2"));
        var port = FreePort();
        var host = await _molt.StartHostAsync(v1, "web", "--urls", $"http://127.0.0.1:{port}");
        // Every request on a new connection: a refused connection would fail it.
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.ConnectionClose = true;
        var first = await GetAsync(http);
        Assert.Equal("v1", first.Version);
        (await http.PostAsync("/items/apple", null)).EnsureSuccessStatusCode();
        var before = await _molt.StatusJsonAsync("web");

        using var probing = new CancellationTokenSource();
        var prober = ProbeAsync(http, probing.Token);
        // A client that keeps its connection: the old process's Kestrel owns it, so it closes when that process exits.
        using var keptAlive = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 }) { BaseAddress = http.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        var keptProber = ProbeAsync(keptAlive, probing.Token);
        await Task.Delay(300);
        var update = await _molt.RunAsync("update", "web", v2, "--process");
        await Task.Delay(300);
        await probing.CancelAsync();
        var (answered, failures) = await prober;
        var (keptAnswered, keptFailures) = await keptProber;

        Assert.True(update.ExitCode == 0, update.ToString());
        Assert.Empty(failures);
        Assert.True(answered > 5, $"the prober was answered {answered} times");
        // Its requests that waited in the old process are cut when it exits; HttpClient sends them again on a new
        // connection (a reused connection closed before any answer): the client sees no failure.
        Assert.True(keptFailures.Count == 0, $"the kept-alive client failed: {string.Join("; ", keptFailures)}");
        Assert.True(keptAnswered > 5, $"the kept-alive client was answered {keptAnswered} times");
        var after = await GetAsync(http);
        Assert.Equal("v2", after.Version);
        Assert.Equal(1, after.Items);                       // the singleton's state crossed
        Assert.True(after.Hits > first.Hits + answered - 1, $"hits {first.Hits} -> {after.Hits} with {answered} probes");
        Assert.True(after.Turns >= first.Turns, $"the BackgroundService's field crossed: {first.Turns} -> {after.Turns}");
        Assert.True(after.Logger);
        Assert.Equal("hello from v2", after.Greeting);
        var status = await _molt.StatusJsonAsync("web");
        Assert.NotEqual(before.GetProperty("processId").GetInt32(), status.GetProperty("processId").GetInt32());

        var back = await _molt.RunAsync("rollback", "web", "--process");
        Assert.True(back.ExitCode == 0, back.ToString());
        var last = await GetAsync(http);
        Assert.Equal("v1", last.Version);
        Assert.Equal(1, last.Items);
        _ = host;
    }

    private static async Task<Reply> GetAsync(HttpClient http) => (await http.GetFromJsonAsync<Reply>("/"))!;

    private static async Task<(int Answered, List<string> Failures)> ProbeAsync(HttpClient http, CancellationToken stop)
    {
        var answered = 0;
        var failures = new List<string>();
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var response = await http.GetAsync("/", CancellationToken.None);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    answered++;
                }
                else
                {
                    failures.Add($"status {(int)response.StatusCode}");
                }
            }
            catch (HttpRequestException e)
            {
                failures.Add(e.Message);
            }
            await Task.Delay(20, CancellationToken.None);
        }
        return (answered, failures);
    }

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
