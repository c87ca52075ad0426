using System.Globalization;
using Xunit.Abstractions;

namespace Kv.Tests;

/// <summary>
/// The client suites — kv_functional.py (Debian's redis-py) and kv_cli_suite.py (Debian's redis-cli) — against
/// every kv release run on its own, and against Debian's redis-server, which proves that they check Redis's
/// behaviour and not kv's.
/// </summary>
[Collection(KvCollection.Name)]
public class ClientSuiteTests(ITestOutputHelper output)
{
    private static readonly TimeSpan SuiteTimeout = TimeSpan.FromSeconds(120);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    public async Task FunctionalSuite_PassesAgainstRelease(int version)
    {
        await using var server = await KvProcesses.StartKvAsync(version);
        await RunSuiteAsync("kv_functional.py", server, version.ToString(CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    public async Task CliSuite_PassesAgainstRelease(int version)
    {
        KvProcesses.RequireTool("redis-cli");
        await using var server = await KvProcesses.StartKvAsync(version);
        await RunSuiteAsync("kv_cli_suite.py", server, version.ToString(CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task FunctionalSuite_PassesAgainstRedisServer()
    {
        await using var server = await KvProcesses.StartRedisServerAsync();
        await RunSuiteAsync("kv_functional.py", server, "redis");
    }

    [Fact]
    public async Task CliSuite_PassesAgainstRedisServer()
    {
        KvProcesses.RequireTool("redis-cli");
        await using var server = await KvProcesses.StartRedisServerAsync();
        await RunSuiteAsync("kv_cli_suite.py", server, "redis");
    }

    private async Task RunSuiteAsync(string script, ServerProcess server, string version)
    {
        var result = await KvProcesses.RunScriptAsync(script, ["--port", server.Port.ToString(CultureInfo.InvariantCulture), "--version", version], SuiteTimeout);
        output.WriteLine($"{script} --version {version} against {server.Name} on port {server.Port}:");
        output.WriteLine(result.Stdout);
        if (result.Stderr.Length > 0)
        {
            output.WriteLine("--- stderr\n" + result.Stderr);
        }
        var failures = result.FailLines.ToList();
        Assert.True(result.ExitCode == 0 && failures.Count == 0,
            $"{script} --version {version} against {server.Name}: exit {result.ExitCode}\n{string.Join('\n', failures)}\n{result.Stderr}\n--- server output\n{server.Output}");
        Assert.Contains(" passed, 0 failed", result.Stdout, StringComparison.Ordinal);
    }
}
