using System.Text.Json;

namespace Shop.Tests;

/// <summary>
/// The shop's API read with the curl binary in each release, after each live update v1 -> v2 -> v3 under the real
/// <c>molt</c>, and clients/shop_check.py after each: the state (orders, units, totals, the simulator's turns, the
/// feed's numbering) carries on, and 2.0.0's prices come with a currency.
/// </summary>
[Collection(ShopCollection.Name)]
public sealed class ApiAcrossLiveUpdatesTests
{
    [Fact]
    public async Task Every_endpoint_answers_in_each_release_and_the_state_carries_across_the_updates()
    {
        ShopProcesses.RequireTool("curl");
        var saved = Directory.CreateTempSubdirectory("shop-check-").FullName;
        try
        {
            await using var shop = await ShopUnderMolt.StartAsync(1);
            await shop.ExplainingFailuresAsync(async () =>
            {
                await CheckEndpointsAsync(shop, 1);
                await ShopCheckAsync(shop, 1, saved);

                foreach (var major in new[] { 2, 3 })
                {
                    var update = await shop.UpdateAsync(major);
                    update.AssertCommitted();
                    Assert.Equal($"{major}.0.0", await shop.VersionAsync());
                    await CheckEndpointsAsync(shop, major);
                    await ShopCheckAsync(shop, major, saved);
                }
            });
        }
        finally
        {
            Directory.Delete(saved, recursive: true);
        }
    }

    /// <summary>Every endpoint of release <paramref name="major"/>, with curl.</summary>
    private static async Task CheckEndpointsAsync(ShopUnderMolt shop, int major)
    {
        var version = $"{major}.0.0";
        var b = shop.BaseUrl;

        var (status, page) = await ShopProcesses.CurlAsync(b + "/");
        Assert.Equal(200, status);
        Assert.Contains("<html", page, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(version, page, StringComparison.Ordinal);
        Assert.Contains("id=\"feed-version\"", page, StringComparison.Ordinal);

        using (var json = await GetJsonAsync(b + "/api/version"))
        {
            Assert.Equal(version, json.RootElement.GetProperty("version").GetString());
            Assert.Equal("Shop", json.RootElement.GetProperty("name").GetString());
        }

        using (var stats = await GetJsonAsync(b + "/api/stats"))
        {
            var root = stats.RootElement;
            Assert.Equal(version, root.GetProperty("version").GetString());
            Assert.True(root.GetProperty("consistent").GetBoolean(), root.ToString());
            Assert.Equal(2000, root.GetProperty("products").GetInt32());
            Assert.True(root.GetProperty("orders").GetInt32() > 900, root.ToString());
            if (major == 1)
            {
                Assert.Equal(root.GetProperty("revenueCents").GetInt64(), root.GetProperty("orderTotalCents").GetInt64());
            }
            else
            {
                Assert.Equal("EUR", root.GetProperty("revenue").GetProperty("currency").GetString());
                Assert.Equal(root.GetProperty("revenue").GetProperty("amount").GetDecimal(), root.GetProperty("orderTotal").GetProperty("amount").GetDecimal());
            }
        }

        using (var products = await GetJsonAsync(b + "/api/products?skip=0&take=5"))
        {
            Assert.Equal(2000, products.RootElement.GetProperty("total").GetInt32());
            Assert.Equal(5, products.RootElement.GetProperty("items").GetArrayLength());
        }

        using (var product = await GetJsonAsync(b + "/api/products/7"))
        {
            var p = product.RootElement;
            Assert.Equal(7, p.GetProperty("id").GetInt64());
            if (major == 1)
            {
                Assert.True(p.GetProperty("priceCents").GetInt64() > 0, p.ToString());
                Assert.Equal(JsonValueKind.Number, p.GetProperty("stock").ValueKind);
            }
            else
            {
                // 2.0.0 reshaped the product: a price with a currency, the stock an object of its own.
                Assert.Equal("EUR", p.GetProperty("price").GetProperty("currency").GetString());
                Assert.True(p.GetProperty("price").GetProperty("amount").GetDecimal() > 0, p.ToString());
                Assert.Equal(JsonValueKind.Number, p.GetProperty("stock").GetProperty("onHand").ValueKind);
            }
        }

        var (placed, order) = await ShopProcesses.CurlAsync(b + "/api/orders",
            "-X", "POST", "-H", "content-type: application/json", "-d", "{\"productId\":7,\"quantity\":1,\"customer\":\"curl\"}");
        Assert.True(placed == 201, $"POST /api/orders answered {placed}: {order}");
        using (var json = JsonDocument.Parse(order))
        {
            Assert.Equal(7, json.RootElement.GetProperty("productId").GetInt64());
            var id = json.RootElement.GetProperty("id").GetInt64();
            var (found, readBack) = await ShopProcesses.CurlAsync(b + $"/api/orders/{id}");
            Assert.Equal(200, found);
            Assert.Contains("\"customer\":\"curl\"", readBack, StringComparison.Ordinal);
        }

        if (major == 3)
        {
            var (searched, results) = await ShopProcesses.CurlAsync(b + "/api/products/search?q=lamp");
            Assert.Equal(200, searched);
            Assert.Contains("amp", results, StringComparison.OrdinalIgnoreCase);
        }
        else
        {
            var (searched, _) = await ShopProcesses.CurlAsync(b + "/api/products/search?q=lamp");
            Assert.NotEqual(200, searched); // Search is 3.0.0's feature.
        }

        // The feed: events named shop, sent by this release's code (the catch-up events may be older releases').
        var feed = await ShopProcesses.RunAsync(ShopProcesses.RequireTool("curl"), ["-sS", "-N", "-m", "3", b + "/feed"], TimeSpan.FromSeconds(20));
        Assert.True(feed.ExitCode is 0 or 28, $"curl -N /feed: {feed}"); // 28: the -m timeout ended it, as meant.
        Assert.Contains("event: shop", feed.Stdout, StringComparison.Ordinal);
        Assert.Contains($"\"sentBy\":\"{version}\"", feed.Stdout, StringComparison.Ordinal);
    }

    private static async Task<JsonDocument> GetJsonAsync(string url)
    {
        var (status, body) = await ShopProcesses.CurlAsync(url);
        Assert.True(status == 200, $"GET {url} answered {status}: {body}");
        return JsonDocument.Parse(body);
    }

    /// <summary>shop_check.py for release <paramref name="major"/>, checking it carried on from the previous release's check.</summary>
    private static async Task ShopCheckAsync(ShopUnderMolt shop, int major, string saved)
    {
        List<string> arguments = [shop.BaseUrl, major.ToString(System.Globalization.CultureInfo.InvariantCulture), "--save", Path.Combine(saved, $"v{major}.json")];
        if (major > 1)
        {
            arguments.AddRange(["--previous", Path.Combine(saved, $"v{major - 1}.json")]);
        }
        var check = await ShopProcesses.RunClientAsync("shop_check.py", arguments, TimeSpan.FromSeconds(60));
        Assert.True(check.ExitCode == 0, $"shop_check.py {major}: {check}");
        Assert.Contains($"Shop {major}.0.0", check.Stdout, StringComparison.Ordinal);
        if (major > 1)
        {
            Assert.Contains("EUR", check.Stdout, StringComparison.Ordinal);
        }
    }
}
