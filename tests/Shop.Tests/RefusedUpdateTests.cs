using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Shop.Tests;

/// <summary>
/// An update Molt refuses leaves the running release serving: 3.0.0 -> 1.0.0 is refused (1.0.0 cannot take the
/// product's stock back from a <c>StockLevel</c> to an <c>int</c>), <c>molt update</c> exits 3, the shop still says
/// 3.0.0 with its state whole, and a feed connection opened before the refusal goes on receiving events.
/// </summary>
[Collection(ShopCollection.Name)]
public sealed partial class RefusedUpdateTests(ITestOutputHelper output)
{
    /// <summary><c>molt update</c>'s exit code for an update refused before anything paused (src/Molt.Cli/ExitCodes.cs).</summary>
    private const int Refused = 3;

    [Fact]
    public async Task A_refused_downgrade_leaves_the_running_release_serving_and_its_feed_open()
    {
        var curl = ShopProcesses.RequireTool("curl");
        await using var shop = await ShopUnderMolt.StartAsync(1);
        await shop.ExplainingFailuresAsync(async () =>
        {
            (await shop.UpdateAsync(2)).AssertCommitted();
            (await shop.UpdateAsync(3)).AssertCommitted();

            // A client of the feed, connected to 3.0.0 before the refused update (and meant to outlive it).
            await using var feed = ShopProcesses.Start(curl, ["-sS", "-N", "-m", "60", shop.BaseUrl + "/feed"]);
            await feed.WaitForStdoutAsync("\"sentBy\":\"3.0.0\"", TimeSpan.FromSeconds(30));
            var before = await StatsAsync(shop);

            var refused = await shop.UpdateAsync(1);
            output.WriteLine($"3.0.0 -> 1.0.0: exit {refused.Result.ExitCode}");
            Assert.True(refused.Result.ExitCode == Refused, $"3.0.0 -> 1.0.0 was not refused: {refused.Result}");
            Assert.Contains("Shop.Product.Stock", refused.Result.Stdout + refused.Result.Stderr, StringComparison.Ordinal); // What it cannot convert.

            Assert.Equal("3.0.0", await shop.VersionAsync());
            var lastBefore = LastEventId(feed.Stdout);
            // The feed goes on: events published after the refusal (the simulator's, by 3.0.0) on the same connection.
            var until = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (LastEventId(feed.Stdout) < lastBefore + 3)
            {
                Assert.False(feed.Process.HasExited, $"the feed connection ended after the refusal:\n{feed.Stdout}\n{feed.Stderr}");
                Assert.True(DateTime.UtcNow < until, $"no new event on the feed within 20 s of the refusal (last id {lastBefore}):\n{feed.Stdout}");
                await Task.Delay(200);
            }
            Assert.DoesNotContain("\"sentBy\":\"1.0.0\"", feed.Stdout, StringComparison.Ordinal);
            output.WriteLine($"feed: event {lastBefore} at the refusal, {LastEventId(feed.Stdout)} after");

            // The state is 3.0.0's, whole and still growing.
            var after = await StatsAsync(shop);
            Assert.Equal("3.0.0", after.GetProperty("version").GetString());
            Assert.True(after.GetProperty("consistent").GetBoolean(), after.ToString());
            Assert.True(after.GetProperty("simulatorTurns").GetInt64() > before.GetProperty("simulatorTurns").GetInt64(), $"{before}\n{after}");
            Assert.True(after.GetProperty("orders").GetInt64() >= before.GetProperty("orders").GetInt64(), $"{before}\n{after}");
            var check = await ShopProcesses.RunClientAsync("shop_check.py", [shop.BaseUrl, "3"], TimeSpan.FromSeconds(60));
            Assert.True(check.ExitCode == 0, $"shop_check.py 3 after the refusal: {check}");
        });
    }

    [Fact]
    public async Task A_downgrade_that_would_lose_returned_units_is_refused_and_the_running_release_serves_on()
    {
        await using var shop = await ShopUnderMolt.StartAsync(1);
        await shop.ExplainingFailuresAsync(async () =>
        {
            (await shop.UpdateAsync(2)).AssertCommitted();
            (await shop.UpdateAsync(3)).AssertCommitted();
            // An order cancelled in 3.0.0 gives its units back: 2.0.0 has no place for them.
            var (placed, order) = await ShopProcesses.CurlAsync(shop.BaseUrl + "/api/orders", ["-X", "POST", "-H", "Content-Type: application/json", "-d", "{\"productId\":11,\"quantity\":1,\"customer\":\"test\"}"]);
            Assert.True(placed == 201, $"order: {placed} {order}");
            using var placedJson = JsonDocument.Parse(order);
            var id = placedJson.RootElement.GetProperty("id").GetInt64();
            var (cancelled, body) = await ShopProcesses.CurlAsync($"{shop.BaseUrl}/api/orders/{id}/cancel", ["-X", "POST"]);
            Assert.True(cancelled == 200, $"cancel: {cancelled} {body}");

            var back = await shop.UpdateAsync(2);
            output.WriteLine($"3.0.0 -> 2.0.0 with a return: exit {back.Result.ExitCode}");
            // The check's trial transfer runs 2.0.0's transformer on the running state and sees it refuse: refused before any pause.
            Assert.True(back.Result.ExitCode == Refused, $"3.0.0 -> 2.0.0 with returned units was not refused: {back.Result}");
            Assert.Contains("returned by cancelled orders", back.Result.Stdout + back.Result.Stderr, StringComparison.Ordinal);
            Assert.Equal("3.0.0", await shop.VersionAsync());
            var after = await StatsAsync(shop);
            Assert.True(after.GetProperty("consistent").GetBoolean(), after.ToString());
            Assert.True(after.GetProperty("unitsReturned").GetInt64() >= 1, after.ToString());
        });
    }

    private static async Task<JsonElement> StatsAsync(ShopUnderMolt shop)
    {
        var (status, body) = await ShopProcesses.CurlAsync(shop.BaseUrl + "/api/stats");
        Assert.Equal(200, status);
        using var json = JsonDocument.Parse(body);
        return json.RootElement.Clone();
    }

    /// <summary>The id of the last event the feed sent (its <c>id:</c> lines), 0 before any.</summary>
    private static long LastEventId(string feed) =>
        EventId().Matches(feed).Select(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).DefaultIfEmpty(0).Max();

    [GeneratedRegex(@"^id: (\d+)", RegexOptions.Multiline)]
    private static partial Regex EventId();
}
