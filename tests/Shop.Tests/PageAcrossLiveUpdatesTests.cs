using System.Text.Json;
using Xunit.Abstractions;

namespace Shop.Tests;

/// <summary>
/// A real browser (headless Chromium driven by clients/watch_page.py) keeps the shop's page open from 1.0.0 while
/// the shop is updated live to 2.0.0 and 3.0.0: the page's live feed shows each new release's events without a
/// reload, on the one connection it opened first.
/// </summary>
[Collection(ShopCollection.Name)]
public sealed class PageAcrossLiveUpdatesTests(ITestOutputHelper output)
{
    /// <summary>Where the page's last screenshot is saved (examples/Shop/shop-after-update.png is one of these).</summary>
    public static string ScreenshotPath { get; } = Path.Combine(AppContext.BaseDirectory, "shop-after-update.png");

    [Fact]
    public async Task An_open_page_shows_each_new_releases_events_without_a_reload()
    {
        await ShopProcesses.RequireBrowserAsync(); // Fails (never skips) without Chromium: install-test-deps installs it.
        File.Delete(ScreenshotPath);
        await using var shop = await ShopUnderMolt.StartAsync(1);
        await shop.ExplainingFailuresAsync(async () =>
        {
            await using var browser = ShopProcesses.Start(ShopProcesses.Python,
                [Path.Combine(ShopProcesses.ClientsDirectory, "watch_page.py"), shop.BaseUrl + "/", "1.0.0,2.0.0,3.0.0", "60", ScreenshotPath, "--max-opens", "1", "--settle", "2"]);
            var browserTimeout = TimeSpan.FromSeconds(90); // Chromium starting on a busy machine, then the first events.
            await browser.WaitForStdoutAsync("\"first\"", browserTimeout);

            foreach (var major in new[] { 2, 3 })
            {
                // The page saw the previous release's events: now the update, with the page open.
                await browser.WaitForStdoutAsync($"\"arrived\": \"{major - 1}.0.0\"", browserTimeout);
                var update = await shop.UpdateAsync(major);
                update.AssertCommitted();
                output.WriteLine($"v{major - 1} -> v{major}: {update}");
            }

            var exit = await browser.WaitForExitAsync(browserTimeout);
            output.WriteLine(browser.Stdout);
            Assert.True(exit == 0, $"watch_page.py exited {exit}:\n{browser.Stdout}\n{browser.Stderr}");

            var lastLine = browser.Stdout.Split('\n').Single(l => l.StartsWith("{\"last\"", StringComparison.Ordinal));
            using var last = JsonDocument.Parse(lastLine);
            var page = last.RootElement.GetProperty("last");
            Assert.Equal("1.0.0", page.GetProperty("pageVersion").GetString());   // Still the document 1.0.0 served: no reload.
            Assert.Equal(1, page.GetProperty("loads").GetInt32());
            Assert.Equal(1, page.GetProperty("opens").GetInt32());               // One EventSource connection, never reopened.
            Assert.Equal("3.0.0", page.GetProperty("feedVersion").GetString());
            Assert.Equal("3.0.0", page.GetProperty("feedSentBy").GetString());   // Sent by 3.0.0's code on 1.0.0's connection.
            var versions = page.GetProperty("eventVersions").EnumerateArray().Select(v => v.GetString()).ToList();
            Assert.Contains("2.0.0", versions);
            Assert.Contains("3.0.0", versions);
            Assert.True(File.Exists(ScreenshotPath), $"no screenshot at {ScreenshotPath}");
            output.WriteLine($"screenshot: {ScreenshotPath}");
        });
    }
}
