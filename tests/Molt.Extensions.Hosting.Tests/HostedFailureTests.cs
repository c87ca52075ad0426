using Molt.Hosting;

namespace Molt.Extensions.Hosting.Tests;

/// <summary>
/// A new version that cannot start (its start-up throws, its container cannot be built) or whose state check fails is
/// rolled back, and the old version goes on serving: the same kept-alive connection, the live feed and the WebSocket
/// opened before, its state intact; the failed version is collected; a good update commits after.
/// </summary>
public class HostedFailureTests
{
    public static TheoryData<string, string, string, string> Failures => new()
    {
        { "start-up throws", "throw new InvalidOperationException(\"start-up failed on purpose\");", "", "start-up failed on purpose" },
        {
            "the container cannot be built", "builder.Services.AddSingleton<Needy>();",
            "public interface IMissing; public sealed class Needy(IMissing missing) { public IMissing Missing = missing; }", "IMissing"
        },
        {
            "start-up throws after Build", "builder.Services.AddSingleton<Journal>(); var built = builder.Build(); built.Services.GetRequiredService<Journal>(); throw new InvalidOperationException(\"failed after build on purpose\");",
            "public sealed class Journal : IDisposable { public void Dispose() { } }", "failed after build on purpose"
        },
        {
            "a state check fails", "",
            "public static class Checks { [StateCheck(Description = \"hits are never counted\")] static bool NoHits() => false; }", "hits are never counted"
        },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public async Task AFailedNewVersion_IsRolledBack_AndTheOldVersionServesItsConnections(string what, string beforeBuild, string extra, string reason)
    {
        var name = "web-fail-" + what.Replace(' ', '-');
        var bad = HostedApps.Build(name, "bad", HostedApps.Web("bad", extra, beforeBuild));
        var good = HostedApps.Build(name, "v2", HostedApps.Web("v2"));
        var port = HostedApps.FreePort();
        await using var host = await MoltHost.StartAsync(HostedApps.Build(name, "v1", HostedApps.Web("v1")), ["--urls", $"http://127.0.0.1:{port}"]);
        using var client = new WebClient(port);
        var before = await client.GetAsync();
        await client.AddItemAsync("kept");
        await using var feed = new FeedReader(client.BaseAddress);
        await feed.NextFromAsync("v1");
        await using var echo = await EchoClient.ConnectAsync(client.BaseAddress);
        Assert.Equal("v1:1:a", await echo.SendAsync("a"));

        var failed = await host.UpdateAsync(bad);

        Assert.Equal(UpdateOutcome.RolledBack, failed.Outcome);
        Assert.Contains(reason, failed.Failure!.ToString(), StringComparison.Ordinal);
        Assert.True(failed.FailedVersionUnloaded == true, $"the failed version was not collected ({what}): {string.Join(" ", failed.Warnings)}");
        var after = await client.GetAsync();
        Assert.Equal("v1", after.Version);
        Assert.Equal(before.Connection, after.Connection);
        Assert.Equal(1, after.Items);
        Assert.True(after.Hits > before.Hits);
        var turns = after.Turns;
        await HostedUpdateTests.WaitUntilAsync(async () => (await client.GetAsync()).Turns > turns + 2, "the old version's BackgroundService to run again");
        await feed.NextFromAsync("v1");
        Assert.Equal("v1:2:b", await echo.SendAsync("b"));

        var result = await host.UpdateAsync(good);

        Assert.True(result.Outcome == UpdateOutcome.Committed, result.ToString());
        var last = await client.GetAsync();
        Assert.Equal("v2", last.Version);
        Assert.Equal(before.Connection, last.Connection);
        Assert.Equal(1, last.Items);
        await feed.NextFromAsync("v2");
        Assert.Equal("v2:3:c", await echo.SendAsync("c"));
    }

    [Fact]
    public async Task AServerRegisteredAfterAddMolt_FailsTheStartWithWhatToDo()
    {
        var source = HostedApps.Web("v1", beforeBuild: "builder.WebHost.UseKestrel();")
            .Replace("using Molt;", "using Molt;\nusing Microsoft.AspNetCore.Hosting;", StringComparison.Ordinal);
        var port = HostedApps.FreePort();
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => MoltHost.StartAsync(HostedApps.Build("web-own-server", "v1", source), ["--urls", $"http://127.0.0.1:{port}"]));
        Assert.Contains("Call builder.AddMolt() after UseKestrel", failure.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddMoltTwice_IsAddMoltOnce()
    {
        var twice = HostedApps.Web("v2", beforeBuild: "builder.AddMolt();");
        var v2 = HostedApps.Build("web-twice", "v2", twice);
        var port = HostedApps.FreePort();
        await using var host = await MoltHost.StartAsync(HostedApps.Build("web-twice", "v1", HostedApps.Web("v1", beforeBuild: "builder.AddMolt();")), ["--urls", $"http://127.0.0.1:{port}"]);
        using var client = new WebClient(port);
        Assert.Equal("v1", (await client.GetAsync()).Version);
        var result = await host.UpdateAsync(v2);
        Assert.True(result.Outcome == UpdateOutcome.Committed, result.ToString());
        Assert.Equal("v2", (await client.GetAsync()).Version);
    }
}
