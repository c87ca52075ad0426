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
