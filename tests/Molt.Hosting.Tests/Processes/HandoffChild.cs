using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Molt.Hosting.Processes;

namespace Molt.Hosting.Tests.Processes;

/// <summary>
/// A running <c>Molt.Handoff.Child</c> (built beside the tests): its output collected line by line, killed with its
/// tree when disposed if it has not exited, so no test leaves a process behind.
/// </summary>
internal sealed class HandoffChild : IDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    private static readonly string ChildDll = Path.Combine(AppContext.BaseDirectory, "Molt.Handoff.Child.dll");

    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly ConcurrentQueue<string> _output = new();

    private HandoffChild(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Collect(e.Data, stdout: true);
        _process.ErrorDataReceived += (_, e) => Collect(e.Data, stdout: false);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    /// <summary>Everything it printed so far, for failure messages.</summary>
    public string Output => string.Join("\n", _output);

    /// <summary>Starts the child plainly, or with a hand-off channel end it inherits.</summary>
    public static HandoffChild Start(HandoffChildEnd? end, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(ChildDll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        return new HandoffChild(end is null ? Process.Start(start)! : end.Start(start));
    }

    /// <summary>Waits for a line of its standard output that starts with <paramref name="prefix"/>.</summary>
    public async Task<string> WaitForLineAsync(string prefix)
    {
        using var deadline = new CancellationTokenSource(Patience);
        try
        {
            while (true)
            {
                var line = await _lines.Reader.ReadAsync(deadline.Token);
                if (line.StartsWith(prefix, StringComparison.Ordinal))
                {
                    return line;
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The child printed no line starting with '{prefix}' within {Patience}:\n{Output}");
        }
    }

    /// <summary>Its exit code, waiting at most <see cref="Patience"/>.</summary>
    public async Task<int> ExitCodeAsync()
    {
        using var deadline = new CancellationTokenSource(Patience);
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The child did not exit within {Patience}:\n{Output}");
        }
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        _process.Dispose();
    }

    private void Collect(string? line, bool stdout)
    {
        if (line is null)
        {
            return;
        }
        _output.Enqueue(stdout ? line : "stderr: " + line);
        if (stdout)
        {
            _lines.Writer.TryWrite(line);
        }
    }
}
