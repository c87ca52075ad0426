using System.Globalization;
using System.Text.Json;

namespace Shop.Tests;

/// <summary>
/// The shop run as an operator runs it: <c>dotnet molt/Molt.Cli.dll run shop-versions/vN/Shop.dll --name shop --
/// --urls http://127.0.0.1:PORT</c> on a free port, updated with <c>molt update shop shop-versions/vM/Shop.dll</c>,
/// with the endpoints in a private runtime directory (MOLT_RUNTIME_DIR) so that the tests see only their own.
/// </summary>
internal sealed class ShopUnderMolt : IAsyncDisposable
{
    /// <summary>How long a start or an update may take (generous: a loaded 2-core machine).</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private const string Name = "shop";

    private static readonly string CliDll = Path.Combine(AppContext.BaseDirectory, "molt", "Molt.Cli.dll");

    private readonly string _runtimeDirectory;
    private readonly RunningProcess _host;

    private ShopUnderMolt(string runtimeDirectory, RunningProcess host, int port)
    {
        _runtimeDirectory = runtimeDirectory;
        _host = host;
        BaseUrl = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
    }

    /// <summary>The shop's base URL, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string BaseUrl { get; }

    /// <summary>What <c>molt run</c> printed so far (for failure messages).</summary>
    public string HostOutput => $"{_host.Stdout}\n{_host.Stderr}";

    /// <summary>Starts release <paramref name="major"/> under <c>molt run</c>; returns once <c>/api/version</c> answers.</summary>
    public static async Task<ShopUnderMolt> StartAsync(int major)
    {
        Assert.True(File.Exists(CliDll), $"molt is not built beside the tests: {CliDll} (MoltCliBeside.targets copies it)");
        var dll = ShopProcesses.ReleaseDll(major);
        for (var attempt = 1; ; attempt++)
        {
            var runtimeDirectory = Directory.CreateTempSubdirectory("shop-tests-").FullName;
            var port = ShopProcesses.FreePort();
            var host = ShopProcesses.Start("dotnet",
                [CliDll, "run", dll, "--name", Name, "--", "--urls", $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}"],
                new Dictionary<string, string> { ["MOLT_RUNTIME_DIR"] = runtimeDirectory });
            var shop = new ShopUnderMolt(runtimeDirectory, host, port);
            try
            {
                await shop.WaitUntilServingAsync();
                return shop;
            }
            catch (Exception) when (attempt < 3 && host.Process.HasExited)
            {
                await shop.DisposeAsync(); // The port was taken between FreePort and the bind: another port.
            }
            catch
            {
                await shop.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>
    /// <c>molt update shop shop-versions/vM/Shop.dll --json</c>: its exit code (0 committed, 2 rolled back, 3 refused)
    /// and what it printed.
    /// </summary>
    public async Task<MoltUpdate> UpdateAsync(int major)
    {
        var result = await ShopProcesses.RunAsync("dotnet", [CliDll, "update", Name, ShopProcesses.ReleaseDll(major), "--json"], Deadline, Environment);
        JsonElement? summary = null;
        try
        {
            using var json = JsonDocument.Parse(result.Stdout);
            summary = json.RootElement.Clone();
        }
        catch (JsonException)
        {
            // A refusal at the check prints the check, not a summary: the exit code says it.
        }
        return new MoltUpdate(result, summary);
    }

    /// <summary>
    /// Runs a test's steps against this shop; a failure says, besides its own message, what <c>molt run</c> printed
    /// (the shop's log, the updates' phases) and whether it still runs.
    /// </summary>
    public async Task ExplainingFailuresAsync(Func<Task> steps)
    {
        try
        {
            await steps();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new Xunit.Sdk.XunitException($"{e.Message}\n--- molt run (exited: {_host.Process.HasExited})\n{HostOutput}\n--- at\n{e.StackTrace}");
        }
    }

    /// <summary>The release <c>/api/version</c> reports, read with curl.</summary>
    public async Task<string> VersionAsync()
    {
        var (status, body) = await ShopProcesses.CurlAsync(BaseUrl + "/api/version");
        Assert.Equal(200, status);
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("version").GetString()!;
    }

    private IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string> { ["MOLT_RUNTIME_DIR"] = _runtimeDirectory };

    private async Task WaitUntilServingAsync()
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var until = DateTime.UtcNow + Deadline;
        while (true)
        {
            if (_host.Process.HasExited)
            {
                throw new InvalidOperationException($"molt run exited with {_host.Process.ExitCode} before the shop answered:\n{HostOutput}");
            }
            try
            {
                using var response = await client.GetAsync(BaseUrl + "/api/version");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"the shop did not answer within {Deadline.TotalSeconds} s:\n{HostOutput}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>Kills <c>molt run</c> and the shop's process, and removes the private runtime directory.</summary>
    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        try
        {
            Directory.Delete(_runtimeDirectory, recursive: true);
        }
        catch (Exception e) when (e is DirectoryNotFoundException or IOException)
        {
        }
    }
}

/// <summary>One <c>molt update</c>: the command's result and, unless it was refused at the check, its summary.</summary>
internal sealed record MoltUpdate(ProcessResult Result, JsonElement? Summary)
{
    /// <summary>The summary's outcome (Committed, RolledBack, Refused), or null when none was printed.</summary>
    public string? Outcome => Summary?.GetProperty("outcome").GetString();

    /// <summary>The pause the update made, in milliseconds (0 when none was printed).</summary>
    public double PauseMilliseconds => Summary?.GetProperty("pauseMilliseconds").GetDouble() ?? 0;

    /// <summary>Asserts the update committed, with what molt printed otherwise.</summary>
    public void AssertCommitted()
    {
        Assert.True(Result.ExitCode == 0 && Outcome == "Committed", $"the update did not commit: {Result}");
    }

    public override string ToString() => $"{Outcome ?? "(no summary)"}, exit {Result.ExitCode}, pause {PauseMilliseconds:0.0} ms";
}
