using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Molt.Hosting.Control;
using static Molt.Hosting.Tests.Control.ControlTestKit;

namespace Molt.Hosting.Tests.Control;

/// <summary>
/// Malformed, truncated and oversized frames from real socket clients: each gets an error reply or a closed
/// connection, and the program goes on running and serving.
/// </summary>
public sealed class ProtocolFuzzTests(EndpointDirectoryFixture fixture) : IClassFixture<EndpointDirectoryFixture>
{
    /// <summary>A frame, and whether the client then shuts its sending side (so that the server sees the end of the stream).</summary>
    private sealed record Case(string What, byte[] Bytes, bool EndStream, bool ValidStatus = false);

    private static byte[] Header(int length)
    {
        var header = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(header, length);
        return header;
    }

    private static IEnumerable<Case> NamedCases(string programPath)
    {
        var v = ControlProtocol.Version;
        var path = JsonSerializer.Serialize(programPath);
        yield return new("nothing, then the end", [], true);
        yield return new("a length header cut short", [0, 0], true);
        yield return new("a length of 0", Header(0), false);
        yield return new("a negative length", Header(-1), false);
        yield return new("int.MinValue length", Header(int.MinValue), false);
        yield return new("a length over 1 MiB", Header(ControlProtocol.MaxFrameBytes + 1), false);
        yield return new("int.MaxValue length", Header(int.MaxValue), false);
        yield return new("a payload shorter than its length, then the end", [.. Header(100), .. "{\"version\":1"u8], true);
        yield return new("invalid UTF-8", Frame([0xC3, 0x28, 0xFF, 0xFE, 0x80]), false);
        yield return new("invalid UTF-8 in a string", Frame([.. "{\"version\":1,\"command\":\""u8, 0xFF, 0xC0, .. "\"}"u8]), false);
        yield return new("not JSON", Frame("{not json"), false);
        yield return new("JSON null", Frame("null"), false);
        yield return new("a JSON array", Frame("[]"), false);
        yield return new("a JSON number", Frame("42"), false);
        yield return new("a JSON string", Frame("\"status\""), false);
        yield return new("deeply nested JSON", Frame(new string('[', 5000) + new string(']', 5000)), false);
        yield return new("the wrong shape", Frame("{\"version\":\"one\",\"command\":5}"), false);
        yield return new("no command", Frame($"{{\"version\":{v}}}"), false);
        yield return new("a null command", Frame($"{{\"version\":{v},\"command\":null}}"), false);
        yield return new("no version", Frame("{\"command\":\"status\"}"), false);
        yield return new("a wrong protocol version", Frame($"{{\"version\":{v + 1},\"command\":\"status\"}}"), false);
        yield return new("a negative protocol version", Frame("{\"version\":-1,\"command\":\"status\"}"), false);
        yield return new("a version too large for an int", Frame("{\"version\":99999999999,\"command\":\"status\"}"), false);
        yield return new("an unknown command", Frame($"{{\"version\":{v},\"command\":\"reboot\"}}"), false);
        yield return new("update without a path", Frame($"{{\"version\":{v},\"command\":\"update\"}}"), false);
        yield return new("update with an empty path", Frame($"{{\"version\":{v},\"command\":\"update\",\"path\":\"\"}}"), false);
        yield return new("check without a path", Frame($"{{\"version\":{v},\"command\":\"check\"}}"), false);
        yield return new("update with a NUL in its path", Frame($"{{\"version\":{v},\"command\":\"update\",\"path\":\"/tmp/a\\u0000b.dll\"}}"), false);
        yield return new("check with a NUL in its path", Frame($"{{\"version\":{v},\"command\":\"check\",\"path\":\"/tmp/a\\u0000b.dll\"}}"), false);
        yield return new("update with a negative quiescence timeout", Frame($"{{\"version\":{v},\"command\":\"update\",\"path\":{path},\"quiesceTimeoutSeconds\":-5}}"), false);
        yield return new("update with a quiescence timeout past TimeSpan", Frame($"{{\"version\":{v},\"command\":\"update\",\"path\":{path},\"quiesceTimeoutSeconds\":1e308}}"), false);
        yield return new("update with a quiescence timeout past the timers' range", Frame($"{{\"version\":{v},\"command\":\"update\",\"path\":{path},\"quiesceTimeoutSeconds\":1e7}}"), false);
        yield return new("rollback with nothing to roll back to", Frame($"{{\"version\":{v},\"command\":\"rollback\"}}"), false);
        yield return new("1 MiB of garbage, in a valid length", Frame(Enumerable.Repeat((byte)'x', ControlProtocol.MaxFrameBytes).ToArray()), false);

        // A valid request, as large as a frame may be: it is served.
        var prefix = $"{{\"version\":{v},\"command\":\"status\",\"padding\":\"";
        var huge = prefix + new string('p', ControlProtocol.MaxFrameBytes - prefix.Length - 2) + "\"}";
        yield return new("a valid status request of exactly 1 MiB", Frame(huge), false, ValidStatus: true);
    }

    [Fact]
    public async Task NamedMalformedFrames_EachGetsAnErrorOrAClose_ProgramStillServes()
    {
        using var escaped = new EscapedExceptions();
        var program = TestPrograms.Build("FuzzTicker", "v1", TickerSource);
        await using var host = await MoltHost.StartAsync(program);
        var name = UniqueName("fuzz-named");
        await using var server = MoltControlServer.Start(host, name, null, fixture.Endpoints);

        foreach (var c in NamedCases(program))
        {
            await SendAndCheckAsync(server.SocketPath, c);
            await AssertServesAsync(name, fixture.Endpoints);
            await AssertTicksAsync(host);
        }
        Assert.DoesNotContain(host.History, r => r.Outcome == UpdateOutcome.Committed); // None of them was a valid update.
        escaped.AssertNone();
    }

    [Fact]
    public async Task RandomFrames_Seeded_EachGetsAnErrorOrAClose_ProgramStillServes()
    {
        using var escaped = new EscapedExceptions();
        var program = TestPrograms.Build("FuzzTicker", "v1", TickerSource);
        await using var host = await MoltHost.StartAsync(program);
        var name = UniqueName("fuzz-random");
        await using var server = MoltControlServer.Start(host, name, null, fixture.Endpoints);

        var random = new Random(20261122);
        var valid = Encoding.UTF8.GetBytes($"{{\"version\":{ControlProtocol.Version},\"command\":\"status\"}}");
        var clock = Stopwatch.StartNew();
        var cases = 0;
        for (; cases < 300 && clock.Elapsed < TimeSpan.FromSeconds(90); cases++)
        {
            await SendAndCheckAsync(server.SocketPath, RandomCase(random, valid, cases));
            await AssertServesAsync(name, fixture.Endpoints);
            if (cases % 25 == 0)
            {
                await AssertTicksAsync(host);
            }
        }
        Assert.True(cases >= 50, $"Only {cases} random cases ran in 90 s.");
        await AssertTicksAsync(host);
        escaped.AssertNone();
    }

    private static Case RandomCase(Random random, byte[] valid, int index)
    {
        switch (random.Next(4))
        {
            case 0: // Random bytes, length header included.
                return new($"#{index}: random bytes", RandomBytes(random, random.Next(0, 64)), true);
            case 1: // A plausible length, a payload of random bytes, maybe shorter than announced.
            {
                var payload = RandomBytes(random, random.Next(1, 256));
                var announced = random.Next(2) == 0 ? payload.Length : random.Next(1, 4096);
                return new($"#{index}: random payload, length {announced} for {payload.Length}", [.. Header(announced), .. payload], true);
            }
            case 2: // A valid request with a few bytes changed.
            {
                var payload = (byte[])valid.Clone();
                for (var i = random.Next(1, 4); i > 0; i--)
                {
                    payload[random.Next(payload.Length)] = (byte)random.Next(256);
                }
                return new($"#{index}: mutated request {Convert.ToHexString(payload)}", Frame(payload), true, StillValid(payload));
            }
            default: // JSON-ish tokens.
            {
                string[] tokens = ["{", "}", "[", "]", ",", ":", "\"version\"", "\"command\"", "\"path\"", "\"status\"", "\"update\"", "1", "-1", "null", "true", "1e999", "\"\\u0000\"", "\"\\ud800\""];
                var text = string.Concat(Enumerable.Range(0, random.Next(1, 20)).Select(_ => tokens[random.Next(tokens.Length)]));
                var payload = Encoding.UTF8.GetBytes(text);
                return new($"#{index}: tokens {text}", Frame(payload), true, StillValid(payload));
            }
        }
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>Whether a changed request still is a valid status request (then it must be served).</summary>
    private static bool StillValid(byte[] payload)
    {
        try
        {
            return JsonSerializer.Deserialize(payload, ControlJson.Default.ControlRequest) is { Version: ControlProtocol.Version, Command: "status" };
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static async Task SendAndCheckAsync(string socketPath, Case c)
    {
        using var socket = await ConnectRawAsync(socketPath);
        await SendAsync(socket, c.Bytes);
        if (c.EndStream)
        {
            try
            {
                socket.Shutdown(SocketShutdown.Send);
            }
            catch (SocketException)
            {
                // The server closed first.
            }
        }
        ControlTestKit.Answer answer;
        try
        {
            answer = await ReadAnswerAsync(socket);
        }
        catch (OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"{c.What}: no reply and no close within {Patience.TotalSeconds} s.");
        }
        if (c.ValidStatus)
        {
            Assert.True(answer.Ok == true, $"{c.What}: a valid request was not served ({(answer.Closed ? "closed" : answer.Error)}).");
            return;
        }
        Assert.True(answer.Closed || (answer.Ok == false && !string.IsNullOrEmpty(answer.Error)),
            $"{c.What}: expected an error reply or a close, got {answer.Reply}.");
        if (!answer.Closed)
        {
            // An error reply; a malformed frame also ends the connection, a well-formed refused request need not.
            socket.Shutdown(SocketShutdown.Send);
            Assert.True(await ClosedByServerAsync(socket), $"{c.What}: the server kept the connection open after the client ended it.");
        }
    }
}
