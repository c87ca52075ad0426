using System.Globalization;
using Kv.Demo;
using Molt.Hosting;
using Xunit.Abstractions;

namespace Kv.Tests;

/// <summary>
/// Release 7 has sixteen databases: a new build of the keyspace's library (Kv.State 7.0.0), so the update from v6 (which
/// ships 5.0.0) rebuilds the keyspace, and its transformer puts v6's one database into database 0, every key with its
/// value and deadline. The rollback v7 -> v6 is refused: v6 has no place for the databases, and would lose the keys of
/// databases 1 to 15 (and everything, had it gone back with its own empty keyspace); v7 serves on.
/// </summary>
[Collection(KvCollection.Name)]
public class DatabasesReleaseTests(ITestOutputHelper output)
{
    private const int Keys = 3000;

    [Fact]
    public void V7_ShipsANewBuildOfTheKeyspaceLibrary()
    {
        Assert.Equal(new Version(5, 0, 0, 0), LibraryVersion(6));
        Assert.Equal(new Version(7, 0, 0, 0), LibraryVersion(7));
    }

    [Fact]
    public async Task V6ToV7_Live_PutsEveryKeyIntoDatabaseZero_EachDatabaseThenHoldsItsOwn_AndTheRollbackIsRefused()
    {
        var versions = Path.Combine(AppContext.BaseDirectory, "versions");
        var script = Path.Combine(AppContext.BaseDirectory, "clients", "kv_data.py");
        await using var host = await MoltHost.StartAsync(Path.Combine(versions, "v6", "Kv.dll"), ["--port", "0"]);
        var port = HostedKvServer.ReadPort(host);
        // Every type, every 10th key with a TTL of about an hour: 300 deadlines.
        string[] dataset = ["--port", port.ToString(CultureInfo.InvariantCulture), "--prefix", "d:", "--keys", Keys.ToString(CultureInfo.InvariantCulture),
            "--types", "string,list,hash,set", "--ttl-every", "10"];
        await using (var load = await ExternalTool.RunScriptAsync(script, ["load", .. dataset], TimeSpan.FromSeconds(60), default))
        {
            Assert.True(load.ExitCode == 0, load.Output + load.Errors);
        }
        await using var client = await RespConnection.ConnectAsync(port);
        await using var other = await RespConnection.ConnectAsync(port);
        await using var blocked = await RespConnection.ConnectAsync(port);
        await using var watcher = await RespConnection.ConnectAsync(port);
        // v6 has database 0 only.
        Assert.Equal("+OK\r\n", await client.CommandAsync("SELECT", "0"));
        Assert.Equal("-ERR DB index is out of range\r\n", await client.CommandAsync("SELECT", "3"));
        Assert.Equal("+OK\r\n", await watcher.CommandAsync("SET", "w", "1"));
        Assert.Equal("+OK\r\n", await watcher.CommandAsync("WATCH", "w"));
        var pop = blocked.CommandAsync("BLPOP", "q", "0");
        await WaitBlockedAsync(other, 1);

        var forward = await host.UpdateAsync(Path.Combine(versions, "v7", "Kv.dll"));
        output.WriteLine(forward.ToString());
        Assert.True(forward.Outcome == UpdateOutcome.Committed && forward.OldVersionUnloaded == true, forward.ToString());
        Assert.Empty(forward.SharedLibraries); // A new build of Kv.State: the keyspace is rebuilt, not shared.
        Assert.Empty(forward.Warnings); // The transformer read every static of v6's keyspace.
        Assert.Contains("kv_version:7", await other.CommandAsync("INFO", "server"), StringComparison.Ordinal);

        // The client blocked in v6 waits on q of database 0: a push to q of database 3 does not serve it, one to database 0 does.
        Assert.Equal("+OK\r\n", await client.CommandAsync("SELECT", "3"));
        Assert.Equal(":1\r\n", await client.CommandAsync("RPUSH", "q", "three"));
        Assert.Equal(1, await BlockedClientsAsync(other));
        Assert.Equal(":1\r\n", await other.CommandAsync("RPUSH", "q", "zero"));
        Assert.Equal("*2\r\n$1\r\nq\r\n$4\r\nzero\r\n", await pop);

        // Every key of v6 is in database 0, with its value and TTL; the other databases were empty.
        await VerifyAsync(script, dataset);
        var keyspace = await other.CommandAsync("INFO", "keyspace");
        output.WriteLine(keyspace);
        Assert.Contains($"db0:keys={Keys + 1},expires={Keys / 10},avg_ttl=0\r\n", keyspace, StringComparison.Ordinal);
        Assert.Contains("db3:keys=1,expires=0,avg_ttl=0\r\n", keyspace, StringComparison.Ordinal);
        Assert.Equal(2, keyspace.Split("\r\ndb", StringSplitOptions.None).Length - 1);

        // Database 3, selected on a connection v6 accepted, holds what is written into it, apart from database 0.
        Assert.Equal("+OK\r\n", await client.CommandAsync("SET", "d:0", "in three", "EX", "1000"));
        Assert.Equal("$8\r\nin three\r\n", await client.CommandAsync("GET", "d:0"));
        Assert.Equal(":2\r\n", await client.CommandAsync("DBSIZE"));
        Assert.Matches("^:(1000|999)\r\n$", await client.CommandAsync("TTL", "d:0"));
        Assert.Equal($":{Keys + 1}\r\n", await other.CommandAsync("DBSIZE"));
        Assert.Equal(":1\r\n", await client.CommandAsync("MOVE", "q", "9"));
        Assert.Equal("+OK\r\n", await other.CommandAsync("SELECT", "9"));
        Assert.Equal("*1\r\n$5\r\nthree\r\n", await other.CommandAsync("LRANGE", "q", "0", "-1"));
        Assert.Equal("+OK\r\n", await other.CommandAsync("SELECT", "0"));

        // The watch made in v6 is on w of database 0, untouched: the transaction runs.
        Assert.Equal("+OK\r\n", await client.CommandAsync("SET", "w", "in three"));
        Assert.Equal("+OK\r\n", await watcher.CommandAsync("MULTI"));
        Assert.Equal("+QUEUED\r\n", await watcher.CommandAsync("GET", "w"));
        Assert.Equal("*1\r\n$1\r\n1\r\n", await watcher.CommandAsync("EXEC"));

        // Going back to v6 would lose databases 3 and 9 (v6 has no place for them): refused, and v7 serves on, every
        // connection in the database it selected.
        var back = await host.RollbackAsync();
        output.WriteLine(back.ToString());
        Assert.Equal(UpdateOutcome.RolledBack, back.Outcome);
        Assert.Equal(UpdatePhase.Transfer, back.Failure!.Phase);
        Assert.StartsWith("Going back to an older version would lose state: static Kv.Store.Databases (a Kv.Database[] of 16) has no place",
            back.Failure.Message, StringComparison.Ordinal);
        Assert.Equal(forward.To, host.Version);
        Assert.Equal("$8\r\nin three\r\n", await client.CommandAsync("GET", "d:0"));
        Assert.Contains("db9:keys=1,", await other.CommandAsync("INFO", "keyspace"), StringComparison.Ordinal);
        await VerifyAsync(script, dataset);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task V7ToV7_SixteenDatabasesCross_EachWithItsKeysAndDeadlines_AndEveryConnectionItsDatabase(bool shareLibraries)
    {
        // The same build of release 7, once with every library loaded per version (the keyspace rebuilt: each database is
        // transferred with its shards and expiry index) and once shared (the keyspace passes by reference).
        var release = Path.Combine(AppContext.BaseDirectory, "versions", "v7", "Kv.dll");
        await using var host = await MoltHost.StartAsync(release, ["--port", "0"], new MoltHostOptions { ShareLibraries = shareLibraries });
        var port = HostedKvServer.ReadPort(host);
        var connections = new List<RespConnection>();
        try
        {
            for (var db = 0; db < 16; db++)
            {
                var connection = await RespConnection.ConnectAsync(port);
                connections.Add(connection);
                Assert.Equal("+OK\r\n", await connection.CommandAsync("SELECT", db.ToString(CultureInfo.InvariantCulture)));
                // Database n holds n + 1 strings, every other one with a deadline, and a list.
                for (var i = 0; i <= db; i++)
                {
                    string[] set = i % 2 == 0 ? ["SET", $"k{i}", $"db{db}-{i}", "EX", "5000"] : ["SET", $"k{i}", $"db{db}-{i}"];
                    Assert.Equal("+OK\r\n", await connection.CommandAsync(set));
                }
                Assert.Equal(":1\r\n", await connection.CommandAsync("RPUSH", "list", $"of-{db}"));
            }
            var before = await connections[0].CommandAsync("INFO", "keyspace");

            var result = await host.UpdateAsync(release);

            output.WriteLine(result.ToString());
            Assert.True(result.Outcome == UpdateOutcome.Committed && result.OldVersionUnloaded == true, result.ToString());
            Assert.Equal(shareLibraries ? ["Kv.State 7.0.0"] : [], result.SharedLibraries);
            // Rebuilt: at least a value, an entry and a key's string per key of the 16 databases (152 strings, 16 lists).
            Assert.True(shareLibraries ? result.ObjectsRebuilt < 200 : result.ObjectsRebuilt > 300, result.ToString());
            Assert.Equal(before, await connections[0].CommandAsync("INFO", "keyspace"));
            for (var db = 0; db < 16; db++)
            {
                // The same connection, still in its database: its keys, values and deadlines.
                var connection = connections[db];
                Assert.Equal($":{db + 2}\r\n", await connection.CommandAsync("DBSIZE"));
                var value = $"db{db}-0";
                Assert.Equal($"${value.Length}\r\n{value}\r\n", await connection.CommandAsync("GET", "k0"));
                Assert.Matches("^:(5000|499[0-9])\r\n$", await connection.CommandAsync("TTL", "k0"));
                if (db >= 1)
                {
                    Assert.Equal(":-1\r\n", await connection.CommandAsync("TTL", "k1"));
                }
                Assert.Equal($"*1\r\n${$"of-{db}".Length}\r\nof-{db}\r\n", await connection.CommandAsync("LRANGE", "list", "0", "-1"));
            }
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    private async Task VerifyAsync(string script, string[] dataset)
    {
        await using var verify = await ExternalTool.RunScriptAsync(script, ["verify", .. dataset], TimeSpan.FromSeconds(60), default);
        output.WriteLine(verify.Output);
        Assert.True(verify.ExitCode == 0, verify.Output + verify.Errors);
        Assert.Contains($"\"checked\": {Keys}", verify.Output, StringComparison.Ordinal);
    }

    /// <summary>INFO's blocked_clients.</summary>
    private static async Task<int> BlockedClientsAsync(RespConnection connection)
    {
        var info = await connection.CommandAsync("INFO", "clients");
        var at = info.IndexOf("blocked_clients:", StringComparison.Ordinal) + "blocked_clients:".Length;
        return int.Parse(info.AsSpan(at, info.IndexOf('\r', at) - at), CultureInfo.InvariantCulture);
    }

    private static async Task WaitBlockedAsync(RespConnection connection, int count)
    {
        for (var attempt = 0; attempt < 200 && await BlockedClientsAsync(connection) != count; attempt++)
        {
            await Task.Delay(50);
        }
        Assert.Equal(count, await BlockedClientsAsync(connection));
    }

    /// <summary>The assembly version of the keyspace's library that release <paramref name="release"/> ships.</summary>
    private static Version LibraryVersion(int release) =>
        System.Reflection.AssemblyName.GetAssemblyName(Path.Combine(KvProcesses.VersionDirectory(release), "Kv.State.dll")).Version!;
}
