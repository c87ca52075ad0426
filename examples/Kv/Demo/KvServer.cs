using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using Molt.Hosting;
using Molt.Hosting.Control;
using Molt.Testing;

namespace Kv.Demo;

/// <summary>
/// The kv server the scenario updates: under <see cref="MoltHost"/> in this process, or under <c>molt run</c> in processes
/// of its own (<see cref="MoltRunKvServer"/>), where an update can also move it to a new process. Every update's result
/// is the control endpoint's summary, the same for both.
/// </summary>
public abstract class KvServer : IAsyncDisposable
{
    /// <summary>The port it listens on, on 127.0.0.1 (the same after every update: the listener crosses with the state).</summary>
    public int Port { get; protected set; }

    /// <summary>Where it runs, for the log.</summary>
    public abstract string Where { get; }

    /// <summary>Updates it to <paramref name="programPath"/> by <paramref name="mechanism"/>; never throws for an update that did not commit.</summary>
    public abstract Task<UpdateSummary> UpdateAsync(string programPath, UpdateMechanism mechanism, CancellationToken cancellationToken);

    /// <summary>Updates it back to the version before the last committed update, in its process.</summary>
    public abstract Task<UpdateSummary> RollbackAsync(CancellationToken cancellationToken);

    /// <summary>The id of the process that serves the program now.</summary>
    public abstract Task<int> ServingProcessIdAsync(CancellationToken cancellationToken);

    /// <summary>Stops the program the way its operator would.</summary>
    public abstract Task StopAsync();

    /// <inheritdoc />
    public abstract ValueTask DisposeAsync();
}

/// <summary>kv under <see cref="MoltHost"/> in this process: every update in process.</summary>
public sealed class HostedKvServer : KvServer
{
    private readonly MoltHost _host;

    private HostedKvServer(MoltHost host)
    {
        _host = host;
        Port = ReadPort(host);
    }

    /// <summary>Starts <paramref name="programPath"/> on a free port.</summary>
    public static async Task<HostedKvServer> StartAsync(string programPath, MoltHostOptions options, CancellationToken cancellationToken) =>
        new(await MoltHost.StartAsync(programPath, ["--port", "0"], options, cancellationToken).ConfigureAwait(false));

    /// <inheritdoc />
    public override string Where => $"{_host.Version} under Molt in this process";

    /// <inheritdoc />
    public override async Task<UpdateSummary> UpdateAsync(string programPath, UpdateMechanism mechanism, CancellationToken cancellationToken)
    {
        if (mechanism != UpdateMechanism.InProcess)
        {
            throw new InvalidOperationException("An update to a new process needs kv under `molt run` (KvScenarioOptions.MoltCli).");
        }
        return await UpdateAsync(programPath, new UpdateOptions(), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Updates it in process with this update's settings (e.g. <see cref="UpdateOptions.Progress"/>).</summary>
    public async Task<UpdateSummary> UpdateAsync(string programPath, UpdateOptions options, CancellationToken cancellationToken) =>
        UpdateSummaries.Of(await _host.UpdateAsync(programPath, options, cancellationToken).ConfigureAwait(false));

    /// <inheritdoc />
    public override async Task<UpdateSummary> RollbackAsync(CancellationToken cancellationToken) =>
        UpdateSummaries.Of(await _host.RollbackAsync(cancellationToken: cancellationToken).ConfigureAwait(false));

    /// <inheritdoc />
    public override Task<int> ServingProcessIdAsync(CancellationToken cancellationToken) => Task.FromResult(Environment.ProcessId);

    /// <inheritdoc />
    public override Task StopAsync() => _host.StopAsync(CancellationToken.None);

    /// <inheritdoc />
    public override ValueTask DisposeAsync() => _host.DisposeAsync();

    /// <summary>The port the running kv version bound (its static Program.Port), read without keeping any of its types referenced.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int ReadPort(MoltHost host) => (int)ProgramState.Call(host, "Kv.Program", "get_Port")!;
}

/// <summary>
/// kv under <c>molt run</c> (<c>dotnet Molt.Cli.dll run versions/v1/Kv.dll --name NAME -- --port 0</c>), driven with the
/// operator's commands: <c>molt update NAME PATH --json [--process]</c>, <c>molt rollback NAME --json</c>,
/// <c>molt status NAME --json</c>. Its endpoint lives in a private runtime folder (MOLT_RUNTIME_DIR) that goes with it.
/// </summary>
public sealed partial class MoltRunKvServer : KvServer
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly string _cli;
    private readonly string _name;
    private readonly Dictionary<string, string> _environment;
    private readonly ExternalTool _run;
    private readonly TimeSpan _timeout;

    private MoltRunKvServer(string cli, string name, string runtimeDirectory, ExternalTool run, TimeSpan timeout)
    {
        _cli = cli;
        _name = name;
        _environment = new() { ["MOLT_RUNTIME_DIR"] = runtimeDirectory };
        _run = run;
        _timeout = timeout;
    }

    /// <summary>The program's name (<c>molt run --name</c>).</summary>
    public string Name => _name;

    /// <summary>The private folder of its control endpoint (MOLT_RUNTIME_DIR of every molt command run for it).</summary>
    public string RuntimeDirectory => _environment["MOLT_RUNTIME_DIR"];

    /// <summary>The supervisor: the <c>molt run</c> process, which stays while the program's processes come and go.</summary>
    public int SupervisorProcessId => _run.ProcessId;

    /// <summary>What <c>molt run</c> and the program's processes printed so far (the program's output and molt's log).</summary>
    public string Output => _run.Output + _run.Errors;

    /// <inheritdoc />
    public override string Where => $"under `molt run` (supervisor process {SupervisorProcessId}, program '{_name}')";

    /// <summary>Starts <paramref name="programPath"/> under <c>molt run</c> on a free port; returns once it listens and its endpoint is open.</summary>
    /// <param name="cli">molt's main assembly (Molt.Cli.dll).</param>
    /// <param name="programPath">The first release's Kv.dll.</param>
    /// <param name="runOptions">Options of <c>molt run</c> (e.g. <c>--keep-old-code</c>).</param>
    /// <param name="timeout">The deadline of each molt command and of the start.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    public static async Task<MoltRunKvServer> StartAsync(string cli, string programPath, IEnumerable<string> runOptions, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var runtimeDirectory = Directory.CreateTempSubdirectory("kv-molt-").FullName;
        var name = $"kv-{Environment.ProcessId}-{Path.GetFileName(runtimeDirectory)}";
        var run = ExternalTool.Start("dotnet", [cli, "run", programPath, "--name", name, .. runOptions, "--", "--port", "0"],
            environment: new Dictionary<string, string> { ["MOLT_RUNTIME_DIR"] = runtimeDirectory });
        var server = new MoltRunKvServer(cli, name, runtimeDirectory, run, timeout);
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            var endpoint = Path.Combine(runtimeDirectory, name + ".sock");
            while (ListeningLine().Match(run.Output) is not { Success: true } listening || !File.Exists(endpoint))
            {
                if (run.HasExited)
                {
                    throw new InvalidOperationException($"molt run exited with code {run.ExitCode} before kv listened: {server.Output.Trim()}");
                }
                await Task.Delay(50, deadline.Token).ConfigureAwait(false);
            }
            server.Port = int.Parse(ListeningLine().Match(run.Output).Groups[1].Value, CultureInfo.InvariantCulture);
            return server;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var output = server.Output.Trim();
            await server.DisposeAsync().ConfigureAwait(false);
            throw new TimeoutException($"kv under molt run did not listen within {timeout.TotalSeconds:0} s: {output}");
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc />
    public override Task<UpdateSummary> UpdateAsync(string programPath, UpdateMechanism mechanism, CancellationToken cancellationToken) =>
        UpdateAsync(programPath, mechanism, [], cancellationToken);

    /// <summary>Updates it with more options of <c>molt update</c> (e.g. <c>--env NAME=VALUE</c> for the new process).</summary>
    public Task<UpdateSummary> UpdateAsync(string programPath, UpdateMechanism mechanism, IEnumerable<string> moltOptions, CancellationToken cancellationToken) =>
        MoltAsync<UpdateSummary>(["update", _name, programPath, "--json", .. mechanism == UpdateMechanism.NewProcess ? ["--process"] : Array.Empty<string>(), .. moltOptions], cancellationToken);

    /// <summary>Waits for molt run to end by itself; returns its exit code, or null if it still ran after <paramref name="timeout"/> (it is then killed).</summary>
    public async Task<int?> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await _run.WaitAsync(timeout, CancellationToken.None).ConfigureAwait(false);
            return _run.ExitCode;
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    /// <inheritdoc />
    public override Task<UpdateSummary> RollbackAsync(CancellationToken cancellationToken) =>
        MoltAsync<UpdateSummary>(["rollback", _name, "--json"], cancellationToken);

    /// <inheritdoc />
    public override async Task<int> ServingProcessIdAsync(CancellationToken cancellationToken) =>
        // Read as JSON, not as a ProgramStatus: only the process id is needed here.
        (await MoltAsync<JsonElement>(["status", _name, "--json"], cancellationToken).ConfigureAwait(false)).GetProperty("processId").GetInt32();

    /// <summary>SIGTERM to the supervisor, which stops whichever process serves; waits for it to exit.</summary>
    public override async Task StopAsync()
    {
        await using var term = await ExternalTool.RunAsync("kill", ["-TERM", SupervisorProcessId.ToString(CultureInfo.InvariantCulture)], _timeout, CancellationToken.None).ConfigureAwait(false);
        await _run.WaitAsync(_timeout, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Kills molt run with the program's processes (its children), and removes the runtime folder.</summary>
    public override async ValueTask DisposeAsync()
    {
        await _run.DisposeAsync().ConfigureAwait(false);
        try
        {
            Directory.Delete(RuntimeDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A file the killed processes still held: the temporary folder is left to the system.
        }
    }

    /// <summary>The program's processes now: molt run's children (one while it serves, two during a process update).</summary>
    public IReadOnlyList<int> ProgramProcessIds() => ChildrenOf(SupervisorProcessId);

    /// <summary>The children of process <paramref name="pid"/> (every thread's: a child belongs to the thread that started it).</summary>
    public static List<int> ChildrenOf(int pid)
    {
        var children = new List<int>();
        try
        {
            foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
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
        }
        catch (DirectoryNotFoundException)
        {
            // The process has ended.
        }
        return children;
    }

    /// <summary>Runs one molt command with <c>--json</c> and reads its answer (printed whatever its exit code: a rolled-back update exits 2).</summary>
    private async Task<T> MoltAsync<T>(string[] arguments, CancellationToken cancellationToken)
    {
        await using var molt = await ExternalTool.RunAsync("dotnet", [_cli, .. arguments], _timeout, cancellationToken, _environment).ConfigureAwait(false);
        var output = molt.Output.Trim();
        try
        {
            return output.StartsWith('{') ? JsonSerializer.Deserialize<T>(output, Json)! : throw new JsonException("no JSON");
        }
        catch (JsonException e)
        {
            throw new InvalidOperationException($"'molt {string.Join(' ', arguments)}' exited with code {molt.ExitCode} without its answer ({e.Message}): {output} {molt.Errors.Trim()}", e);
        }
    }

    [GeneratedRegex(@"listening on 127\.0\.0\.1:(\d+)")]
    private static partial Regex ListeningLine();
}
