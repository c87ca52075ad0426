using Kv.Demo;
using Molt.Hosting;
using Xunit.Abstractions;

namespace Kv.Tests;

/// <summary>
/// The proof, through the demo's own scenario: kv v1 under Molt, keys loaded with the Python client,
/// redis-benchmark and a Python writer running during every update v1 -> v2 -> v3, a rollback v3 -> v2 under the
/// same load, then v2 -> v3 -> v4 -> v5; one connection opened to v1 kept to the end; after each step every key
/// read back with its value, type and TTL.
/// </summary>
[Collection(KvCollection.Name)]
public class LiveUpdateUnderLoadTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task KvServer_UpdatedLiveThroughFiveVersionsAndRolledBack_UnderLoad_LosesNothing(bool keepOldCode)
    {
        var report = await new KvScenario(new KvScenarioOptions
        {
            // With old code kept loaded (tiered by the runtime), the old release's state, not its code, is what must be collected.
            KeepOldCode = keepOldCode,
            Keys = 10_000,
            KeysPerNewType = 1_000,
            // Long enough that the update always falls inside the load on a busy 2-core machine.
            LoadPerStep = TimeSpan.FromSeconds(3),
            TimeLimit = TimeSpan.FromMinutes(5),
            Log = output.WriteLine,
        }).RunAsync();
        output.WriteLine(report.Summary());

        Assert.True(report.Succeeded, report.Summary());
        Assert.Equal(["v1 -> v2", "v2 -> v3", "rollback v3 -> v2", "v2 -> v3", "v3 -> v4", "v4 -> v5"], report.Steps.Select(s => s.Name));
        Assert.All(report.Steps, s => Assert.Equal(UpdateOutcome.Committed, s.Result?.Outcome));
        Assert.All(report.Steps, s => Assert.Empty(s.ClientErrors));
        Assert.All(report.Steps, s => Assert.True(s.LoadThroughoutUpdate, $"{s.Name}: the load was not running throughout the update"));
        Assert.All(report.Steps, s => Assert.True(s.WriterAcknowledged > 0, $"{s.Name}: the writer wrote nothing"));
        Assert.All(report.Steps, s => Assert.Empty(s.StateProblems));
        // Every key loaded and every write acknowledged so far, read back after each step, and more after each.
        Assert.All(report.Steps, s => Assert.True(s.KeysVerified >= report.KeysLoaded, $"{s.Name}: {s.KeysVerified} keys checked"));
        Assert.All(report.Steps, s => Assert.All(s.Checks, c => Assert.True(c.Passed, $"{s.Name}: {c.Name}")));
        // The 200 idle connections opened to v1, each a unit of the server, were checked after every step.
        Assert.All(report.Steps, s => Assert.Contains(s.Checks, c => c.Name.StartsWith("the 200 other connections opened to v1", StringComparison.Ordinal)));
        Assert.All(report.Steps, s => Assert.True(s.Result!.OldVersionUnloaded, string.Join(" ", s.Result.Warnings)));
    }
}
