using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Shop.Tests;

/// <summary>
/// wrk places orders (up to 1,600 a second: orders.lua paces them so that the stock lasts) while <c>molt update</c>
/// runs v1 -> v2 -> v3, so the state changes up to the pause and the transfer (2.0.0's transformers on it) carries
/// thousands of new orders: every order wrk saw placed is in the new release's state, and its invariants hold.
/// </summary>
[Collection(ShopCollection.Name)]
public sealed partial class OrdersDuringLiveUpdatesTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Orders_placed_while_the_shop_is_updated_live_are_all_kept()
    {
        var wrk = ShopProcesses.RequireTool("wrk");
        await using var shop = await ShopUnderMolt.StartAsync(1);
        await shop.ExplainingFailuresAsync(async () =>
        {
            foreach (var major in new[] { 2, 3 })
            {
                var before = await StatsAsync(shop);
                await using var load = ShopProcesses.Start(wrk,
                    ["-t2", $"-c{Connections}", "-d5s", "--timeout", "5s", "-s", Path.Combine(ShopProcesses.ClientsDirectory, "orders.lua"), shop.BaseUrl + "/api/orders"]);
                await Task.Delay(TimeSpan.FromSeconds(1));
                Assert.False(load.Process.HasExited, $"wrk ended before the update: {load.Stdout}\n{load.Stderr}");

                var update = await shop.UpdateAsync(major);
                var wrkExit = await load.WaitForExitAsync(TimeSpan.FromSeconds(30));
                update.AssertCommitted();
                Assert.True(wrkExit == 0, $"wrk exited {wrkExit}:\n{load.Stdout}\n{load.Stderr}");
                var counts = Counts().Match(load.Stdout);
                Assert.True(counts.Success, $"orders.lua printed no totals:\n{load.Stdout}\n{load.Stderr}");
                long Count(string name) => long.Parse(counts.Groups[name].Value, CultureInfo.InvariantCulture);
                var after = await StatsAsync(shop);
                var summary = $"v{major - 1} -> v{major} ({update}) under wrk placing orders: {counts.Value}; " +
                    $"orders {before.GetProperty("orders")} -> {after.GetProperty("orders")}";
                output.WriteLine(summary);

                Assert.True(Count("placed") > 0, $"wrk placed no order: {summary}");
                Assert.True(Count("other") == 0, $"answers other than 201 and 409: {summary}");
                Assert.True(Count("connect") + Count("read") + Count("write") + Count("timeout") == 0, $"socket errors: {summary}");
                Assert.Equal($"{major}.0.0", after.GetProperty("version").GetString());
                Assert.True(after.GetProperty("consistent").GetBoolean(), $"{summary}\n{after}");
                // Every order wrk saw placed is kept; the rest are the simulator's (at most one a turn) and those of the
                // requests wrk had in flight when its time ran out (placed by the shop, never counted by wrk: one a connection).
                var added = after.GetProperty("orders").GetInt64() - before.GetProperty("orders").GetInt64();
                var turns = after.GetProperty("simulatorTurns").GetInt64() - before.GetProperty("simulatorTurns").GetInt64();
                Assert.True(added >= Count("placed") && added <= Count("placed") + turns + Connections,
                    $"{added} orders added for {Count("placed")} placed by wrk, {turns} simulator turns and {Connections} connections: {summary}");
            }
        });
    }

    /// <summary>wrk's connections, each with at most one request in flight.</summary>
    private const int Connections = 16;

    private static async Task<JsonElement> StatsAsync(ShopUnderMolt shop)
    {
        var (status, body) = await ShopProcesses.CurlAsync(shop.BaseUrl + "/api/stats");
        Assert.Equal(200, status);
        using var json = JsonDocument.Parse(body);
        return json.RootElement.Clone();
    }

    [GeneratedRegex(@"orders\.lua: requests=(?<requests>\d+) responses=(?<responses>\d+) placed=(?<placed>\d+) refused=(?<refused>\d+) other=(?<other>\d+) connect=(?<connect>\d+) read=(?<read>\d+) write=(?<write>\d+) timeout=(?<timeout>\d+) maxLatencyMs=(?<max>[\d.]+)")]
    private static partial Regex Counts();
}
