using Kv.Demo;
using Molt.Hosting;
using Xunit.Abstractions;

namespace Kv.Tests;

/// <summary>
/// v4 restructured the keyspace into shards, which v3 cannot know of: rolling v4 back to v3 would leave every key
/// behind. Molt refuses to commit that — the update rolls back — and v4 goes on serving with every key.
/// </summary>
[Collection(KvCollection.Name)]
public class RollbackRefusedTests(ITestOutputHelper output)
{
    [Fact]
    public async Task RollbackFromTheShardedStore_WouldLoseTheKeyspace_IsRefusedAndV4ServesOn()
    {
        var versions = Path.Combine(AppContext.BaseDirectory, "versions");
        var script = Path.Combine(AppContext.BaseDirectory, "clients", "kv_data.py");
        await using var host = await MoltHost.StartAsync(Path.Combine(versions, "v3", "Kv.dll"), ["--port", "0"]);
        var port = HostedKvServer.ReadPort(host).ToString(System.Globalization.CultureInfo.InvariantCulture);
        string[] dataset = ["--port", port, "--prefix", "r:", "--keys", "3000", "--types", "string,list,hash"];
        await using (var load = await ExternalTool.RunScriptAsync(script, ["load", .. dataset], TimeSpan.FromSeconds(60), default))
        {
            Assert.True(load.ExitCode == 0, load.Output + load.Errors);
        }
        var forward = await host.UpdateAsync(Path.Combine(versions, "v4", "Kv.dll"));
        Assert.True(forward.Outcome == UpdateOutcome.Committed, forward.ToString());
        Assert.Empty(forward.Warnings);

        var back = await host.RollbackAsync();
        output.WriteLine(back.ToString());

        Assert.Equal(UpdateOutcome.RolledBack, back.Outcome);
        Assert.Equal(UpdatePhase.Transfer, back.Failure!.Phase);
        Assert.Contains("Going back to an older version would lose state: static Kv.Store.Shards", back.Failure.Message);
        Assert.Equal(forward.To, host.Version);
        await using var verify = await ExternalTool.RunScriptAsync(script, ["verify", .. dataset], TimeSpan.FromSeconds(60), default);
        output.WriteLine(verify.Output);
        Assert.True(verify.ExitCode == 0, verify.Output + verify.Errors);
        Assert.Contains("\"checked\": 3000", verify.Output);
    }
}
