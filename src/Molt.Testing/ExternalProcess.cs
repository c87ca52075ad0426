using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Molt.Testing;

/// <summary>
/// Real processes for tests and benchmarks (molt, the program's releases, curl, wrk, redis-cli, Python clients):
/// started with their output captured, every wait bounded, killed with their children when a deadline passes.
/// </summary>
public static class ExternalProcess
{
    /// <summary>A start that captures stdout and stderr (and takes stdin), with unbuffered Python output.</summary>
    /// <param name="program">The executable.</param>
    /// <param name="arguments">Its arguments, each passed as it is.</param>
    /// <param name="environment">Variables to set, or null.</param>
    /// <returns>The start information.</returns>
    public static ProcessStartInfo StartInfo(string program, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
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
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }
        return start;
    }

    /// <summary>Runs a program to its end, killing it (and its children) if it outlives <paramref name="timeout"/>.</summary>
    /// <param name="program">The executable.</param>
    /// <param name="arguments">Its arguments.</param>
    /// <param name="timeout">How long it may run.</param>
    /// <param name="stdin">What to write to its standard input, or null.</param>
    /// <param name="environment">Variables to set, or null.</param>
    /// <returns>Its exit code and output.</returns>
    /// <exception cref="TimeoutException">It ran too long (its output is in the message).</exception>
    public static Task<ProcessResult> RunAsync(string program, IEnumerable<string> arguments, TimeSpan timeout, string? stdin = null, IReadOnlyDictionary<string, string>? environment = null) =>
        RunAsync(StartInfo(program, arguments, environment), timeout, stdin);

    /// <summary>Runs a process to its end, killing it (and its children) if it outlives <paramref name="timeout"/>.</summary>
    /// <param name="start">How to start it (its output must be redirected).</param>
    /// <param name="timeout">How long it may run.</param>
    /// <param name="stdin">What to write to its standard input, or null.</param>
    /// <returns>Its exit code and output.</returns>
    /// <exception cref="TimeoutException">It ran too long (its output is in the message).</exception>
    public static Task<ProcessResult> RunAsync(ProcessStartInfo start, TimeSpan timeout, string? stdin = null) =>
        RunAsync(start, timeout, stdin is null ? null : async input =>
        {
            await using var writer = new StreamWriter(input, leaveOpen: true);
            await writer.WriteAsync(stdin).ConfigureAwait(false);
        });

    /// <summary>Runs a process to its end, killing it (and its children) if it outlives <paramref name="timeout"/>.</summary>
    /// <param name="start">How to start it (its output must be redirected).</param>
    /// <param name="timeout">How long it may run.</param>
    /// <param name="writeStdin">Writes its standard input (bytes), or null; the input is closed after.</param>
    /// <returns>Its exit code and output.</returns>
    /// <exception cref="TimeoutException">It ran too long (its output is in the message).</exception>
    public static async Task<ProcessResult> RunAsync(ProcessStartInfo start, TimeSpan timeout, Func<Stream, Task>? writeStdin)
    {
        ArgumentNullException.ThrowIfNull(start);
        start.RedirectStandardInput = true;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (writeStdin is not null)
        {
            await writeStdin(process.StandardInput.BaseStream).ConfigureAwait(false);
        }
        process.StandardInput.Close();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            throw new TimeoutException($"'{start.FileName} {string.Join(' ', start.ArgumentList)}' did not finish within {timeout.TotalSeconds} s:\n{await stdout.ConfigureAwait(false)}\n{await stderr.ConfigureAwait(false)}");
        }
        return new ProcessResult(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }

    /// <summary>Starts a program and returns at once; its output is readable as it comes.</summary>
    /// <param name="program">The executable.</param>
    /// <param name="arguments">Its arguments.</param>
    /// <param name="environment">Variables to set, or null.</param>
    /// <returns>The running process (disposing it kills it and its children).</returns>
    public static RunningProcess Start(string program, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null) =>
        new(Process.Start(StartInfo(program, arguments, environment))!);

    /// <summary>The path of an executable on PATH (or at its absolute path); fails clearly, naming the fix, when there is none.</summary>
    /// <param name="name">The executable's name or absolute path.</param>
    /// <param name="installHint">What to run to install it.</param>
    /// <returns>Its path.</returns>
    /// <exception cref="InvalidOperationException">It is missing.</exception>
    public static string RequireTool(string name, string installHint)
    {
        ArgumentNullException.ThrowIfNull(name);
        var found = Path.IsPathRooted(name)
            ? (File.Exists(name) ? name : null)
            : (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
                .Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);
        return found ?? throw new InvalidOperationException($"{name} not found: {installHint}");
    }

    /// <summary>A port free right now on 127.0.0.1 (for servers that cannot bind port 0 and say which they got).</summary>
    /// <returns>The port.</returns>
    public static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}

/// <summary>A finished process: its exit code and output.</summary>
/// <param name="ExitCode">The exit code.</param>
/// <param name="Stdout">What it wrote to standard output.</param>
/// <param name="Stderr">What it wrote to standard error.</param>
public sealed record ProcessResult(int ExitCode, string Stdout, string Stderr)
{
    /// <inheritdoc/>
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}
