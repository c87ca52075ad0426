using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Kv.Demo;
using Molt.Hosting;
using Xunit.Abstractions;

namespace Kv.Tests;

/// <summary>
/// Clients blocked in BLPOP (and BLMOVE, BLMPOP) when kv is updated (v2 -> v3 in process, or in a new process under
/// <c>molt run</c>) or rolled back (v3 -> v2): each is Debian's redis-cli on its own socket. The one blocked for ever is served, on the same connection (the same CLIENT ID), by the
/// new version when another client pushes; the one with a 3 s timeout is answered nil 3 s after it blocked — its
/// remaining timeout crossed the update, it did not start again.
/// </summary>
[Collection(KvCollection.Name)]
public class BlockedClientsAcrossUpdateTests(ITestOutputHelper output)
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task ClientsBlockedInBlpop_CrossAnUpdateV2ToV3_ServedAndTimedOutByTheNewVersion()
    {
        KvProcesses.RequireTool("redis-cli");
        await using var host = await MoltHost.StartAsync(Path.Combine(KvProcesses.VersionDirectory(2), "Kv.dll"), ["--port", "0"]);
        var port = HostedKvServer.ReadPort(host);

        await BlockUpdateAndCheckAsync(port, 3, () => host.UpdateAsync(Path.Combine(KvProcesses.VersionDirectory(3), "Kv.dll")));
    }

    [Fact]
    public async Task ClientsBlockedInBlpop_CrossARollbackV3ToV2_ServedAndTimedOutByTheOlderVersion()
    {
        KvProcesses.RequireTool("redis-cli");
        await using var host = await MoltHost.StartAsync(Path.Combine(KvProcesses.VersionDirectory(2), "Kv.dll"), ["--port", "0"]);
        var port = HostedKvServer.ReadPort(host);
        // A client blocked in v2 crosses the update to v3 and the rollback, and is served by v2 again.
        await using var throughBoth = await BlockedClient.BlockAsync(port, "BLPOP both 0");
        await WaitForBlockedClientsAsync(port, 1);
        var forward = await host.UpdateAsync(Path.Combine(KvProcesses.VersionDirectory(3), "Kv.dll"));
        Assert.True(forward.Outcome == UpdateOutcome.Committed, forward.ToString());

        await BlockUpdateAndCheckAsync(port, 2, () => host.RollbackAsync(), alreadyBlocked: 1);

        Assert.Equal("1", await RedisCliAsync(port, "RPUSH", "both", "at-last"));
        Assert.Equal(["both", "at-last"], await throughBoth.ReadLinesAsync(2));
        Assert.Equal(throughBoth.Id, await throughBoth.CommandAsync("CLIENT ID"));
    }

    [Fact]
    public async Task ClientsBlockedInBlmoveAndBlmpop_CrossAnUpdateV2ToV3_ServedByV3OnTheSameConnection()
    {
        KvProcesses.RequireTool("redis-cli");
        await using var host = await MoltHost.StartAsync(Path.Combine(KvProcesses.VersionDirectory(2), "Kv.dll"), ["--port", "0"]);
        var port = HostedKvServer.ReadPort(host);
        Assert.Equal("1", await RedisCliAsync(port, "RPUSH", "dst", "old"));
        await using var mover = await BlockedClient.BlockAsync(port, "BLMOVE src dst RIGHT LEFT 0");
        await using var multi = await BlockedClient.BlockAsync(port, "BLMPOP 0 2 none m LEFT COUNT 2");
        await WaitForBlockedClientsAsync(port, 2);

        var result = await host.UpdateAsync(Path.Combine(KvProcesses.VersionDirectory(3), "Kv.dll"));
        output.WriteLine($"update: {result.Outcome}");
        Assert.True(result.Outcome == UpdateOutcome.Committed, result.ToString());
        Assert.Equal(2, BlockedClients(await RedisCliAsync(port, "INFO", "clients")));

        // v3 serves the move v2 blocked: the element pushed to the source lands at the destination's head, the client answered it.
        Assert.Equal("2", await RedisCliAsync(port, "RPUSH", "src", "a", "b"));
        Assert.Equal(["b"], await mover.ReadLinesAsync(1));
        Assert.Equal("b\nold", await RedisCliAsync(port, "LRANGE", "dst", "0", "-1"));
        Assert.Equal("a", await RedisCliAsync(port, "LRANGE", "src", "0", "-1"));
        Assert.Equal(mover.Id, await mover.CommandAsync("CLIENT ID"));
        Assert.Contains("kv_version:3", await mover.CommandLinesAsync("INFO server", "kv_version"));

        // And the BLMPOP with its count: two elements of m, as [key, [elements]] (redis-cli prints them a line each).
        Assert.Equal("3", await RedisCliAsync(port, "RPUSH", "m", "1", "2", "3"));
        Assert.Equal(["m", "1", "2"], await multi.ReadLinesAsync(3));
        Assert.Equal("3", await RedisCliAsync(port, "LRANGE", "m", "0", "-1"));
        Assert.Equal(multi.Id, await multi.CommandAsync("CLIENT ID"));
        Assert.Equal(0, BlockedClients(await RedisCliAsync(port, "INFO", "clients")));
    }

    [Fact]
    public async Task ClientsBlockedInBlpopAndBlmove_CrossAProcessUpdateV2ToV3_ServedByTheNewProcessOnTheSameConnection()
    {
        KvProcesses.RequireTool("redis-cli");
        await using var kv = await MoltRunKvServer.StartAsync(KvScenarioOptions.MoltCliBeside, Path.Combine(KvProcesses.VersionDirectory(2), "Kv.dll"),
            [], TimeSpan.FromSeconds(60), CancellationToken.None);
        var port = kv.Port;
        await using var popper = await BlockedClient.BlockAsync(port, "BLPOP q 0");
        await using var mover = await BlockedClient.BlockAsync(port, "BLMOVE src dst LEFT RIGHT 0");
        await WaitForBlockedClientsAsync(port, 2);
        var before = await kv.ServingProcessIdAsync(CancellationToken.None);

        var result = await kv.UpdateAsync(Path.Combine(KvProcesses.VersionDirectory(3), "Kv.dll"), UpdateMechanism.NewProcess, CancellationToken.None);
        output.WriteLine($"update: {result.Outcome} by {result.Mechanism} in {result.PauseMilliseconds:0} ms of pause");
        Assert.True(result.Outcome == nameof(UpdateOutcome.Committed), $"{result}\n{kv.Output}");
        var after = await kv.ServingProcessIdAsync(CancellationToken.None);
        Assert.NotEqual(before, after);
        Assert.Equal(after, result.NewProcessId);
        Assert.Equal(2, BlockedClients(await RedisCliAsync(port, "INFO", "clients")));

        // The new process serves both on the connections they blocked on in the old one.
        Assert.Equal("1", await RedisCliAsync(port, "RPUSH", "q", "hello"));
        Assert.Equal(["q", "hello"], await popper.ReadLinesAsync(2));
        Assert.Equal(popper.Id, await popper.CommandAsync("CLIENT ID"));
        Assert.Contains("kv_version:3", await popper.CommandLinesAsync("INFO server", "kv_version"));
        Assert.Equal("1", await RedisCliAsync(port, "LPUSH", "src", "moved"));
        Assert.Equal(["moved"], await mover.ReadLinesAsync(1));
        Assert.Equal("moved", await RedisCliAsync(port, "LRANGE", "dst", "0", "-1"));
        Assert.Equal(mover.Id, await mover.CommandAsync("CLIENT ID"));
        Assert.Equal(0, BlockedClients(await RedisCliAsync(port, "INFO", "clients")));
    }

    /// <summary>
    /// Blocks a client for ever on <c>q</c> and one for 3 s on <c>q2</c>, applies <paramref name="update"/> a second later, then
    /// checks both as the issue says: the first served by a push after the update, the second nil at its own deadline.
    /// </summary>
    private async Task BlockUpdateAndCheckAsync(int port, int versionAfter, Func<Task<UpdateResult>> update, int alreadyBlocked = 0)
    {
        await using var forever = await BlockedClient.BlockAsync(port, "BLPOP q 0");
        var beforeTimed = Stopwatch.GetTimestamp();
        await using var timed = await BlockedClient.BlockAsync(port, "BLPOP q2 3");
        await WaitForBlockedClientsAsync(port, alreadyBlocked + 2);
        var blocked = Stopwatch.GetTimestamp();
        await Task.Delay(TimeSpan.FromSeconds(1));

        var updateStarted = Stopwatch.GetTimestamp();
        var result = await update();
        var updated = Stopwatch.GetElapsedTime(updateStarted);
        output.WriteLine($"update: {result.Outcome} in {updated.TotalMilliseconds:0} ms");
        Assert.True(result.Outcome == UpdateOutcome.Committed, result.ToString());
        Assert.Equal(alreadyBlocked + 2, BlockedClients(await RedisCliAsync(port, "INFO", "clients")));

        // The client blocked for ever is served by the new version when another client pushes, on its connection.
        Assert.Equal("1", await RedisCliAsync(port, "LPUSH", "q", "hello"));
        Assert.Equal(["q", "hello"], await forever.ReadLinesAsync(2));
        Assert.Equal(forever.Id, await forever.CommandAsync("CLIENT ID"));
        Assert.Contains($"kv_version:{versionAfter}", await forever.CommandLinesAsync("INFO server", "kv_version"));

        // The client with a 3 s timeout is answered nil (redis-cli prints an empty line) 3 s after it blocked, not after the update.
        Assert.Equal([""], await timed.ReadLinesAsync(1));
        var answered = timed.LastLineAt;
        var sinceBlocking = Stopwatch.GetElapsedTime(beforeTimed, answered);
        var sinceBlocked = Stopwatch.GetElapsedTime(blocked, answered);
        var sinceUpdate = Stopwatch.GetElapsedTime(updateStarted, answered);
        output.WriteLine($"nil after {sinceBlocking.TotalMilliseconds:0} ms from its BLPOP, {sinceUpdate.TotalMilliseconds:0} ms from the update's start");
        Assert.True(sinceBlocking >= TimeSpan.FromMilliseconds(2990), $"nil after {sinceBlocking}: before its timeout");
        Assert.True(sinceBlocked <= TimeSpan.FromSeconds(4), $"nil {sinceBlocked} after it was seen blocked: its timeout was not kept");
        Assert.True(sinceUpdate < TimeSpan.FromSeconds(2.8), $"nil {sinceUpdate} after the update started: the timeout started again");
        Assert.Equal(timed.Id, await timed.CommandAsync("CLIENT ID"));
        Assert.Equal(alreadyBlocked, BlockedClients(await RedisCliAsync(port, "INFO", "clients")));
    }

    private static async Task WaitForBlockedClientsAsync(int port, int count)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(ReplyTimeout.TotalSeconds * Stopwatch.Frequency);
        int seen;
        while ((seen = BlockedClients(await RedisCliAsync(port, "INFO", "clients"))) != count)
        {
            Assert.True(Stopwatch.GetTimestamp() < deadline, $"{count} clients blocked expected, {seen} are");
            await Task.Delay(20);
        }
    }

    private static int BlockedClients(string info) =>
        int.Parse(info.Split('\n').Single(l => l.StartsWith("blocked_clients:", StringComparison.Ordinal))["blocked_clients:".Length..].Trim(), CultureInfo.InvariantCulture);

    /// <summary>One command with a redis-cli of its own; its output.</summary>
    private static async Task<string> RedisCliAsync(int port, params string[] command)
    {
        await using var tool = await ExternalTool.RunAsync("redis-cli", ["-p", port.ToString(CultureInfo.InvariantCulture), .. command], ReplyTimeout, default);
        Assert.True(tool.ExitCode == 0, tool.Output + tool.Errors);
        return tool.Output.TrimEnd('\n');
    }

    /// <summary>A redis-cli reading commands from its standard input, one connection for its whole life; its output lines as they come.</summary>
    private sealed class BlockedClient : IAsyncDisposable
    {
        private readonly ExternalTool _tool;
        private readonly Channel<(string Line, long At)> _lines = Channel.CreateUnbounded<(string, long)>();

        private BlockedClient(int port)
        {
            _tool = ExternalTool.Start("redis-cli", ["-p", port.ToString(CultureInfo.InvariantCulture)], redirectInput: true);
            _tool.LineReceived += line => _lines.Writer.TryWrite((line, Stopwatch.GetTimestamp()));
        }

        /// <summary>The client's CLIENT ID, asked before it blocked.</summary>
        public string Id { get; private set; } = "";

        /// <summary>When the last line read arrived (a Stopwatch timestamp).</summary>
        public long LastLineAt { get; private set; }

        /// <summary>Connects, asks CLIENT ID, then sends <paramref name="command"/>, which blocks.</summary>
        public static async Task<BlockedClient> BlockAsync(int port, string command)
        {
            var client = new BlockedClient(port);
            client.Id = await client.CommandAsync("CLIENT ID");
            await client._tool.WriteLineAsync(command);
            return client;
        }

        public async Task<string> CommandAsync(string command)
        {
            await _tool.WriteLineAsync(command);
            return (await ReadLinesAsync(1))[0];
        }

        /// <summary>A command with a multi-line reply: its lines up to the one that contains <paramref name="until"/>.</summary>
        public async Task<List<string>> CommandLinesAsync(string command, string until)
        {
            await _tool.WriteLineAsync(command);
            var lines = new List<string>();
            while (lines.Count == 0 || !lines[^1].Contains(until, StringComparison.Ordinal))
            {
                lines.AddRange(await ReadLinesAsync(1));
            }
            return lines;
        }

        public async Task<string[]> ReadLinesAsync(int count)
        {
            var lines = new string[count];
            using var deadline = new CancellationTokenSource(ReplyTimeout);
            for (var i = 0; i < count; i++)
            {
                try
                {
                    (lines[i], LastLineAt) = await _lines.Reader.ReadAsync(deadline.Token);
                }
                catch (OperationCanceledException)
                {
                    throw new TimeoutException($"redis-cli: no reply line within {ReplyTimeout}; its output: {_tool.Output} {_tool.Errors}");
                }
            }
            return lines;
        }

        public ValueTask DisposeAsync() => _tool.DisposeAsync();
    }
}
