using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Shop.Tests;

/// <summary>
/// The real programs the shop tests run: Debian's curl, wrk, /usr/bin/python3 (the clients, with python3-selenium and
/// Chromium for the page). Every run is bounded in time; a missing tool fails the test with the command that installs it.
/// </summary>
internal static class ShopProcesses
{
    /// <summary>Debian's Python: the one with the <c>selenium</c> package (a pyenv <c>python3</c> on PATH has none).</summary>
    public const string Python = "/usr/bin/python3";

    /// <summary>What to run when a tool is missing.</summary>
    public const string InstallHint = "run `sudo bash scripts/install-test-deps.sh` (it installs curl, wrk, chromium, chromium-driver, python3-selenium)";

    /// <summary>The folder of the clients (shop_check.py, watch_page.py, count.lua), copied beside the tests.</summary>
    public static string ClientsDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "shop-clients");

    /// <summary>Release <paramref name="major"/>'s Shop.dll, copied beside the tests by ShopVersions.targets.</summary>
    public static string ReleaseDll(int major)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "shop-versions", $"v{major}", "Shop.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"Shop release v{major} is not built beside the tests: {dll} (ShopVersions.targets builds v1..v3)");
    }

    /// <summary>A port free right now on 127.0.0.1.</summary>
    public static int FreePort() => ExternalProcess.FreePort();

    /// <summary>Fails clearly, naming the fix, when an executable is not on PATH (or not at its absolute path).</summary>
    public static string RequireTool(string name) => ExternalProcess.RequireTool(name, InstallHint);

    /// <summary>Fails clearly when Chromium, its driver or Debian's Selenium is missing (the browser test never skips).</summary>
    public static async Task RequireBrowserAsync()
    {
        RequireTool("/usr/bin/chromium");
        RequireTool("/usr/bin/chromedriver");
        RequireTool(Python);
        var probe = await RunAsync(Python, ["-c", "import selenium"], TimeSpan.FromSeconds(30));
        Assert.True(probe.ExitCode == 0, $"python3-selenium not found for {Python}: {InstallHint}\n{probe.Stderr}");
    }

    /// <summary>Runs a client script (<c>shop_check.py</c>) with Debian's Python to its end.</summary>
    public static Task<ProcessResult> RunClientAsync(string script, IEnumerable<string> arguments, TimeSpan timeout) =>
        RunAsync(RequireTool(Python), [Path.Combine(ClientsDirectory, script), .. arguments], timeout);

    /// <summary>
    /// One request with the curl binary: <c>curl -sS -m 10 [extra] URL</c>, with the status code appended on a line of
    /// its own; returns the status and the body.
    /// </summary>
    public static async Task<(int Status, string Body)> CurlAsync(string url, params string[] extra)
    {
        var result = await RunAsync(RequireTool("curl"), ["-sS", "-m", "10", "-w", "\n%{http_code}", .. extra, url], TimeSpan.FromSeconds(20));
        Assert.True(result.ExitCode == 0, $"curl {string.Join(' ', extra)} {url} failed: {result}");
        var cut = result.Stdout.LastIndexOf('\n');
        return (int.Parse(result.Stdout[(cut + 1)..].Trim(), CultureInfo.InvariantCulture), result.Stdout[..cut]);
    }

    /// <summary>Runs a program to its end, killing it (and its children) if it outlives <paramref name="timeout"/>.</summary>
    public static Task<ProcessResult> RunAsync(string program, IEnumerable<string> arguments, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null) =>
        ExternalProcess.RunAsync(program, arguments, timeout, environment: environment);

    /// <summary>Starts a program and returns at once; its output is readable as it comes.</summary>
    public static RunningProcess Start(string program, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null) =>
        ExternalProcess.Start(program, arguments, environment);
}
