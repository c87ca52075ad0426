using System.Globalization;
using Xunit.Abstractions;

namespace Kv.Tests;

/// <summary>
/// The Node.js client <c>redis</c> (node-redis 6 from the npm registry, which opens every connection with HELLO 3) against
/// kv and redis-server: <c>examples/Kv/clients/node/kv_node_client.mjs</c> runs the same commands of each type on both, in
/// RESP3, and compares what the client made of every reply (maps, sets, nulls, transactions, a WATCH broken).
/// </summary>
[Collection(KvCollection.Name)]
public class NodeClientTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public async Task NodeRedisInResp3_AnsweredAsRedisServerAnswersIt(int version)
    {
        var client = NodeClientDirectory();
        await using var kv = await KvProcesses.StartKvAsync(version);
        await using var redis = await KvProcesses.StartRedisServerAsync();

        var result = await KvProcesses.RunAsync(KvProcesses.RequireTool("node"),
            [Path.Combine(client, "kv_node_client.mjs"), "--port", kv.Port.ToString(CultureInfo.InvariantCulture),
             "--reference-port", redis.Port.ToString(CultureInfo.InvariantCulture), "--version", version.ToString(CultureInfo.InvariantCulture)],
            TimeSpan.FromSeconds(120));

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0 && !result.FailLines.Any(), $"{result}\n--- kv\n{kv.Output}");
        Assert.Contains(" passed, 0 failed", result.Stdout, StringComparison.Ordinal);
    }

    /// <summary>The client's folder in the repository, with its node_modules installed by scripts/install-test-deps.sh.</summary>
    private static string NodeClientDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Molt.slnx")))
            {
                var client = Path.Combine(dir.FullName, "examples", "Kv", "clients", "node");
                if (!File.Exists(Path.Combine(client, "node_modules", "redis", "package.json")))
                {
                    throw new InvalidOperationException($"the Node.js client is not installed in {client}: {KvProcesses.InstallHint}");
                }
                return client;
            }
        }
        throw new DirectoryNotFoundException($"No Molt.slnx above {AppContext.BaseDirectory}.");
    }
}
