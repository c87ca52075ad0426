using Molt.Testing;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Kv.Benchmarks;

/// <summary>Where the benchmarks find what they run: the kv releases and molt beside them, and Debian's tools.</summary>
internal static class Paths
{
    /// <summary>Release <paramref name="version"/>'s main assembly, copied beside the benchmarks by KvVersions.targets.</summary>
    public static string Kv(int version) => Path.Combine(AppContext.BaseDirectory, "versions", $"v{version}", "Kv.dll");

    /// <summary>The releases built beside the benchmarks (v1 … v5, as far as they exist yet).</summary>
    public static IReadOnlyList<int> Versions { get; } = [.. Enumerable.Range(1, 9).Where(v => File.Exists(Kv(v)))];

    /// <summary>molt's main assembly, copied beside the benchmarks under molt/ by the project.</summary>
    public static string MoltCli { get; } = Path.Combine(AppContext.BaseDirectory, "molt", "Molt.Cli.dll");

    /// <summary>A path relative to the current folder, for the commands printed.</summary>
    public static string Short(string path) => Path.GetRelativePath(Environment.CurrentDirectory, path);

    /// <summary>A port free right now on 127.0.0.1 (for redis-server, which cannot bind port 0 and tell it).</summary>
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
    public static Task<ProcessResult> ToEndAsync(string program, IEnumerable<string> arguments, TimeSpan timeout, Func<Stream, Task>? writeStdin = null) =>
        ExternalProcess.RunAsync(Info(program, arguments), timeout, writeStdin);

    /// <summary>A start description with redirected output and the arguments passed one by one.</summary>
    public static ProcessStartInfo Info(string program, IEnumerable<string> arguments) => ExternalProcess.StartInfo(program, arguments);
}

/// <summary>
/// A server the benchmark started as its own process (kv alone, kv under molt, redis-server): its port, and its
/// end — SIGTERM (molt then stops the program cleanly and removes its endpoint), then a kill if it lingers.
/// </summary>
internal sealed partial class ServerProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<string> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Regex _readyLine;

    private ServerProcess(string name, string command, ProcessStartInfo start, Regex readyLine)
    {
        Name = name;
        Command = command;
        _readyLine = readyLine;
        Process = new Process { StartInfo = start, EnableRaisingEvents = true };
        Process.OutputDataReceived += (_, e) => OnLine(e.Data);
        Process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        Process.Exited += (_, _) => _ready.TrySetException(new InvalidOperationException($"{Name} exited before it was ready:\n{Output}"));
        Process.Start();
        Process.BeginOutputReadLine();
        Process.BeginErrorReadLine();
    }

    /// <summary>What it is, for tables ("kv v1 standalone").</summary>
    public string Name { get; }

    /// <summary>The commands that started it, as printed.</summary>
    public string Command { get; private set; }

    /// <summary>The process.</summary>
    public Process Process { get; }

    /// <summary>The TCP port it listens on, on 127.0.0.1.</summary>
    public int Port { get; private set; }

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

    /// <summary>kv release <paramref name="version"/> on its own: <c>dotnet versions/vN/Kv.dll --port 0</c>.</summary>
    public static Task<ServerProcess> StartKvAsync(int version) =>
        StartAsync($"kv v{version} standalone", "dotnet", [Paths.Kv(version), "--port", "0"], ListeningLine());

    /// <summary>
    /// kv release <paramref name="version"/> under molt: <c>dotnet molt/Molt.Cli.dll run versions/vN/Kv.dll --name … -- --port 0</c>,
    /// with <c>--keep-old-code</c> when the variant keeps old code (the release's code in a context that is not collectible,
    /// which the runtime tiers). With <see cref="MoltVariant.UpdatedFrom"/>, molt starts that earlier release instead and
    /// <c>molt update</c> brings it to <paramref name="version"/> one release at a time, as an operator would (with
    /// <c>--process</c> when <see cref="MoltVariant.AcrossProcesses"/>: each release then runs in a new process, loaded as a
    /// standalone program loads it): the state a server is in after live updates.
    /// </summary>
    public static async Task<ServerProcess> StartKvUnderMoltAsync(int version, MoltVariant variant)
    {
        var name = $"kv-bench-{Environment.ProcessId}-v{version}{(variant.KeepOldCode ? "-kept" : "")}{(variant.UpdatedFrom is { } f ? $"-from-v{f}" : "")}{(variant.AcrossProcesses ? "-process" : "")}";
        string[] run = [Paths.MoltCli, "run", Paths.Kv(variant.UpdatedFrom ?? version), "--name", name, .. variant.KeepOldCode ? new[] { "--keep-old-code" } : [], "--", "--port", "0"];
        var server = await StartAsync(UnderMolt(version, variant), "dotnet", run, ListeningLine());
        if (variant.UpdatedFrom is not { } from)
        {
            return server;
        }
        try
        {
            for (var release = from + 1; release <= version; release++)
            {
                string[] update = [Paths.MoltCli, "update", name, Paths.Kv(release), .. variant.AcrossProcesses ? new[] { "--process" } : []];
                var result = await Run.ToEndAsync("dotnet", update, TimeSpan.FromSeconds(120));
                if (result.ExitCode != 0)
                {
                    throw new InvalidOperationException($"molt update to v{release} failed (exit {result.ExitCode}):\n{result.Stdout}\n{result.Stderr}");
                }
                server.Command += $"{Environment.NewLine}{new string(' ', 34)}$ dotnet {string.Join(' ', update.Select(Quote))}";
            }
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>The table name of kv release <paramref name="version"/> under molt, run as <paramref name="variant"/> says.</summary>
    public static string UnderMolt(int version, MoltVariant variant) =>
        $"kv v{version} {(variant.KeepOldCode ? "molt, code kept" : "under molt")}{(variant.UpdatedFrom is { } f ? $", from v{f}" : "")}{(variant.AcrossProcesses ? " by process updates" : "")}";

    /// <summary>
    /// The process that serves: molt run's child (since molt run supervises, the program runs in a process of its own, and
    /// a process's processor time counts its children only once they have ended), else the server's own process.
    /// </summary>
    public int ServingProcessId()
    {
        var children = Kv.Demo.MoltRunKvServer.ChildrenOf(Process.Id);
        return children.Count == 1 ? children[0] : Process.Id;
    }

    /// <summary>Debian's redis-server, no persistence.</summary>
    public static Task<ServerProcess> StartRedisServerAsync()
    {
        var port = Paths.FreePort();
        return StartAsync("redis-server", "redis-server",
            ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"],
            ReadyToAccept(), port);
    }

    private static async Task<ServerProcess> StartAsync(string name, string program, string[] arguments, Regex readyLine, int port = 0)
    {
        var command = $"{program} {string.Join(' ', arguments.Select(Quote))}";
        var server = new ServerProcess(name, command, Run.Info(program, arguments), readyLine) { Port = port };
        try
        {
            var line = await server._ready.Task.WaitAsync(StartTimeout);
            var listening = ListeningLine().Match(line);
            if (listening.Success)
            {
                server.Port = int.Parse(listening.Groups[1].Value, CultureInfo.InvariantCulture);
            }
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    // How an argument is printed: the empty string quoted, the paths of files relative to the current folder.
    private static string Quote(string argument) =>
        argument.Length == 0 ? "\"\"" : Path.IsPathRooted(argument) && File.Exists(argument) ? Paths.Short(argument) : argument;

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
        }
        if (_readyLine.IsMatch(line))
        {
            _ready.TrySetResult(line);
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

    [GeneratedRegex(@"listening on 127\.0\.0\.1:(\d+)")]
    private static partial Regex ListeningLine();

    [GeneratedRegex("Ready to accept connections")]
    private static partial Regex ReadyToAccept();
}

/// <summary>
/// How a kv release runs under molt for the throughput benchmark: its old code unloaded (the default) or kept; started at
/// the release, or updated to it from an earlier one, in process or across processes.
/// </summary>
internal sealed record MoltVariant(string Name, bool KeepOldCode, int? UpdatedFrom, bool AcrossProcesses = false);
