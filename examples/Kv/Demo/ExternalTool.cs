using System.Diagnostics;
using System.Text;

namespace Kv.Demo;

/// <summary>
/// A real client program (redis-benchmark, redis-cli, a Python script with Debian's redis client) run as its own
/// process: its output is collected as it comes, it is bounded by a deadline, and it is killed with its children
/// when disposed, so that no run leaves a load behind.
/// </summary>
public sealed class ExternalTool : IAsyncDisposable
{
    /// <summary>Debian's Python, the one with the <c>redis</c> module (python3-redis).</summary>
    public const string Python = "/usr/bin/python3";

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _errors = new();
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ExternalTool(Process process) => _process = process;

    /// <summary>What the program wrote on its standard output so far.</summary>
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

    /// <summary>What the program wrote on its standard error so far.</summary>
    public string Errors
    {
        get
        {
            lock (_errors)
            {
                return _errors.ToString();
            }
        }
    }

    /// <summary>True once the program has ended.</summary>
    public bool HasExited => _exited.Task.IsCompleted;

    /// <summary>How long the program ran, from its start to its end (or until now, while it runs).</summary>
    public TimeSpan RunTime => Stopwatch.GetElapsedTime(_started, _ended == 0 ? Stopwatch.GetTimestamp() : _ended);

    private long _started;
    private long _ended;

    /// <summary>The program's exit code, once it has ended.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>Each line of standard output as it arrives (called on a pool thread).</summary>
    public event Action<string>? LineReceived;

    /// <summary>The program's process id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>Starts a program; a missing one is reported with the command that installs it.</summary>
    /// <param name="program">The program, on PATH or by its full path.</param>
    /// <param name="arguments">Its arguments, passed one by one.</param>
    /// <param name="redirectInput">Whether its standard input is written by <see cref="WriteLineAsync"/>.</param>
    /// <param name="environment">Variables set for it on top of this process's.</param>
    /// <exception cref="ToolMissingException">The program is not installed.</exception>
    public static ExternalTool Start(string program, IEnumerable<string> arguments, bool redirectInput = false, IReadOnlyDictionary<string, string>? environment = null)
    {
        if (FindProgram(program) is null)
        {
            throw new ToolMissingException(program);
        }
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectInput,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var tool = new ExternalTool(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }
            lock (tool._output)
            {
                tool._output.AppendLine(e.Data);
            }
            tool.LineReceived?.Invoke(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (tool._errors)
                {
                    tool._errors.AppendLine(e.Data);
                }
            }
        };
        process.Exited += (_, _) =>
        {
            tool._ended = Stopwatch.GetTimestamp();
            tool._exited.TrySetResult();
        };
        tool._started = Stopwatch.GetTimestamp();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return tool;
    }

    /// <summary>Runs a Python script of the Kv clients folder to its end.</summary>
    public static Task<ExternalTool> RunScriptAsync(string script, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellationToken) =>
        RunAsync(Python, [script, .. arguments], timeout, cancellationToken);

    /// <summary>Runs a program to its end, within a deadline (then it is killed and <see cref="TimeoutException"/> thrown).</summary>
    public static async Task<ExternalTool> RunAsync(string program, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var tool = Start(program, arguments, environment: environment);
        try
        {
            await tool.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            return tool;
        }
        catch
        {
            await tool.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Waits for the program's end (and its last output line); past the deadline it is killed and <see cref="TimeoutException"/> thrown.</summary>
    public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await _exited.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Kill();
            throw new TimeoutException($"{Describe()} did not finish within {timeout.TotalSeconds:0} s; it was stopped. Its last output: {Tail(Output)} {Tail(Errors)}");
        }
        // Exited can come before the last lines of output were read.
        await _process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes one line to the program's standard input.</summary>
    public async Task WriteLineAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line).ConfigureAwait(false);
        await _process.StandardInput.FlushAsync().ConfigureAwait(false);
    }

    /// <summary>Sends SIGTERM-like termination: kills the program and its children.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    /// <summary>The command line, for messages.</summary>
    public string Describe() => $"'{Path.GetFileName(_process.StartInfo.FileName)} {string.Join(' ', _process.StartInfo.ArgumentList)}'";

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Kill();
        try
        {
            await _exited.Task.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Reported by whoever waited for it; nothing more to do here.
        }
        _process.Dispose();
    }

    private static string Tail(string text) => text.Length <= 400 ? text.Trim() : "…" + text[^400..].Trim();

    /// <summary>The full path of a program: itself if rooted, else the first match on PATH.</summary>
    public static string? FindProgram(string program)
    {
        if (Path.IsPathRooted(program))
        {
            return File.Exists(program) ? program : null;
        }
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, program))
            .FirstOrDefault(File.Exists);
    }
}

/// <summary>A client program the scenario needs is not installed.</summary>
public sealed class ToolMissingException(string program)
    : Exception($"{program} is not installed: run 'bash scripts/install-test-deps.sh' (it installs redis-tools, redis-server and python3-redis from Debian's packages)")
{
}
