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
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Fails clearly, naming the fix, when an executable is not on PATH (or not at its absolute path).</summary>
    public static string RequireTool(string name)
    {
        var found = Path.IsPathRooted(name)
            ? (File.Exists(name) ? name : null)
            : (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
                .Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);
        return found ?? throw new InvalidOperationException($"{name} not found: {InstallHint}");
    }

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
    public static async Task<ProcessResult> RunAsync(string program, IEnumerable<string> arguments, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = StartInfo(program, arguments);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
            throw new TimeoutException($"'{program} {string.Join(' ', arguments)}' did not finish within {timeout.TotalSeconds} s:\n{await stdout}\n{await stderr}");
        }
        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Starts a program and returns at once; its output is readable as it comes.</summary>
    public static RunningProcess Start(string program, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = StartInfo(program, arguments);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }
        return new RunningProcess(Process.Start(start)!);
    }

    private static ProcessStartInfo StartInfo(string program, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["PYTHONUNBUFFERED"] = "1";
        return start;
    }
}

/// <summary>A finished process: exit code and output.</summary>
internal sealed record ProcessResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>A process the test started and that runs beside it (molt run, wrk, curl -N, the browser): its output as it comes, and its end with the test.</summary>
internal sealed class RunningProcess : IAsyncDisposable
{
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    public RunningProcess(Process process)
    {
        Process = process;
        process.OutputDataReceived += (_, e) => Append(_stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Append(_stderr, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();
    }

    public Process Process { get; }

    public string Stdout => Read(_stdout);

    public string Stderr => Read(_stderr);

    /// <summary>Waits for the process to exit within <paramref name="timeout"/> (killing it otherwise); returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await Process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            Process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{Process.StartInfo.FileName} {string.Join(' ', Process.StartInfo.ArgumentList)}' did not exit within {timeout.TotalSeconds} s:\n{Stdout}\n{Stderr}");
        }
        Process.WaitForExit(); // Drains the redirected output.
        return Process.ExitCode;
    }

    /// <summary>Waits until stdout holds <paramref name="text"/> (fails if the process exits first or the time runs out).</summary>
    public async Task WaitForStdoutAsync(string text, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (!Stdout.Contains(text, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > until || Process.HasExited)
            {
                Process.WaitForExit(1000);
                throw new TimeoutException($"'{Process.StartInfo.FileName}' did not print '{text}' (exited: {Process.HasExited}):\n{Stdout}\n{Stderr}");
            }
            await Task.Delay(50);
        }
    }

    public ValueTask DisposeAsync()
    {
        try
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        Process.Dispose();
        return ValueTask.CompletedTask;
    }

    private static void Append(StringBuilder to, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (to)
        {
            to.AppendLine(line);
        }
    }

    private static string Read(StringBuilder from)
    {
        lock (from)
        {
            return from.ToString();
        }
    }
}
