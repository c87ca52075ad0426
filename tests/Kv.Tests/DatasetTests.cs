using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;

namespace Kv.Tests;

/// <summary>
/// kv_data.py, the dataset tool of the live-update scenario and the benchmarks, against kv releases and against
/// redis-server: what it loads it finds again, what the writer acknowledges is there, a session keeps its one
/// connection, and what redis-benchmark writes is recognised.
/// </summary>
[Collection(KvCollection.Name)]
public class DatasetTests(ITestOutputHelper output)
{
    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromSeconds(90);

    /// <summary>The value types release <paramref name="version"/> has.</summary>
    private static string TypesOf(int version) => version switch
    {
        1 => "string",
        < 5 => "string,list,hash",
        _ => "string,list,hash,set",
    };

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public async Task LoadThenVerify_FindsEveryKeyWithItsTypeValueAndTtl(int version)
    {
        await using var server = await KvProcesses.StartKvAsync(version);
        string[] dataset = ["--port", Text(server.Port), "--prefix", "data:", "--keys", "5000", "--types", TypesOf(version), "--seed", "7"];

        var load = await Run("load", dataset);
        Assert.True(load.ExitCode == 0, load.ToString());
        Assert.Equal(5000, Json(load)["loaded"].GetInt32());

        var verify = await Run("verify", dataset);
        var report = Json(verify);
        Assert.True(verify.ExitCode == 0, verify.ToString());
        Assert.Equal((5000, 0, 0), (report["checked"].GetInt32(), report["missing"].GetInt32(), report["wrong"].GetInt32()));
    }

    [Fact]
    public async Task Verify_ReportsMissingAndWrongKeys()
    {
        await using var server = await KvProcesses.StartRedisServerAsync();
        string[] dataset = ["--port", Text(server.Port), "--prefix", "data:", "--keys", "100", "--types", "string,list,hash,set"];
        Assert.Equal(0, (await Run("load", dataset)).ExitCode);
        var cli = KvProcesses.RequireTool("redis-cli");
        Assert.Equal(0, (await KvProcesses.RunAsync(cli, ["-p", Text(server.Port), "DEL", "data:3"], ScriptTimeout)).ExitCode);
        Assert.Equal(0, (await KvProcesses.RunAsync(cli, ["-p", Text(server.Port), "SET", "data:4", "other"], ScriptTimeout)).ExitCode);
        Assert.Equal(0, (await KvProcesses.RunAsync(cli, ["-p", Text(server.Port), "PERSIST", "data:10"], ScriptTimeout)).ExitCode);

        var verify = await Run("verify", dataset);
        var report = Json(verify);

        Assert.Equal(1, verify.ExitCode);
        Assert.Equal((100, 1, 2), (report["checked"].GetInt32(), report["missing"].GetInt32(), report["wrong"].GetInt32()));
        Assert.Equal(["data:3: missing", "data:4: value b'other', expected b'v0:4:78dde6c4'", "data:10: ttl -1, expected 3008..3610"],
            report["first_problems"].EnumerateArray().Select(p => p.GetString()!));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    public async Task Writer_AcknowledgesOnlyWhatVerifyFinds(int version)
    {
        await using var server = await KvProcesses.StartKvAsync(version);
        var status = Path.Combine(Path.GetTempPath(), $"kv-writer-{Guid.NewGuid():N}.json");
        try
        {
            var writer = await Run("writer", ["--port", Text(server.Port), "--prefix", "w:", "--duration", "2", "--max-keys", "3000",
                "--types", TypesOf(version), "--status-file", status]);
            var state = JsonDocument.Parse(await File.ReadAllTextAsync(status)).RootElement;
            Assert.True(writer.ExitCode == 0, writer.ToString());
            Assert.Equal(0, state.GetProperty("errors").GetInt32());
            var acknowledged = state.GetProperty("acknowledged").GetInt32();
            Assert.InRange(acknowledged, 1, 3000);

            var verify = await Run("verify", ["--port", Text(server.Port), "--prefix", "w:", "--keys", Text(acknowledged), "--types", TypesOf(version)]);
            Assert.True(verify.ExitCode == 0, verify.ToString());
            Assert.Equal(acknowledged, Json(verify)["checked"].GetInt32());
        }
        finally
        {
            File.Delete(status);
        }
    }

    [Fact]
    public async Task Writer_StoppedBySigterm_WritesItsFinalStatus()
    {
        await using var server = await KvProcesses.StartKvAsync(2);
        await KvProcesses.RequirePythonRedisAsync();
        var status = Path.Combine(Path.GetTempPath(), $"kv-writer-{Guid.NewGuid():N}.json");
        var start = new System.Diagnostics.ProcessStartInfo(KvProcesses.Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])[Path.Combine(KvProcesses.ClientsDirectory, "kv_data.py"), "writer", "--port", Text(server.Port), "--prefix", "t:",
            "--duration", "60", "--max-keys", "10000000", "--rate", "2000", "--types", "string,list", "--status-file", status])
        {
            start.ArgumentList.Add(argument);
        }
        using var writer = System.Diagnostics.Process.Start(start)!;
        var stdout = writer.StandardOutput.ReadToEndAsync();
        var stderr = writer.StandardError.ReadToEndAsync();
        try
        {
            // The status file appears after the writer's first second of writes.
            for (var waited = 0; !File.Exists(status) && waited < 300 && !writer.HasExited; waited++)
            {
                await Task.Delay(100);
            }
            if (!File.Exists(status))
            {
                Assert.Fail($"no status file within 30 s:\n{await Finish(writer, stdout, stderr)}");
            }
            using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", Text(writer.Id)]))
            {
                await kill.WaitForExitAsync();
            }
            await writer.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            output.WriteLine(await stdout + await stderr);

            var state = JsonDocument.Parse(await File.ReadAllTextAsync(status)).RootElement;
            Assert.Equal(0, writer.ExitCode);
            Assert.False(state.GetProperty("running").GetBoolean());
            Assert.Equal(0, state.GetProperty("errors").GetInt32());
            var acknowledged = state.GetProperty("acknowledged").GetInt32();
            Assert.True(acknowledged > 0);

            var verify = await Run("verify", ["--port", Text(server.Port), "--prefix", "t:", "--keys", Text(acknowledged), "--types", "string,list"]);
            Assert.True(verify.ExitCode == 0, verify.ToString());
        }
        finally
        {
            if (!writer.HasExited)
            {
                writer.Kill(entireProcessTree: true);
            }
            File.Delete(status);
        }
    }

    private static async Task<string> Finish(System.Diagnostics.Process process, Task<string> stdout, Task<string> stderr)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }
        return await stdout + await stderr;
    }

    [Fact]
    public async Task Session_KeepsItsOneConnectionAndItsName()
    {
        await using var server = await KvProcesses.StartKvAsync(1);
        var session = await Run("session", ["--port", Text(server.Port)],
            stdin: "CLIENT SETNAME live-session\nCLIENT GETNAME\nCLIENT ID\nCLIENT ID\nINFO server\n");
        var lines = session.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();

        Assert.True(session.ExitCode == 0, session.ToString());
        Assert.Equal(6, lines.Count);
        Assert.True(lines[0].GetProperty("ready").GetBoolean());
        var port = lines[0].GetProperty("local_port").GetInt32();
        Assert.All(lines.Skip(1), l => Assert.Equal((port, true), (l.GetProperty("local_port").GetInt32(), l.GetProperty("same_socket").GetBoolean())));
        Assert.Equal("OK", lines[1].GetProperty("reply").GetString());
        Assert.Equal("live-session", lines[2].GetProperty("reply").GetString());
        Assert.Equal(lines[3].GetProperty("reply").GetInt64(), lines[4].GetProperty("reply").GetInt64());
        Assert.Equal("1", lines[5].GetProperty("info").GetProperty("kv_version").GetString());
    }

    [Theory]
    [InlineData(0)] // redis-server
    [InlineData(1)]
    [InlineData(5)]
    public async Task VerifyBench_RecognisesWhatRedisBenchmarkWrote(int version)
    {
        await using var server = version == 0 ? await KvProcesses.StartRedisServerAsync() : await KvProcesses.StartKvAsync(version);
        var benchmark = await KvProcesses.RunAsync(KvProcesses.RequireTool("redis-benchmark"),
            ["-p", Text(server.Port), "-t", "set", "-n", "2000", "-r", "300", "-d", "48", "-c", "4", "-q"], ScriptTimeout);
        Assert.True(benchmark.ExitCode == 0, benchmark.ToString());

        var right = await Run("verify-bench", ["--port", Text(server.Port), "--pattern", "key:*", "--size", "48"]);
        var wrongSize = await Run("verify-bench", ["--port", Text(server.Port), "--pattern", "key:*", "--size", "47"]);

        Assert.True(right.ExitCode == 0, right.ToString());
        var checkedKeys = Json(right)["checked"].GetInt32();
        Assert.InRange(checkedKeys, 1, 300);
        Assert.Equal(1, wrongSize.ExitCode);
        Assert.Equal(checkedKeys, Json(wrongSize)["wrong"].GetInt32());
    }

    private async Task<ProcessResult> Run(string command, string[] arguments, string? stdin = null)
    {
        var result = await KvProcesses.RunScriptAsync("kv_data.py", [command, .. arguments], ScriptTimeout, stdin);
        output.WriteLine($"kv_data.py {command} {string.Join(' ', arguments)}\n{result.Stdout}{result.Stderr}");
        return result;
    }

    private static Dictionary<string, JsonElement> Json(ProcessResult result)
    {
        var line = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()
            ?? throw new InvalidOperationException($"no JSON line:\n{result}");
        return JsonDocument.Parse(line).RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone());
    }
}
