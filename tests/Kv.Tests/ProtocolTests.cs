using System.Net.Sockets;
using System.Text;

namespace Kv.Tests;

/// <summary>
/// What a release without a command answers, byte for byte as Redis words it; and a missing client tool fails
/// a test with the command that installs it.
/// </summary>
[Collection(KvCollection.Name)]
public class ProtocolTests
{
    [Theory]
    [InlineData(1, "lpush")]
    [InlineData(1, "hset")]
    [InlineData(1, "sadd")]
    [InlineData(2, "object")]
    [InlineData(3, "sadd")]
    [InlineData(4, "sadd")]
    public async Task CommandOfALaterRelease_IsAnUnknownCommand(int version, string command)
    {
        await using var server = await KvProcesses.StartKvAsync(version);
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", server.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"*3\r\n${command.Length}\r\n{command}\r\n$1\r\nk\r\n$1\r\nm\r\n"));

        var reply = await ReadLineAsync(stream, TimeSpan.FromSeconds(15));

        Assert.Equal($"-ERR unknown command '{command}', with args beginning with: 'k' 'm' \r\n", reply);
    }

    /// <summary>
    /// A pattern of many <c>*</c> against keys it nearly matches: matched by recursion at each <c>*</c>, it took exponential time
    /// (over ten minutes for one KEYS, every client waiting); now it answers, in every release, while other clients are served.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public async Task KeysWithAPathologicalPattern_Answers(int version)
    {
        await using var server = await KvProcesses.StartKvAsync(version);
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", server.Port);
        var stream = client.GetStream();
        var key = new string('a', 60);
        for (var i = 0; i < 50; i++)
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"*3\r\n$3\r\nSET\r\n${key.Length + 2}\r\n{key}{i:00}\r\n$1\r\nv\r\n"));
            Assert.Equal("+OK\r\n", await ReadLineAsync(stream, TimeSpan.FromSeconds(15)));
        }
        var pattern = string.Concat(Enumerable.Repeat("*a", 25)) + "*b";
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"*2\r\n$4\r\nKEYS\r\n${pattern.Length}\r\n{pattern}\r\n"));

        // The deadline only bounds a hang (the old matcher would still be running); how fast it answers is the benchmarks' business.
        Assert.Equal("*0\r\n", await ReadLineAsync(stream, TimeSpan.FromSeconds(30)));
        var matching = string.Concat(Enumerable.Repeat("*a", 25)) + "*";
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"*2\r\n$4\r\nKEYS\r\n${matching.Length}\r\n{matching}\r\n"));
        Assert.Equal("*50\r\n", await ReadLineAsync(stream, TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void MissingTool_FailsNamingTheFix()
    {
        var error = Assert.Throws<InvalidOperationException>(() => KvProcesses.RequireTool("redis-cli-not-installed"));

        Assert.Equal("redis-cli-not-installed not found: run `bash scripts/install-test-deps.sh`", error.Message);
    }

    private static async Task<string> ReadLineAsync(NetworkStream stream, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        var line = new List<byte>();
        var one = new byte[1];
        while (line.Count < 4096 && !(line.Count >= 2 && line[^2] == '\r' && line[^1] == '\n'))
        {
            if (await stream.ReadAsync(one, deadline.Token) == 0)
            {
                break;
            }
            line.Add(one[0]);
        }
        return Encoding.Latin1.GetString(line.ToArray());
    }
}
