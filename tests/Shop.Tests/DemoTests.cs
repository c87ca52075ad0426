using System.Globalization;
using Xunit.Abstractions;

namespace Shop.Tests;

/// <summary>The live demo (examples/Shop/Demo) runs to its end: both updates commit and every order it placed was answered.</summary>
[Collection(ShopCollection.Name)]
public sealed class DemoTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_demo_updates_the_shop_live_twice_under_its_orders()
    {
        var demo = Path.Combine(AppContext.BaseDirectory, "Shop.Demo.dll");
        Assert.True(File.Exists(demo), $"the demo is not built beside the tests: {demo}");
        var port = ShopProcesses.FreePort().ToString(CultureInfo.InvariantCulture);
        // Its molt endpoint and its log in a folder of the test's own (a demo the user runs is not disturbed).
        var own = Directory.CreateTempSubdirectory("shop-demo-test-").FullName;
        ProcessResult run;
        try
        {
            run = await ShopProcesses.RunAsync("dotnet", [demo, "--port", port, "--interval", "1.5"], TimeSpan.FromSeconds(120),
                new Dictionary<string, string> { ["MOLT_RUNTIME_DIR"] = own, ["TMPDIR"] = own });
        }
        finally
        {
            Directory.Delete(own, recursive: true);
        }
        output.WriteLine(run.ToString());
        Assert.True(run.ExitCode == 0, $"the demo failed: {run}");
        Assert.Contains("update 1.0.0 -> 2.0.0: Committed (exit 0)", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("update 2.0.0 -> 3.0.0: Committed (exit 0)", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("/api/stats: 3.0.0,", run.Stdout, StringComparison.Ordinal);
        Assert.Contains(" 0 failed, ", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("every update committed: yes", run.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("consistent: False", run.Stdout, StringComparison.Ordinal);
    }
}
