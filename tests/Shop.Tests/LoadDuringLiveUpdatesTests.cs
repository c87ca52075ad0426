using System.Globalization;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Shop.Tests;

/// <summary>
/// wrk loads the shop while <c>molt update</c> runs v1 -> v2 -> v3: requests arriving during an update's pause wait
/// and are served by the new release, so wrk sees no socket error and no response other than 2xx.
/// </summary>
[Collection(ShopCollection.Name)]
public sealed partial class LoadDuringLiveUpdatesTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Wrk_sees_no_error_while_the_shop_is_updated_live()
    {
        var wrk = ShopProcesses.RequireTool("wrk");
        await using var shop = await ShopUnderMolt.StartAsync(1);
        await shop.ExplainingFailuresAsync(async () =>
        {
            // A product (its JSON changes shape in 2.0.0) through the first update, the stats (every total) through the second.
            foreach (var (major, path) in new[] { (2, "/api/products/7"), (3, "/api/stats") })
            {
                await using var load = ShopProcesses.Start(wrk,
                    ["-t2", "-c16", "-d6s", "--latency", "--timeout", "5s", "-s", Path.Combine(ShopProcesses.ClientsDirectory, "count.lua"), shop.BaseUrl + path]);
                await Task.Delay(TimeSpan.FromSeconds(1)); // wrk is at full speed when the update begins.
                Assert.False(load.Process.HasExited, $"wrk ended before the update: {load.Stdout}\n{load.Stderr}");

                var update = await shop.UpdateAsync(major);
                var wrkExit = await load.WaitForExitAsync(TimeSpan.FromSeconds(30));
                update.AssertCommitted();
                Assert.True(wrkExit == 0, $"wrk exited {wrkExit}:\n{load.Stdout}\n{load.Stderr}");

                var counts = Counts().Match(load.Stdout);
                Assert.True(counts.Success, $"count.lua printed no totals:\n{load.Stdout}\n{load.Stderr}");
                long Count(string name) => long.Parse(counts.Groups[name].Value, CultureInfo.InvariantCulture);
                var summary = $"v{major - 1} -> v{major} ({update}) under wrk on {path}: {counts.Value}";
                output.WriteLine(summary);
                Assert.True(Count("requests") > 0 && Count("responses") > 0, $"no request was served: {summary}\n{load.Stdout}");
                Assert.True(Count("non2xx") == 0, $"responses other than 2xx: {summary}\n{load.Stdout}");
                Assert.True(Count("connect") + Count("read") + Count("write") + Count("timeout") == 0, $"socket errors: {summary}\n{load.Stdout}");
                Assert.Equal($"{major}.0.0", await shop.VersionAsync());
            }

            var check = await ShopProcesses.RunClientAsync("shop_check.py", [shop.BaseUrl, "3"], TimeSpan.FromSeconds(60));
            Assert.True(check.ExitCode == 0, $"shop_check.py 3 after the load: {check}");
        });
    }

    [GeneratedRegex(@"count\.lua: requests=(?<requests>\d+) responses=(?<responses>\d+) non2xx=(?<non2xx>\d+) connect=(?<connect>\d+) read=(?<read>\d+) write=(?<write>\d+) timeout=(?<timeout>\d+) status=\d+ maxLatencyMs=(?<max>[\d.]+)")]
    private static partial Regex Counts();
}
