using Kv.Demo;
using Molt.Hosting;
using Xunit.Abstractions;

namespace Kv.Tests;

/// <summary>
/// The same scenario as <see cref="LiveUpdateUnderLoadTests"/>, with kv under <c>molt run</c> and updated with
/// <c>molt update --process</c>: each update starts the next release in a new process, which receives the keys, the
/// listener and every open connection; the old process exits. Checked after each step besides everything the in-process
/// scenario checks: <c>molt status</c> names the new process the update named (mechanism NewProcess), and the old
/// process no longer exists.
/// </summary>
[Collection(KvCollection.Name)]
public class ProcessUpdateUnderLoadTests(ITestOutputHelper output)
{
    private static readonly string[] FiveUpdates = ["v1 -> v2", "v2 -> v3", "v3 -> v4", "v4 -> v5", "v5 -> v6"];

    [Fact]
    public async Task KvServer_UpdatedAcrossProcessesThroughSixVersions_UnderLoad_LosesNothing()
    {
        var report = await RunAsync([UpdateMechanism.NewProcess]);

        LiveUpdateUnderLoadTests.AssertLostNothing(report, output, FiveUpdates);
        AssertServedBy(report, [UpdateMechanism.NewProcess, UpdateMechanism.NewProcess, UpdateMechanism.NewProcess, UpdateMechanism.NewProcess, UpdateMechanism.NewProcess]);
    }

    [Fact]
    public async Task KvServer_UpdatedInProcessAndAcrossProcessesInTurn_UnderLoad_LosesNothing()
    {
        UpdateMechanism[] inTurn = [UpdateMechanism.InProcess, UpdateMechanism.NewProcess, UpdateMechanism.InProcess, UpdateMechanism.NewProcess, UpdateMechanism.InProcess];
        var report = await RunAsync(inTurn);

        LiveUpdateUnderLoadTests.AssertLostNothing(report, output, FiveUpdates);
        AssertServedBy(report, inTurn);
    }

    /// <summary>v6 -> v7 to a new process: the keyspace of Kv.State 5.0.0 written, read as 7.0.0's, and put into database 0 there.</summary>
    [Fact]
    public async Task KvServer_UpdatedAcrossProcessesFromV6ToV7_UnderLoad_KeepsEveryKeyInDatabaseZero()
    {
        var report = await RunAsync([UpdateMechanism.NewProcess], ["v6", "v7"]);

        LiveUpdateUnderLoadTests.AssertLostNothing(report, output, ["v6 -> v7"]);
        AssertServedBy(report, [UpdateMechanism.NewProcess]);
    }

    private Task<KvReport> RunAsync(UpdateMechanism[] mechanisms, IReadOnlyList<string>? releases = null)
    {
        var options = LiveUpdateUnderLoadTests.Options(output);
        return new KvScenario(options with
        {
            MoltCli = KvScenarioOptions.MoltCliBeside,
            Mechanisms = mechanisms,
            RollBackAfter = null,
            Releases = releases ?? options.Releases,
        }).RunAsync();
    }

    /// <summary>Each step ran by its mechanism: a new process after each update across processes (each a different one, the old one gone), the same one after each in process.</summary>
    private static void AssertServedBy(KvReport report, UpdateMechanism[] mechanisms)
    {
        Assert.Equal(mechanisms, report.Steps.Select(s => s.Mechanism));
        Assert.Equal(mechanisms.Select(m => m.ToString()), report.Steps.Select(s => s.Result!.Mechanism));
        foreach (var step in report.Steps)
        {
            if (step.Mechanism == UpdateMechanism.NewProcess)
            {
                Assert.NotEqual(step.ProcessBefore, step.ProcessAfter);
                Assert.Equal(step.ProcessAfter, step.Result!.NewProcessId);
                Assert.False(Directory.Exists($"/proc/{step.ProcessBefore}"), $"{step.Name}: the old process {step.ProcessBefore} still exists");
                Assert.Contains(step.Checks, c => c.Name.StartsWith($"the old process {step.ProcessBefore} is gone", StringComparison.Ordinal) && c.Passed);
            }
            else
            {
                Assert.Equal(step.ProcessBefore, step.ProcessAfter);
                Assert.Null(step.Result!.NewProcessId);
            }
        }
        // The process that served v1 never came back: every process update moved the program to a process it had never run in.
        var processes = report.Steps.Select(s => s.ProcessBefore).Append(report.Steps[^1].ProcessAfter).Distinct().Count();
        Assert.Equal(1 + mechanisms.Count(m => m == UpdateMechanism.NewProcess), processes);
    }
}
