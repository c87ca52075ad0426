using Molt.Testing;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Shop.Benchmarks;

/// <summary>Where the benchmarks find what they run: the shop's releases and molt beside them.</summary>
internal static class Paths
{
    /// <summary>Release <paramref name="version"/>'s main assembly, copied beside the benchmarks by ShopVersions.targets.</summary>
    public static string Shop(int version) => Path.Combine(AppContext.BaseDirectory, "shop-versions", $"v{version}", "Shop.dll");

    /// <summary>molt's main assembly, copied beside the benchmarks under molt/ by the project.</summary>
    public static string MoltCli { get; } = Path.Combine(AppContext.BaseDirectory, "molt", "Molt.Cli.dll");

    /// <summary>A path relative to the current folder, for the commands printed.</summary>
    public static string Short(string path) => Path.GetRelativePath(Environment.CurrentDirectory, path);

    /// <summary>A port free right now on 127.0.0.1, for <c>--urls</c>.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Runs programs to their end, always within a time limit.</summary>
internal static class Run
{
    /// <summary>Runs <paramref name="program"/>, killing it (and its children) if it outlives <paramref name="timeout"/>.</summary>
    public static Task<ProcessResult> ToEndAsync(string program, IEnumerable<string> arguments, TimeSpan timeout) =>
        ExternalProcess.RunAsync(Info(program, arguments), timeout, writeStdin: null);

    /// <summary>A start description with redirected output and the arguments passed one by one.</summary>
    public static ProcessStartInfo Info(string program, IEnumerable<string> arguments) => ExternalProcess.StartInfo(program, arguments);

    /// <summary>How a command is printed: the paths of files relative to the current folder.</summary>
    public static string Line(string program, IEnumerable<string> arguments) =>
        $"{program} {string.Join(' ', arguments.Select(a => Path.IsPathRooted(a) && File.Exists(a) ? Paths.Short(a) : a))}";
}

/// <summary>
/// A shop release the benchmark started as its own process, standalone (<c>dotnet shop-versions/vN/Shop.dll --urls …</c>)
/// or under molt (<c>dotnet molt/Molt.Cli.dll run shop-versions/vN/Shop.dll --name … -- --urls …</c>), listening on
/// 127.0.0.1; ready once <c>/api/version</c> answers. Its end: SIGTERM (molt then stops the program cleanly), then a
/// kill if it lingers.
/// </summary>
internal sealed class ShopServer : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);
    private readonly StringBuilder _output = new();

    private ShopServer(string label, string? moltName, int port, string program, string[] arguments)
    {
        Label = label;
        MoltName = moltName;
        Port = port;
        Command = Run.Line(program, arguments);
        Process = new Process { StartInfo = Run.Info(program, arguments) };
        Process.OutputDataReceived += (_, e) => Append(e.Data);
        Process.ErrorDataReceived += (_, e) => Append(e.Data);
        Process.Start();
        Process.BeginOutputReadLine();
        Process.BeginErrorReadLine();
    }

    /// <summary>What it is, for tables ("standalone", "molt").</summary>
    public string Label { get; }

    /// <summary>Its name under molt (for <c>molt update</c>), or null standalone.</summary>
    public string? MoltName { get; }

    /// <summary>The port it listens on, on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>Its base address.</summary>
    public string BaseUrl => string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{Port}");

    /// <summary>The command that started it, as printed.</summary>
    public string Command { get; }

    /// <summary>The process started (under molt: the supervisor, <c>molt run</c>).</summary>
    public Process Process { get; }

    /// <summary>Everything it printed so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Release <paramref name="version"/> on its own, seeded with <paramref name="products"/> products.</summary>
    public static Task<ShopServer> StartStandaloneAsync(int version, int products)
    {
        var port = Paths.FreePort();
        return StartAsync(new ShopServer("standalone", null, port, "dotnet", [Paths.Shop(version), .. ShopArguments(port, products)]), version);
    }

    /// <summary>
    /// Release <paramref name="version"/> under <c>molt run</c> (in process updates), seeded with <paramref name="products"/>
    /// products; with <paramref name="keepOldCode"/>, <c>--keep-old-code</c> (the release's code in a context that is not
    /// collectible, which the runtime tiers).
    /// </summary>
    public static Task<ShopServer> StartUnderMoltAsync(int version, int products, string name, bool keepOldCode = false)
    {
        var port = Paths.FreePort();
        return StartAsync(new ShopServer(keepOldCode ? "molt, code kept" : "molt", name, port, "dotnet",
            [Paths.MoltCli, "run", Paths.Shop(version), "--name", name, .. keepOldCode ? new[] { "--keep-old-code" } : [], "--", .. ShopArguments(port, products)]), version);
    }

    private static string[] ShopArguments(int port, int products) =>
        ["--urls", string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}"), "--products", products.ToString(CultureInfo.InvariantCulture)];

    private static async Task<ShopServer> StartAsync(ShopServer server, int version)
    {
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            var started = Stopwatch.StartNew();
            while (true)
            {
                if (server.Process.HasExited)
                {
                    throw new InvalidOperationException($"'{server.Command}' exited (code {server.Process.ExitCode}) before it answered:\n{server.Output}");
                }
                if (started.Elapsed > StartTimeout)
                {
                    throw new TimeoutException($"'{server.Command}' did not answer /api/version within {StartTimeout.TotalSeconds} s:\n{server.Output}");
                }
                try
                {
                    var answer = await http.GetStringAsync(server.BaseUrl + "/api/version");
                    if (!answer.Contains($"\"version\":\"{version}.0.0\"", StringComparison.Ordinal))
                    {
                        throw new InvalidOperationException($"'{server.Command}' answered {answer}, not release {version}");
                    }
                    return server;
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(100);
                }
                catch (TaskCanceledException)
                {
                    await Task.Delay(100);
                }
            }
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The process that serves: under molt, molt run's child (<c>molt serve</c>: the program runs in a process of its own);
    /// standalone, the process itself.
    /// </summary>
    public int ServingProcessId()
    {
        if (MoltName is null)
        {
            return Process.Id;
        }
        var children = new List<int>();
        foreach (var task in Directory.EnumerateDirectories($"/proc/{Process.Id}/task"))
        {
            try
            {
                children.AddRange(File.ReadAllText(Path.Combine(task, "children"))
                    .Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(c => int.Parse(c, CultureInfo.InvariantCulture)));
            }
            catch (IOException)
            {
                // The thread ended between the listing and the read.
            }
        }
        return children.Count == 1 ? children[0] : throw new InvalidOperationException($"molt run (process {Process.Id}) has {children.Count} children, not one");
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    /// <summary>Stops it: SIGTERM, then a kill of the whole tree after 15 s.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!Process.HasExited)
            {
                using var term = Process.Start(Run.Info("kill", ["-TERM", Process.Id.ToString(CultureInfo.InvariantCulture)]))!;
                await term.WaitForExitAsync();
                await Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));
            }
        }
        catch (TimeoutException)
        {
        }
        finally
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                await Process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
            }
            Process.Dispose();
        }
    }
}

/// <summary>The command line that ran the benchmarks, printed above their tables.</summary>
internal static class Commands
{
    public static string Line { get; set; } = "dotnet run --project bench/Shop.Benchmarks -c Release";
}
