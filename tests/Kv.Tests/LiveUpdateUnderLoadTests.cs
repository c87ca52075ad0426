using Kv.Demo;
using Molt.Hosting;
using Xunit.Abstractions;

namespace Kv.Tests;

/// <summary>
/// The proof, through the demo's own scenario: kv v1 under Molt, keys loaded with the Python client,
/// redis-benchmark and a Python writer running during every update v1 -> v2 -> v3, a rollback v3 -> v2 under the
/// same load, then v2 -> v3 -> v4 -> v5 -> v6; one connection opened to v1 kept to the end; after each step every key
/// read back with its value, type and TTL.
/// </summary>
[Collection(KvCollection.Name)]
public class LiveUpdateUnderLoadTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task KvServer_UpdatedLiveThroughSixVersionsAndRolledBack_UnderLoad_LosesNothing(bool keepOldCode)
    {
        var report = await new KvScenario(Options(output) with
        {
            // With old code kept loaded (tiered by the runtime), the old release's state, not its code, is what must be collected.
            KeepOldCode = keepOldCode,
        }).RunAsync();

        AssertLostNothing(report, output, ["v1 -> v2", "v2 -> v3", "rollback v3 -> v2", "v2 -> v3", "v3 -> v4", "v4 -> v5", "v5 -> v6"]);
    }

    /// <summary>
    /// Release 6 changes commands only, its state types v5's: v5 loaded with keys of every type (strings, lists, hashes,
    /// sets; every tenth with a TTL) is updated live to v6 under redis-benchmark's load and a writer of every type; then
    /// every key is read back with its type, value and TTL, and v6's new commands read them on the connection opened to v5.
    /// </summary>
    [Fact]
    public async Task KvServer_UpdatedLiveFromV5ToV6_UnderLoad_KeepsKeysOfEveryType()
    {
        var report = await new KvScenario(Options(output) with { Releases = ["v5", "v6"], RollBackAfter = null }).RunAsync();

        AssertLostNothing(report, output, ["v5 -> v6"]);
        Assert.Contains(report.Steps[0].Checks, c => c.Name.StartsWith("v6's commands read the keys the updates carried", StringComparison.Ordinal) && c.Passed);
    }

    /// <summary>
    /// Release 7 has sixteen databases, a new build of the keyspace's library: v6 loaded with keys of every type (every
    /// tenth with a TTL) is updated live to v7 under redis-benchmark's load and a writer of every type, its keyspace rebuilt
    /// into database 0; then every key is read back (in database 0) with its type, value and TTL.
    /// </summary>
    [Fact]
    public async Task KvServer_UpdatedLiveFromV6ToV7_UnderLoad_KeepsEveryKeyInDatabaseZero()
    {
        var report = await new KvScenario(Options(output) with { Releases = ["v6", "v7"], RollBackAfter = null }).RunAsync();

        AssertLostNothing(report, output, ["v6 -> v7"]);
        Assert.Empty(report.Steps[0].Result!.SharedLibraries);
    }

    /// <summary>The scenario's settings shared by the kv live-update tests: bounded counts and deadlines.</summary>
    internal static KvScenarioOptions Options(ITestOutputHelper output) => new()
    {
        Keys = 10_000,
        KeysPerNewType = 1_000,
        // Long enough that the update always falls inside the load on a busy 2-core machine.
        LoadPerStep = TimeSpan.FromSeconds(3),
        TimeLimit = TimeSpan.FromMinutes(5),
        Log = output.WriteLine,
    };

    /// <summary>
    /// Every step committed under load with no client error, the connections opened to v1 kept with their names, and every
    /// key written so far read back with its value, type and TTL; the old version (or its state) gone after each step.
    /// </summary>
    internal static void AssertLostNothing(KvReport report, ITestOutputHelper output, string[] steps)
    {
        output.WriteLine(report.Summary());

        Assert.True(report.Succeeded, report.Summary());
        Assert.Equal(steps, report.Steps.Select(s => s.Name));
        Assert.All(report.Steps, s => Assert.Equal(nameof(UpdateOutcome.Committed), s.Result?.Outcome));
        Assert.All(report.Steps, s => Assert.Empty(s.ClientErrors));
        Assert.All(report.Steps, s => Assert.True(s.LoadThroughoutUpdate, $"{s.Name}: the load was not running throughout the update"));
        Assert.All(report.Steps, s => Assert.True(s.WriterAcknowledged > 0, $"{s.Name}: the writer wrote nothing"));
        Assert.All(report.Steps, s => Assert.Empty(s.StateProblems));
        // Every key loaded and every write acknowledged so far, read back after each step, and more after each.
        Assert.All(report.Steps, s => Assert.True(s.KeysVerified >= report.KeysLoaded, $"{s.Name}: {s.KeysVerified} keys checked"));
        Assert.All(report.Steps, s => Assert.All(s.Checks, c => Assert.True(c.Passed, $"{s.Name}: {c.Name}")));
        // The connection named with CLIENT SETNAME and the 200 idle connections opened to v1, each a unit of the server, were checked after every step.
        Assert.All(report.Steps, s => Assert.Contains(s.Checks, c => c.Name.StartsWith("the connection opened to v1 is the same connection", StringComparison.Ordinal)));
        Assert.All(report.Steps, s => Assert.Contains(s.Checks, c => c.Name.StartsWith("its name set with CLIENT SETNAME is kept", StringComparison.Ordinal)));
        Assert.All(report.Steps, s => Assert.Contains(s.Checks, c => c.Name.StartsWith("the 200 other connections opened to v1", StringComparison.Ordinal)));
        Assert.All(report.Steps, s => Assert.True(s.Result!.OldVersionUnloaded, string.Join(" ", s.Result.Warnings)));
    }
}
