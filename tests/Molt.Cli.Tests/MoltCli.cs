using System.Diagnostics;

namespace Molt.Cli.Tests;

/// <summary>
/// Runs <c>molt</c> as the operator does: a separate process, <c>dotnet Molt.Cli.dll ...</c> (built beside the
/// tests), with every endpoint in a private runtime directory (MOLT_RUNTIME_DIR) so that tests see only their own.
/// </summary>
internal sealed class MoltCli(string runtimeDirectory) : IAsyncDisposable
{
    private readonly List<HostProcess> _started = [];

    /// <summary>How long any one command or wait may take before the test fails (generous: a loaded 2-core machine).</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static readonly string CliDll = Path.Combine(AppContext.BaseDirectory, "Molt.Cli.dll");

    /// <summary>The private endpoint directory.</summary>
    public string RuntimeDirectory { get; } = runtimeDirectory;

    /// <summary>Runs one command to its end; returns its exit code and output.</summary>
    public Task<CliResult> RunAsync(params string[] arguments) => ExternalProcess.RunAsync(StartInfo(arguments), Deadline);

    /// <summary>Starts a command and returns at once, with its output readable as it comes.</summary>
    public HostProcess Start(params string[] arguments) => new(Process.Start(StartInfo(arguments))!);

    /// <summary>Starts <c>molt run</c> and waits until the program's endpoint is open.</summary>
    public Task<HostProcess> StartHostAsync(string programDll, string name, params string[] programArgs) =>
        StartHostWithOptionsAsync(programDll, name, [], programArgs);

    /// <summary>Starts <c>molt run</c> with options of its own (e.g. <c>--keep-old-code</c>) before the program's arguments.</summary>
    public Task<HostProcess> StartHostWithOptionsAsync(string programDll, string name, string[] runOptions, params string[] programArgs) =>
        StartHostWithEnvironmentAsync(programDll, name, runOptions, new Dictionary<string, string>(), programArgs);

    /// <summary>Starts <c>molt run</c> with variables of its own in its environment (e.g. systemd's <c>NOTIFY_SOCKET</c>).</summary>
    public Task<HostProcess> StartHostWithEnvironmentAsync(string programDll, string name, string[] runOptions, IReadOnlyDictionary<string, string> environment, params string[] programArgs) =>
        StartHostCoreAsync(programDll, name, runOptions, environment, ownSession: false, programArgs);

    /// <summary>
    /// Starts <c>molt run</c> as a terminal's foreground job is: in a session and process group of its own (through
    /// <c>setsid</c>), so that a test can send the whole group a signal, as Ctrl-C does, without signalling itself.
    /// </summary>
    public Task<HostProcess> StartHostInOwnGroupAsync(string programDll, string name) =>
        StartHostCoreAsync(programDll, name, [], new Dictionary<string, string>(), ownSession: true, []);

    private async Task<HostProcess> StartHostCoreAsync(string programDll, string name, string[] runOptions, IReadOnlyDictionary<string, string> environment, bool ownSession, string[] programArgs)
    {
        string[] arguments = ["run", programDll, "--name", name, .. runOptions, .. programArgs.Length > 0 ? ["--", .. programArgs] : Array.Empty<string>()];
        var start = StartInfo(arguments);
        if (ownSession)
        {
            // setsid execs dotnet in place (its process is not a group leader): the same process, now leading its own group.
            // As a terminal's foreground job, with SIGINT at its default: a test run started in a shell's background inherits
            // SIGINT ignored (bash does that to background jobs), and an ignored signal stays ignored across exec.
            start.ArgumentList.Insert(0, start.FileName);
            start.ArgumentList.Insert(0, "setsid");
            start.ArgumentList.Insert(0, "--default-signal=INT");
            start.FileName = "env";
        }
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }
        var host = new HostProcess(Process.Start(start)!);
        lock (_started)
        {
            _started.Add(host);
        }
        var socket = Path.Combine(RuntimeDirectory, name + ".sock");
        var info = Path.Combine(RuntimeDirectory, name + ".json");
        var until = DateTime.UtcNow + Deadline;
        while (!(File.Exists(socket) && File.Exists(info)))
        {
            if (host.Process.HasExited)
            {
                throw new InvalidOperationException($"molt run exited with {host.Process.ExitCode} before its endpoint opened:\n{host.Stderr}");
            }
            if (DateTime.UtcNow > until)
            {
                await host.DisposeAsync();
                throw new TimeoutException($"molt run did not open its endpoint within {Deadline.TotalSeconds} s:\n{host.Stderr}");
            }
            await Task.Delay(50);
        }
        return host;
    }

    /// <summary><c>molt status NAME --json</c>, which must answer: the program's status as JSON.</summary>
    public async Task<System.Text.Json.JsonElement> StatusJsonAsync(string name)
    {
        var status = await RunAsync("status", name, "--json");
        Xunit.Assert.True(status.ExitCode == 0, status.ToString());
        using var json = System.Text.Json.JsonDocument.Parse(status.Stdout);
        return json.RootElement.Clone();
    }

    /// <summary>Kills every <c>molt run</c> this started that is still running, and removes the private endpoint directory.</summary>
    public async ValueTask DisposeAsync()
    {
        HostProcess[] started;
        lock (_started)
        {
            started = [.. _started];
        }
        foreach (var host in started)
        {
            await host.DisposeAsync();
        }
        try
        {
            Directory.Delete(RuntimeDirectory, recursive: true);
        }
        catch (Exception e) when (e is DirectoryNotFoundException or IOException)
        {
        }
    }

    private ProcessStartInfo StartInfo(string[] arguments) =>
        ExternalProcess.StartInfo("dotnet", [CliDll, .. arguments], new Dictionary<string, string> { ["MOLT_RUNTIME_DIR"] = RuntimeDirectory });
}

/// <summary>A running <c>molt run</c>: its output as it comes (<see cref="RunningProcess"/>), signals, and a kill when the test is done.</summary>
internal sealed class HostProcess(Process process) : IAsyncDisposable
{
    private readonly RunningProcess _running = new(process);

    public Process Process => _running.Process;

    public string Stdout => _running.Stdout;

    public string Stderr => _running.Stderr;

    /// <summary>Sends a signal (TERM, KILL) to <c>molt run</c> the way an operator or a service manager does.</summary>
    public void Signal(string signal) => Signal(signal, Process.Id);

    /// <summary>Sends a signal to a process (the program process that <c>molt run</c> supervises, say).</summary>
    public static void Signal(string signal, int processId)
    {
        using var kill = System.Diagnostics.Process.Start("kill", ["-" + signal, processId.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>The parent of a process, from /proc (0 once it is gone).</summary>
    public static int ParentOf(int processId)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{processId}/stat");
            // pid (comm) state ppid ...: the command may hold spaces and parentheses; the last ')' ends it.
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>Waits for the process to exit; returns its exit code.</summary>
    public Task<int> WaitForExitAsync() => _running.WaitForExitAsync(MoltCli.Deadline);

    /// <summary>Waits until stdout holds <paramref name="text"/>.</summary>
    public Task WaitForStdoutAsync(string text) => _running.WaitForStdoutAsync(text, MoltCli.Deadline);

    public ValueTask DisposeAsync() => _running.DisposeAsync();
}
