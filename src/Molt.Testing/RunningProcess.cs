using System.Diagnostics;
using System.Text;

namespace Molt.Testing;

/// <summary>A process that runs beside a test (molt run, wrk, curl -N, a browser): its output as it comes, and its end with the test.</summary>
public sealed class RunningProcess : IAsyncDisposable
{
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    /// <summary>Starts reading a started process's redirected output.</summary>
    /// <param name="process">The process, its stdout and stderr redirected.</param>
    public RunningProcess(Process process)
    {
        ArgumentNullException.ThrowIfNull(process);
        Process = process;
        process.OutputDataReceived += (_, e) => Append(_stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Append(_stderr, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>The process.</summary>
    public Process Process { get; }

    /// <summary>Its standard output so far.</summary>
    public string Stdout => Read(_stdout);

    /// <summary>Its standard error so far.</summary>
    public string Stderr => Read(_stderr);

    /// <summary>Waits for the process to exit within <paramref name="timeout"/> (killing it otherwise); returns its exit code.</summary>
    /// <param name="timeout">How long to wait.</param>
    /// <returns>The exit code.</returns>
    /// <exception cref="TimeoutException">It did not exit in time (killed; its output is in the message).</exception>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await Process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{Process.StartInfo.FileName} {string.Join(' ', Process.StartInfo.ArgumentList)}' did not exit within {timeout.TotalSeconds} s:\n{Stdout}\n{Stderr}");
        }
        Process.WaitForExit(); // Drains the redirected output.
        return Process.ExitCode;
    }

    /// <summary>Waits until its standard output holds <paramref name="text"/>.</summary>
    /// <param name="text">What to wait for.</param>
    /// <param name="timeout">How long to wait.</param>
    /// <exception cref="TimeoutException">The process exited or the time ran out first (its output is in the message).</exception>
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
            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    /// <summary>Kills the process and its children if it still runs.</summary>
    /// <returns>A completed task.</returns>
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
