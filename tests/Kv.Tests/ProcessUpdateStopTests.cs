using System.Diagnostics;
using System.Globalization;
using Kv.Demo;
using Molt.Hosting;

namespace Kv.Tests;

/// <summary>
/// A stop that reaches the new process of a process update before it serves (a terminal's Ctrl-C reaches every process;
/// molt run forwards stops to the new process from the commit on, while it still releases the old version) is carried
/// out once it serves: the program stops, and molt run with it.
/// </summary>
[Collection(KvCollection.Name)]
public class ProcessUpdateStopTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Sigterm_ToTheNewProcessBeforeItServes_StopsTheProgramOnceItServes()
    {
        await using var kv = await MoltRunKvServer.StartAsync(KvScenarioOptions.MoltCliBeside, Path.Combine(KvProcesses.VersionDirectory(1), "Kv.dll"),
            ["--restart-timeout", "30s"], Deadline, CancellationToken.None);
        var old = Assert.Single(kv.ProgramProcessIds());
        // The new process sleeps 3 s after it has received the state, before reading it: the window for the signal.
        var update = kv.UpdateAsync(Path.Combine(KvProcesses.VersionDirectory(2), "Kv.dll"), UpdateMechanism.NewProcess,
            ["--env", "MOLT_TEST_RECEIVE_DELAY_MS=3000"], CancellationToken.None);
        var successor = await NewProcessAsync(kv, old);
        // Both processes have quiesced (each logs it): the old one sends the state, the new one waits in the hook's sleep.
        await LoggedAsync(kv, "Update phase Quiesce done", times: 2);

        Signal(successor, "TERM");
        var result = await update;

        Assert.Equal(nameof(UpdateOutcome.Committed), result.Outcome);
        Assert.Equal(successor, result.NewProcessId);
        // The stop was the operator's: the new process carried it out once it served, and molt run ended with it, cleanly.
        var exitCode = await kv.WaitForExitAsync(Deadline);
        Assert.True(exitCode == 0, $"molt run {(exitCode is null ? "still ran" : $"exited with {exitCode}")} {Deadline.TotalSeconds} s after the update:\n{kv.Output}");
        Assert.Contains($"is stopping: stop requested", kv.Output, StringComparison.Ordinal);
    }

    /// <summary>The process molt run started beside <paramref name="old"/> for the update.</summary>
    private static async Task<int> NewProcessAsync(MoltRunKvServer kv, int old)
    {
        var until = Stopwatch.GetTimestamp() + Stopwatch.Frequency * (long)Deadline.TotalSeconds;
        while (Stopwatch.GetTimestamp() < until)
        {
            if (kv.ProgramProcessIds().FirstOrDefault(p => p != old) is var found and > 0)
            {
                return found;
            }
            await Task.Delay(20);
        }
        throw new TimeoutException($"No new process was started for the update within {Deadline.TotalSeconds} s:\n{kv.Output}");
    }

    /// <summary>Waits until molt run's log holds <paramref name="text"/> <paramref name="times"/> times.</summary>
    private static async Task LoggedAsync(MoltRunKvServer kv, string text, int times)
    {
        var until = Stopwatch.GetTimestamp() + Stopwatch.Frequency * (long)Deadline.TotalSeconds;
        while (kv.Output.Split(text).Length - 1 < times)
        {
            if (Stopwatch.GetTimestamp() > until)
            {
                throw new TimeoutException($"molt run did not log '{text}' {times} times within {Deadline.TotalSeconds} s:\n{kv.Output}");
            }
            await Task.Delay(20);
        }
    }

    private static void Signal(int pid, string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, pid.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }
}
