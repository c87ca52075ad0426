using static Molt.Hosting.Tests.Updating.UpdatingTestKit;

namespace Molt.Hosting.Tests.Updating;

/// <summary>
/// A program updated again and again, back to an older version too, with failed updates in between: each update
/// starts from the state the last one left, clients keep their connections, and every old version is unloaded.
/// </summary>
[Collection(UpdatingCollection.Name)]
public class SuccessiveUpdateTests
{
    private static readonly string EchoV3 = SocketUnitTests.EchoSource("v3", "\"v3:\" + new string(line.Reverse().ToArray())");

    [Fact]
    public async Task SuccessiveUpdates_KeepConnectionsAndState_AndUnloadEveryOldVersion()
    {
        var v1 = TestPrograms.Build("Successive", "v1", SocketUnitTests.EchoV1);
        var v2 = TestPrograms.Build("Successive", "v2", SocketUnitTests.EchoV2);
        var v3 = TestPrograms.Build("Successive", "v3", EchoV3);
        await using var host = await StartAsync(v1);
        using var client = await LineClient.ConnectAsync(Call<int>(host, "Port"));
        Assert.Equal("v1:abc", await client.AskAsync("abc"));
        var ticks = Call<long>(host, "Ticks");

        // v1 -> v2 -> v3 -> v1 again: going back to an older version is just another update.
        var steps = new[] { (v2, "v2", "v2:ABC"), (v3, "v3", "v3:cba"), (v1, "v1", "v1:abc") };
        for (var i = 0; i < steps.Length; i++)
        {
            var (path, version, answer) = steps[i];
            await Eventually(() => Call<long>(host, "Ticks") > ticks + 5, $"the clock ticks before update {i + 1}");

            var result = await host.UpdateAsync(path);

            AssertCommitted(result);
            Assert.Equal(i, result.From.Generation);
            Assert.Equal(i + 1, result.To.Generation);
            Assert.Equal(i + 1, host.Version.Generation);
            Assert.Equal(version, Call<string>(host, "Version"));
            Assert.Equal(answer, await client.AskAsync("abc"));
            var now = Call<long>(host, "Ticks");
            Assert.True(now >= ticks, $"the clock went back from {ticks} to {now}");
            ticks = now;
            Assert.Equal("tick", Unit(host, "clock").ResumedFrom);
        }
        Assert.Equal(3, host.History.Count);
        Assert.All(host.History, r => Assert.True(r.OldVersionUnloaded == true, r.ToString()));
    }

    [Fact]
    public async Task FailedUpdates_BetweenGoodOnes_LeaveTheProgramServing_AndTheNextGoodUpdateCommits()
    {
        var v1 = TestPrograms.Build("SuccessiveFailing", "v1", SocketUnitTests.EchoV1);
        var badMain = TestPrograms.Build("SuccessiveFailing", "bad-main", SocketUnitTests.EchoSource("bad", "line",
            mainPrologue: """if (Live.IsUpdating) throw new InvalidOperationException("no");"""));
        var v2 = TestPrograms.Build("SuccessiveFailing", "v2", SocketUnitTests.EchoV2);
        var missing = Path.Combine(Path.GetDirectoryName(v2)!, "missing", "SuccessiveFailing.dll");
        var v3 = TestPrograms.Build("SuccessiveFailing", "v3", EchoV3);
        await using var host = await StartAsync(v1);
        using var client = await LineClient.ConnectAsync(Call<int>(host, "Port"));

        AssertRolledBack(await host.UpdateAsync(badMain), UpdatePhase.Restart);
        Assert.Equal("v1:x1", await client.AskAsync("x1"));

        AssertCommitted(await host.UpdateAsync(v2));
        Assert.Equal("v2:X2", await client.AskAsync("x2"));

        var refused = await host.UpdateAsync(missing);
        Assert.True(refused.Outcome == UpdateOutcome.Refused, refused.ToString());
        Assert.Equal(UpdatePhase.Prepare, refused.Failure!.Phase);
        Assert.Equal("v2:X3", await client.AskAsync("x3"));

        AssertRolledBack(await host.UpdateAsync(badMain), UpdatePhase.Restart);
        Assert.Equal("v2:X4", await client.AskAsync("x4"));

        AssertCommitted(await host.UpdateAsync(v3));
        Assert.Equal("v3:5x", await client.AskAsync("x5"));

        Assert.Equal([UpdateOutcome.RolledBack, UpdateOutcome.Committed, UpdateOutcome.Refused, UpdateOutcome.RolledBack, UpdateOutcome.Committed],
            host.History.Select(r => r.Outcome));
        Assert.Equal(2, host.Version.Generation);
        // One connection, accepted once, served by the same unit across every version.
        Assert.Equal(["accept", "clock", "conn-1", "hold"], host.Units.Select(u => u.Name));
    }
}
