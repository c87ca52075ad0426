using Molt.Hosting;

namespace Molt.Extensions.Hosting.Tests;

/// <summary>
/// An ASP.NET Core application under the Molt host, updated live with clients connected: requests, a kept-alive
/// connection, a live feed (server-sent events), a WebSocket, a BackgroundService and the application's singletons.
/// </summary>
public class HostedUpdateTests
{
    private static async Task<(MoltHost Host, WebClient Client)> StartAsync(string name, string v1)
    {
        var port = HostedApps.FreePort();
        var host = await MoltHost.StartAsync(HostedApps.Build(name, "v1", v1), ["--urls", $"http://127.0.0.1:{port}"]);
        return (host, new WebClient(port));
    }

    [Fact]
    public async Task AnUpdate_CarriesTheSingletonsTheServiceAndTheConnections_AndUnloadsTheOldVersion()
    {
        var v2 = HostedApps.Build("web-carry", "v2", HostedApps.Web("v2"));
        var v1Again = HostedApps.Build("web-carry", "v1b", HostedApps.Web("v1"));
        var (host, client) = await StartAsync("web-carry", HostedApps.Web("v1"));
        await using var _ = host;
        using var __ = client;
        var before = await client.GetAsync();
        Assert.Equal("v1", before.Version);
        Assert.Equal("hello from v1", before.Greeting);
        await client.AddItemAsync("apple");
        await client.AddItemAsync("pear");
        await using var feed = new FeedReader(client.BaseAddress);
        var firstEvent = await feed.NextFromAsync("v1");
        await using var echo = await EchoClient.ConnectAsync(client.BaseAddress);
        Assert.Equal("v1:1:a", await echo.SendAsync("a"));
        var sentBefore = Sent(await feed.NextFromAsync("v1"));
        var lastBefore = await client.GetAsync();

        var result = await host.UpdateAsync(v2);

        Assert.True(result.Outcome == UpdateOutcome.Committed, result.ToString());
        Assert.True(result.OldVersionUnloaded == true, "the old version was not collected: " + string.Join(" ", result.Warnings));
        var after = await client.GetAsync();
        Assert.Equal("v2", after.Version);
        Assert.Equal(lastBefore.Hits + 1, after.Hits);                 // the singleton's fields crossed
        Assert.Equal(2, after.Items);
        Assert.Equal(before.Connection, after.Connection);             // the same kept-alive connection
        Assert.True(after.Ticks >= lastBefore.Ticks, $"ticks {lastBefore.Ticks} -> {after.Ticks}");
        Assert.True(after.Turns >= lastBefore.Turns, $"the BackgroundService's field: {lastBefore.Turns} -> {after.Turns}");
        Assert.True(after.Logger);                                     // a framework service's field, refilled
        Assert.Equal("hello from v2", after.Greeting);                 // options from the new version's container
        Assert.Equal("", after.Unit);
        Assert.False(after.Updating);
        var turns = after.Turns;
        await WaitUntilAsync(async () => (await client.GetAsync()).Turns > turns + 2, "the BackgroundService runs again in the new version");
        var v2Event = await feed.NextFromAsync("v2");                  // the same stream, the new version's code
        Assert.True(Sent(v2Event) > sentBefore, $"the feed's count crossed: {firstEvent} ... {v2Event}");
        Assert.Equal("v2:2:b", await echo.SendAsync("b"));            // the same WebSocket, its count crossed

        var back = await host.UpdateAsync(v1Again);

        Assert.True(back.Outcome == UpdateOutcome.Committed, back.ToString());
        Assert.True(back.OldVersionUnloaded == true, string.Join(" ", back.Warnings));
        var last = await client.GetAsync();
        Assert.Equal("v1", last.Version);
        Assert.Equal(before.Connection, last.Connection);
        Assert.Equal(2, last.Items);
        await feed.NextFromAsync("v1");
        Assert.Equal("v1:3:c", await echo.SendAsync("c"));
        Assert.False(feed.Closed);
    }

    [Fact]
    public async Task TheCheck_SaysWhatAnUpdateCarries_AndWhatTheNewContainerFills()
    {
        var v2 = HostedApps.Build("web-check", "v2", HostedApps.Web("v2"));
        var (host, client) = await StartAsync("web-check", HostedApps.Web("v1"));
        await using var _ = host;
        using var __ = client;
        await client.GetAsync();   // makes the Store
        await using var feed = new FeedReader(client.BaseAddress);
        await feed.NextFromAsync("v1");
        var check = await host.CheckAsync(v2);
        Assert.True(check.Compatible, string.Join("\n", check.Lines));
        var state = check.Findings.Where(f => f.Kind == Molt.Hosting.Control.CheckFindingKind.HostedState).Select(f => f.Detail).ToList();
        Assert.Contains(state, d => d.Contains("2 singletons", StringComparison.Ordinal) && d.Contains("Store", StringComparison.Ordinal) && d.Contains("Worker", StringComparison.Ordinal));
        Assert.Contains(state, d => d.Contains("hosted services", StringComparison.Ordinal) && d.Contains("Worker", StringComparison.Ordinal));
        Assert.Contains(state, d => d.Contains("1 long-lived connection", StringComparison.Ordinal));
        var filled = check.Findings.Where(f => f.Kind == Molt.Hosting.Control.CheckFindingKind.FrameworkField).Select(f => f.Subject).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["Store._log", "Store._options", "Store._services"], filled);
    }

    [Fact]
    public async Task ARequestInFlight_FinishesOnTheOldVersion_AndOneThatArrivesDuringThePause_IsServedByTheNew()
    {
        var v2 = HostedApps.Build("web-pause", "v2", HostedApps.Web("v2"));
        var (host, client) = await StartAsync("web-pause", HostedApps.Web("v1"));
        await using var _ = host;
        using var __ = client;
        using var other = new WebClient(client.BaseAddress.Port);
        await client.GetAsync();
        await other.GetAsync();
        var gate = Path.Combine(Path.GetTempPath(), $"molt-gate-{Guid.NewGuid():N}");
        var slow = client.GetStringAsync($"/slow?gate={Uri.EscapeDataString(gate)}");
        await WaitUntilAsync(() => Task.FromResult(File.Exists(gate + ".in")), "the slow request to be in its handler");

        var update = host.UpdateAsync(v2);
        await WaitUntilAsync(() => Task.FromResult(host.Units.Any(u => u.Name == "services" && u.Status == "Parked")), "the update to begin its pause");
        await Task.Delay(300); // The requests unit, woken by the same token, has closed the gate.
        var arriving = other.GetAsync();  // held at the gate: the old version drains
        await Task.Delay(300);
        Assert.False(arriving.IsCompleted, "a request that arrived during the pause was answered before the update");
        File.WriteAllText(gate, "");
        try
        {
            Assert.Equal("v1", await slow);
            var result = await update;
            Assert.True(result.Outcome == UpdateOutcome.Committed, result.ToString());
            Assert.Equal("v2", (await arriving).Version);
        }
        finally
        {
            File.Delete(gate);
            File.Delete(gate + ".in");
        }
    }

    [Fact]
    public async Task ARequestThatOutlivesTheQuiescenceDeadline_RefusesTheUpdate_AndTheGateOpensAgain()
    {
        var v2 = HostedApps.Build("web-late", "v2", HostedApps.Web("v2"));
        var (host, client) = await StartAsync("web-late", HostedApps.Web("v1"));
        await using var _ = host;
        using var __ = client;
        using var other = new WebClient(client.BaseAddress.Port);
        var gate = Path.Combine(Path.GetTempPath(), $"molt-gate-{Guid.NewGuid():N}");
        var slow = client.GetStringAsync($"/slow?gate={Uri.EscapeDataString(gate)}");
        await WaitUntilAsync(() => Task.FromResult(File.Exists(gate + ".in")), "the slow request to be in its handler");
        try
        {
            var result = await host.UpdateAsync(v2, new UpdateOptions { QuiesceTimeout = TimeSpan.FromSeconds(1) });
            Assert.NotEqual(UpdateOutcome.Committed, result.Outcome);
            Assert.Contains("requests", result.Failure!.Message, StringComparison.Ordinal);
            Assert.Equal("v1", (await other.GetAsync()).Version);      // the gate is open again, on the old version
            Assert.False(slow.IsCompleted);
            File.WriteAllText(gate, "");
            Assert.Equal("v1", await slow);
            var retry = await host.UpdateAsync(v2);
            Assert.True(retry.Outcome == UpdateOutcome.Committed, retry.ToString());
            Assert.Equal("v2", (await other.GetAsync()).Version);
        }
        finally
        {
            File.Delete(gate);
            File.Delete(gate + ".in");
        }
    }

    [Fact]
    public async Task ResourcesOfACarriedSingleton_AreNotDisposedWithTheOldVersionsContainer()
    {
        var journal = Path.Combine(Path.GetTempPath(), $"molt-journal-{Guid.NewGuid():N}");
        const string Extra = """
            public sealed class Journal : IDisposable
            {
                public FileStream File = new(Environment.GetEnvironmentVariable("MOLT_TEST_JOURNAL")!, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
                public void Write(string line) { var bytes = Encoding.UTF8.GetBytes(line + "\n"); File.Write(bytes); File.Flush(); }
                public void Dispose() => File.Dispose();
            }
            """;
        string Version(string v) => HostedApps.Web(v, Extra, """
            builder.Services.AddSingleton<Journal>();
            """).Replace("app.UseWebSockets();", """app.UseWebSockets(); app.MapPost("/journal/{line}", (Journal j, string line) => { j.Write(Version + " " + line); return "ok"; });""", StringComparison.Ordinal);
        Environment.SetEnvironmentVariable("MOLT_TEST_JOURNAL", journal);
        var v2 = HostedApps.Build("web-journal", "v2", Version("v2"));
        var (host, client) = await StartAsync("web-journal", Version("v1"));
        try
        {
            await using var _ = host;
            using var __ = client;
            Assert.Equal("ok", await Post(client, "/journal/one"));
            var result = await host.UpdateAsync(v2);
            Assert.True(result.Outcome == UpdateOutcome.Committed, result.ToString());
            Assert.True(result.OldVersionUnloaded == true, string.Join(" ", result.Warnings));
            Assert.Equal("ok", await Post(client, "/journal/two"));   // the same FileStream, still open
            Assert.Equal(["v1 one", "v2 two"], File.ReadAllLines(journal));
        }
        finally
        {
            File.Delete(journal);
        }
    }

    [Fact]
    public async Task TheShapeOfASingletonsData_Changes_ThroughATransformer()
    {
        var v2Source = HostedApps.Web("v2",
            extra: """
                public static class FromV1
                {
                    [TransformField(typeof(Store), "Items")]
                    static Dictionary<string, int> Items(OldObject old) =>
                        old.Get<List<string>>("Items").GroupBy(i => i).ToDictionary(g => g.Key, g => g.Count());
                }
                """,
            storeItems: "public Dictionary<string, int> Items = [];",
            itemsCount: "s.Items.Values.Sum()",
            addItem: "s.Items[name] = s.Items.GetValueOrDefault(name) + 1");
        var v2 = HostedApps.Build("web-shape", "v2", v2Source);
        var (host, client) = await StartAsync("web-shape", HostedApps.Web("v1"));
        await using var _ = host;
        using var __ = client;
        await client.AddItemAsync("apple");
        await client.AddItemAsync("apple");
        await client.AddItemAsync("pear");
        var result = await host.UpdateAsync(v2);
        Assert.True(result.Outcome == UpdateOutcome.Committed, result.ToString());
        Assert.Equal(3, (await client.GetAsync()).Items);
        Assert.Equal(4, await client.AddItemAsync("apple"));
    }

    private static async Task<string> Post(WebClient client, string path)
    {
        using var http = new HttpClient { BaseAddress = client.BaseAddress };
        using var response = await http.PostAsync(path, null);
        return await response.Content.ReadAsStringAsync();
    }

    private static int Sent(string feedEvent) => int.Parse(feedEvent.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);

    internal static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(20);
        }
    }
}
