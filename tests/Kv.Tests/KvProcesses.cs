using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Kv.Tests;

/// <summary>
/// The real processes the kv tests run: a kv release on its own (<c>dotnet versions/vN/Kv.dll --port 0</c>),
/// Debian's redis-server, and the Python clients (Debian's /usr/bin/python3 with python3-redis). Every wait is
/// bounded; a missing tool fails the test with the command that installs it.
/// </summary>
internal static partial class KvProcesses
{
    /// <summary>Debian's Python: the one with the <c>redis</c> package (the pyenv <c>python3</c> on PATH has none).</summary>
    public const string Python = "/usr/bin/python3";

    /// <summary>What to run when a tool is missing.</summary>
    public const string InstallHint = "run `bash scripts/install-test-deps.sh`";

    /// <summary>How long a server may take to start listening (generous: a loaded 2-core machine).</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The folder of the Python clients, copied beside the tests.</summary>
    public static string ClientsDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "clients");

    /// <summary>The folder of release <paramref name="version"/> (1..6), copied beside the tests by KvVersions.targets.</summary>
    public static string VersionDirectory(int version) => Path.Combine(AppContext.BaseDirectory, "versions", $"v{version}");

    /// <summary>A port free right now on 127.0.0.1 (for servers that cannot bind port 0 themselves, like redis-server).</summary>
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

    /// <summary>Fails clearly when Debian's Python or its redis package is missing.</summary>
    public static async Task RequirePythonRedisAsync()
    {
        RequireTool(Python);
        var probe = await RunAsync(Python, ["-c", "import redis"], TimeSpan.FromSeconds(30));
        if (probe.ExitCode != 0)
        {
            throw new InvalidOperationException($"python3-redis not found for {Python}: {InstallHint}\n{probe.Stderr}");
        }
    }

    /// <summary>Starts release <paramref name="version"/> of kv on its own, on a free port; returns once it listens.</summary>
    public static Task<ServerProcess> StartKvAsync(int version)
    {
        var dll = Path.Combine(VersionDirectory(version), "Kv.dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"kv release v{version} is not built beside the tests: {dll} (KvVersions.targets builds v1..v7)");
        }
        return StartServerAsync($"kv v{version}", "dotnet", [dll, "--port", "0"]);
    }

    /// <summary>
    /// Starts a program that prints <c>listening on 127.0.0.1:PORT</c> once it listens (a kv release, on its own
    /// or under the Molt host); returns once it has, with <see cref="ServerProcess.Port"/> set.
    /// </summary>
    public static async Task<ServerProcess> StartServerAsync(string name, string program, IEnumerable<string> arguments)
    {
        var server = new ServerProcess(name, Start(program, arguments));
        try
        {
            var line = await server.WaitForOutputAsync(ListeningLine(), StartTimeout);
            server.Port = int.Parse(ListeningLine().Match(line).Groups[1].Value, CultureInfo.InvariantCulture);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts Debian's redis-server on a free port, with no persistence; returns once it answers.</summary>
    public static async Task<ServerProcess> StartRedisServerAsync()
    {
        RequireTool("redis-server");
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            var server = new ServerProcess("redis-server", Start("redis-server",
                ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"]))
            { Port = port };
            try
            {
                await server.WaitForOutputAsync(new Regex("Ready to accept connections"), StartTimeout);
                return server;
            }
            catch (Exception) when (attempt < 3 && server.Process.HasExited)
            {
                await server.DisposeAsync(); // The port was taken between FreePort and the bind: another port.
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>Runs one of the Python clients to its end (or kills it after <paramref name="timeout"/>).</summary>
    public static async Task<ProcessResult> RunScriptAsync(string script, IEnumerable<string> arguments, TimeSpan timeout, string? stdin = null)
    {
        await RequirePythonRedisAsync();
        return await RunAsync(Python, [Path.Combine(ClientsDirectory, script), .. arguments], timeout, stdin);
    }

    /// <summary>Runs a program to its end, killing it (and its children) if it outlives <paramref name="timeout"/>.</summary>
    public static async Task<ProcessResult> RunAsync(string program, IEnumerable<string> arguments, TimeSpan timeout, string? stdin = null)
    {
        var startInfo = Start(program, arguments);
        startInfo.RedirectStandardInput = true;
        using var process = Process.Start(startInfo)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }
        process.StandardInput.Close();
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

    private static ProcessStartInfo Start(string program, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["PYTHONUNBUFFERED"] = "1";
        return start;
    }

    [GeneratedRegex(@"listening on 127\.0\.0\.1:(\d+)")]
    private static partial Regex ListeningLine();
}

/// <summary>A finished process: exit code and output.</summary>
internal sealed record ProcessResult(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>The lines a client suite printed for its failed checks.</summary>
    public IEnumerable<string> FailLines => Stdout.Split('\n').Where(l => l.StartsWith("FAIL ", StringComparison.Ordinal));

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>A server process the test started (kv or redis-server): its port, its output, and its end with the test.</summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly StringBuilder _output = new();
    private readonly List<(Regex Pattern, TaskCompletionSource<string> Seen)> _waiters = [];

    public ServerProcess(string name, ProcessStartInfo start)
    {
        Name = name;
        Process = new Process { StartInfo = start, EnableRaisingEvents = true };
        Process.OutputDataReceived += (_, e) => OnLine(e.Data);
        Process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        Process.Exited += (_, _) => OnExit();
        Process.Start();
        Process.BeginOutputReadLine();
        Process.BeginErrorReadLine();
    }

    /// <summary>What it is, for messages ("kv v3", "redis-server").</summary>
    public string Name { get; }

    /// <summary>The process.</summary>
    public Process Process { get; }

    /// <summary>The TCP port it listens on, on 127.0.0.1.</summary>
    public int Port { get; set; }

    /// <summary>Everything it printed so far (stdout and stderr).</summary>
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

    /// <summary>Waits for an output line that matches; fails if the process exits or the timeout passes first.</summary>
    public async Task<string> WaitForOutputAsync(Regex pattern, TimeSpan timeout)
    {
        var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_output)
        {
            var earlier = _output.ToString().Split('\n').FirstOrDefault(pattern.IsMatch);
            if (earlier is not null)
            {
                return earlier;
            }
            _waiters.Add((pattern, seen));
        }
        if (Process.HasExited)
        {
            OnExit();
        }
        try
        {
            return await seen.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{Name} printed no line matching '{pattern}' within {timeout.TotalSeconds} s:\n{Output}");
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
            foreach (var waiter in _waiters.Where(w => w.Pattern.IsMatch(line)).ToList())
            {
                waiter.Seen.TrySetResult(line);
                _waiters.Remove(waiter);
            }
        }
    }

    private void OnExit()
    {
        lock (_output)
        {
            foreach (var waiter in _waiters)
            {
                waiter.Seen.TrySetException(new InvalidOperationException($"{Name} exited before it printed a line matching '{waiter.Pattern}':\n{_output}"));
            }
            _waiters.Clear();
        }
    }

    /// <summary>Kills the process and its children, and waits (bounded) for them to go.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
            }
            await Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));
        }
        catch (InvalidOperationException)
        {
            // It had already gone.
        }
        Process.Dispose();
    }
}
