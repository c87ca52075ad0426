using System.Diagnostics;
using System.Text.RegularExpressions;
using Kv.Demo;
using Molt.Hosting;
using Xunit.Abstractions;

namespace Kv.Tests;

/// <summary>
/// Clients inside MULTI, and clients WATCHing keys, when kv is updated (v2 -> v3, in process or to a new process under
/// <c>molt run</c>) or rolled back (v3 -> v2), each on a
/// connection of its own (some in RESP3, chosen with HELLO 3 before the update). The same script runs against
/// redis-server, with no update, and every reply of kv's must be byte for byte Redis's: the queued commands run after the
/// update, in the new version, as one EXEC; a watched key modified (or expired) across the update aborts the EXEC; a
/// transaction refused before the update answers EXECABORT after it; the protocol a connection chose crossed with it.
/// </summary>
[Collection(KvCollection.Name)]
public partial class TransactionsAcrossUpdateTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ClientsInMultiAndWatching_CrossAnUpdateV2ToV3_AnsweredAsRedisAnswers()
    {
        var expected = await RunOnRedisServerAsync();
        await using var host = await MoltHost.StartAsync(Path.Combine(KvProcesses.VersionDirectory(2), "Kv.dll"), ["--port", "0"]);
        var port = HostedKvServer.ReadPort(host);

        var seen = await RunScriptAsync(port, versionAfter: 3, async () => Committed(await host.UpdateAsync(Path.Combine(KvProcesses.VersionDirectory(3), "Kv.dll"))));

        Assert.Equal(expected, seen);
    }

    [Fact]
    public async Task ClientsInMultiAndWatching_CrossARollbackV3ToV2_AnsweredAsRedisAnswers()
    {
        var expected = await RunOnRedisServerAsync();
        await using var host = await MoltHost.StartAsync(Path.Combine(KvProcesses.VersionDirectory(2), "Kv.dll"), ["--port", "0"]);
        var port = HostedKvServer.ReadPort(host);
        var forward = await host.UpdateAsync(Path.Combine(KvProcesses.VersionDirectory(3), "Kv.dll"));
        Assert.True(forward.Outcome == UpdateOutcome.Committed, forward.ToString());

        var seen = await RunScriptAsync(port, versionAfter: 2, async () => Committed(await host.RollbackAsync()));

        Assert.Equal(expected, seen);
    }

    [Fact]
    public async Task ClientsInMultiAndWatching_CrossAProcessUpdateV2ToV3_AnsweredAsRedisAnswers()
    {
        var expected = await RunOnRedisServerAsync();
        await using var kv = await MoltRunKvServer.StartAsync(KvScenarioOptions.MoltCliBeside, Path.Combine(KvProcesses.VersionDirectory(2), "Kv.dll"),
            [], TimeSpan.FromSeconds(60), CancellationToken.None);
        var before = await kv.ServingProcessIdAsync(CancellationToken.None);

        var seen = await RunScriptAsync(kv.Port, versionAfter: 3, async () =>
        {
            var result = await kv.UpdateAsync(Path.Combine(KvProcesses.VersionDirectory(3), "Kv.dll"), UpdateMechanism.NewProcess, CancellationToken.None);
            output.WriteLine($"update: {result.Outcome} by {result.Mechanism}");
            Assert.True(result.Outcome == nameof(UpdateOutcome.Committed), $"{result}\n{kv.Output}");
        });

        Assert.NotEqual(before, await kv.ServingProcessIdAsync(CancellationToken.None));

        Assert.Equal(expected, seen);
    }

    private async Task<List<string>> RunOnRedisServerAsync()
    {
        await using var redis = await KvProcesses.StartRedisServerAsync();
        return await RunScriptAsync(redis.Port, versionAfter: 0, () => Task.CompletedTask);
    }

    private void Committed(UpdateResult result)
    {
        output.WriteLine($"update: {result.Outcome}");
        Assert.True(result.Outcome == UpdateOutcome.Committed, result.ToString());
    }

    /// <summary>
    /// The script: six clients open transactions or watch keys, <paramref name="update"/> runs (on kv; nothing on
    /// redis-server), then each EXECs. Returns every reply, prefixed by its client and command; HELLO's id and version are the
    /// server's own, so they are left out. On kv, each client is checked to be the same connection, served by <paramref name="versionAfter"/>.
    /// </summary>
    private async Task<List<string>> RunScriptAsync(int port, int versionAfter, Func<Task> update)
    {
        var transcript = new List<string>();
        await using var other = await RespConnection.ConnectAsync(port);
        await using var queued = await RespConnection.ConnectAsync(port);
        await using var watchTouchedAfter = await RespConnection.ConnectAsync(port);
        await using var watchTouchedBefore = await RespConnection.ConnectAsync(port);
        await using var watchKept = await RespConnection.ConnectAsync(port);
        await using var watchExpired = await RespConnection.ConnectAsync(port);
        await using var refused = await RespConnection.ConnectAsync(port);
        RespConnection[] clients = [queued, watchTouchedAfter, watchTouchedBefore, watchKept, watchExpired, refused];
        string[] names = ["queued", "watch-touched-after", "watch-touched-before", "watch-kept", "watch-expired", "refused"];
        async Task Run(RespConnection client, params string[] command)
        {
            var name = client == other ? "other" : names[Array.IndexOf(clients, client)];
            var reply = await client.CommandAsync(command);
            transcript.Add($"{name}: {string.Join(' ', command)} -> {(command[0] == "HELLO" ? WithoutServerIdentity(reply) : reply)}");
        }

        await Run(other, "FLUSHALL");
        await Run(other, "SET", "counter", "10");
        await Run(other, "RPUSH", "list", "x");
        await Run(other, "MSET", "w1", "a", "w2", "a", "w3", "a");
        await Run(other, "SET", "w4", "a", "PX", "3000");
        var ids = new List<string>();
        foreach (var client in clients)
        {
            ids.Add(await client.CommandAsync("CLIENT", "ID"));
        }

        // In RESP3: commands queued before the update, answered by EXEC after it (the null and the map in RESP3's types).
        await Run(queued, "HELLO", "3");
        await Run(queued, "MULTI");
        await Run(queued, "INCR", "counter");
        await Run(queued, "LPUSH", "list", "y");
        await Run(queued, "LRANGE", "list", "0", "-1");
        await Run(queued, "HGETALL", "nohash");
        await Run(queued, "GET", "nokey");
        await Run(queued, "BLPOP", "nolist", "0");
        await Run(queued, "LPOP", "counter");
        // A watched key modified after the update, by another client, in the new version (RESP3: the aborted EXEC is `_`).
        await Run(watchTouchedAfter, "HELLO", "3");
        await Run(watchTouchedAfter, "WATCH", "w1");
        await Run(watchTouchedAfter, "MULTI");
        await Run(watchTouchedAfter, "SET", "w1", "mine");
        // A watched key modified before the update: the touch crosses it.
        await Run(watchTouchedBefore, "WATCH", "w2");
        await Run(other, "SET", "w2", "theirs");
        await Run(watchTouchedBefore, "MULTI");
        await Run(watchTouchedBefore, "SET", "w2", "mine");
        // A watched key nobody modifies: the EXEC after the update runs, in RESP3.
        await Run(watchKept, "HELLO", "3");
        await Run(watchKept, "WATCH", "w3");
        await Run(watchKept, "MULTI");
        await Run(watchKept, "SET", "w3", "mine");
        await Run(watchKept, "GET", "nokey");
        // A watched key with a TTL that passes after the update.
        await Run(watchExpired, "WATCH", "w4");
        await Run(watchExpired, "MULTI");
        await Run(watchExpired, "PING");
        // A transaction refused before the update (a command with the wrong number of arguments).
        await Run(refused, "MULTI");
        await Run(refused, "SET", "refused", "1");
        await Run(refused, "GET");

        await update();

        await Run(queued, "EXEC");
        await Run(other, "SET", "w1", "theirs");
        await Run(watchTouchedAfter, "EXEC");
        await Run(watchTouchedAfter, "GET", "w1");
        await Run(watchTouchedBefore, "EXEC");
        await Run(watchTouchedBefore, "GET", "w2");
        await Run(watchKept, "EXEC");
        await Run(watchKept, "GET", "w3");
        await WaitUntilGoneAsync(other, "w4");
        await Run(watchExpired, "EXEC");
        await Run(refused, "EXEC");
        await Run(refused, "EXISTS", "refused");
        // Outside MULTI, the watches are gone with the EXECs: a write now aborts nothing.
        await Run(watchTouchedAfter, "MULTI");
        await Run(other, "SET", "w1", "again");
        await Run(watchTouchedAfter, "GET", "w1");
        await Run(watchTouchedAfter, "EXEC");

        if (versionAfter > 0)
        {
            for (var i = 0; i < clients.Length; i++)
            {
                Assert.Equal(ids[i], await clients[i].CommandAsync("CLIENT", "ID"));
                Assert.Contains($"kv_version:{versionAfter}", await clients[i].CommandAsync("INFO", "server"), StringComparison.Ordinal);
            }
        }
        foreach (var line in transcript)
        {
            output.WriteLine(line.ReplaceLineEndings("\\r\\n"));
        }
        return transcript;
    }

    /// <summary>Polls (bounded) until <paramref name="key"/> is gone: its TTL passed.</summary>
    private static async Task WaitUntilGoneAsync(RespConnection client, string key)
    {
        var deadline = Stopwatch.GetTimestamp() + 20 * Stopwatch.Frequency;
        while (await client.CommandAsync("EXISTS", key) != ":0\r\n")
        {
            Assert.True(Stopwatch.GetTimestamp() < deadline, $"{key} did not expire");
            await Task.Delay(50);
        }
    }

    /// <summary>HELLO's reply without the values that are the server's own: its id for the client, its version.</summary>
    private static string WithoutServerIdentity(string reply) => HelloIdentity().Replace(reply, "$1$2…\r\n");

    [GeneratedRegex(@"(\$2\r\nid\r\n):\d+\r\n|(\$7\r\nversion\r\n)\$\d+\r\n[^\r]*\r\n")]
    private static partial Regex HelloIdentity();
}
