using System.Diagnostics;
using System.Net.Sockets;
using Molt.Hosting.Control;
using static Molt.Hosting.Tests.Control.ControlTestKit;

namespace Molt.Hosting.Tests.Control;

/// <summary>Runs only as root, where the test can make a throw-away user to connect as.</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (!OperatingSystem.IsLinux() || geteuid() != 0)
        {
            Skip = "Connecting as another user needs root (to create the user and switch to it); the check itself is covered by PeerCredentials_OfAConnectedPair_AreOurOwn.";
        }
        else if (!File.Exists("/usr/sbin/useradd") || !File.Exists("/usr/sbin/runuser") || !File.Exists("/usr/bin/python3"))
        {
            Skip = "useradd, runuser or /usr/bin/python3 is missing: cannot connect as another user.";
        }
    }
}

/// <summary>Only the same user (or root) gets in through a program's control endpoint; anyone else is refused and logged.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class PeerCredentialTests(EndpointDirectoryFixture fixture) : IClassFixture<EndpointDirectoryFixture>
{
    private const string PeerUser = "molt-test-peer";

    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode ReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [Fact]
    public async Task Endpoint_DirectoryIs0700_SocketAndInfoAre0600()
    {
        var directory = Path.Combine(fixture.Root, "modes");
        var program = TestPrograms.Build("PeerTicker", "v1", TickerSource);
        await using var host = await MoltHost.StartAsync(program);
        var name = UniqueName("modes");
        await using var server = MoltControlServer.Start(host, name, null, directory);

        Assert.Equal(Private, File.GetUnixFileMode(directory));
        Assert.Equal(ReadWrite, File.GetUnixFileMode(server.SocketPath));
        Assert.Equal(ReadWrite, File.GetUnixFileMode(ControlEndpoints.InfoPath(name, directory)));
    }

    [Fact]
    public void EndpointDirectory_FoundWide_IsMadePrivate_ASymbolicLinkIsRefused()
    {
        var wide = Path.Combine(fixture.Root, "wide");
        Directory.CreateDirectory(wide);
        File.SetUnixFileMode(wide, Private | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute);

        Assert.Empty(ControlEndpoints.List(wide));
        Assert.Equal(Private, File.GetUnixFileMode(wide));

        var link = Path.Combine(fixture.Root, "link");
        Directory.CreateSymbolicLink(link, wide);
        Assert.Contains("symbolic link", Assert.Throws<InvalidOperationException>(() => ControlEndpoints.List(link)).Message, StringComparison.Ordinal);
    }

    [RootFact]
    public async Task EndpointDirectory_MadeInAdvanceByAnotherUser_IsTakenBack_BeforeUse()
    {
        var peerUid = EnsurePeerUser();
        var planted = Path.Combine(fixture.Root, "planted");
        Directory.CreateDirectory(planted);
        Assert.Equal(0, Run("chown", PeerUser, planted).ExitCode);
        File.SetUnixFileMode(planted, Private | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute);
        Assert.Equal($"{peerUid}", Run("stat", "-c", "%u", planted).Output.Trim());

        var program = TestPrograms.Build("PeerTicker", "v1", TickerSource);
        await using var host = await MoltHost.StartAsync(program);
        await using var server = MoltControlServer.Start(host, UniqueName("planted"), null, planted);

        Assert.Equal("0", Run("stat", "-c", "%u", planted).Output.Trim());
        Assert.Equal(Private, File.GetUnixFileMode(planted));
    }

    [Fact]
    public async Task PeerCredentials_OfAConnectedPair_AreOurOwn()
    {
        var path = Path.Combine(fixture.Root, "pair.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        using var client = await ConnectRawAsync(path);
        using var timeout = new CancellationTokenSource(Patience);
        using var accepted = await listener.AcceptAsync(timeout.Token);

        var peer = PeerCredentials.Of(accepted);
        Assert.Equal(Environment.ProcessId, peer.ProcessId);
        Assert.Equal(geteuid(), peer.UserId);
        Assert.Equal(PeerCredentials.CurrentUserId, peer.UserId);
        Assert.True(peer.MayControl(PeerCredentials.CurrentUserId));
        Assert.Equal(peer, PeerCredentials.Of(client)); // Both ends are this process.

        // The rule: the owner or root, nobody else.
        Assert.True(new PeerCredentials(1, 1000, 1000).MayControl(1000));
        Assert.True(new PeerCredentials(1, 0, 0).MayControl(1000));
        Assert.False(new PeerCredentials(1, 1001, 1000).MayControl(1000));
        Assert.False(new PeerCredentials(1, 1000, 0).MayControl(0));
    }

    [RootFact]
    public async Task Connection_FromAnotherUser_IsClosedWithoutReply_Logged_ProgramStillServes()
    {
        using var escaped = new EscapedExceptions();
        var peerUid = EnsurePeerUser();
        var directory = Path.Combine(fixture.Root, "peer");
        var logs = new CapturingLoggerFactory();
        var program = TestPrograms.Build("PeerTicker", "v1", TickerSource);
        await using var host = await MoltHost.StartAsync(program);
        var name = UniqueName("peer");
        await using var server = MoltControlServer.Start(host, name, logs, directory);

        // Let the other user reach the socket: only the peer-credential check stands in its way.
        File.SetUnixFileMode(fixture.Root, Private | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        File.SetUnixFileMode(directory, Private | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        File.SetUnixFileMode(server.SocketPath, ReadWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite);

        var (exitCode, output) = await RunAsPeerAsync(PeerClientScript, server.SocketPath);

        Assert.True(exitCode == 0, $"The other user's client failed (exit {exitCode}):\n{output}");
        Assert.Contains($"UID {peerUid}", output, StringComparison.Ordinal); // It really ran as the other user,
        Assert.Contains("CLOSED 0", output, StringComparison.Ordinal);     // connected, and got not one byte back.
        Assert.Contains(logs.Entries, e => e.Id.Id == 10 && e.Message.Contains($"user {peerUid}", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Entries, e => e.Id.Id == 11); // Refused before its request was even read.

        await AssertTicksAsync(host);
        await AssertServesAsync(name, directory);
        escaped.AssertNone();
    }

    [Fact]
    public async Task PeerCredentials_Unreadable_ConnectionRefusedAndLogged_ProgramStillServes()
    {
        using var escaped = new EscapedExceptions();
        var logs = new CapturingLoggerFactory();
        var program = TestPrograms.Build("PeerTicker", "v1", TickerSource);
        await using var host = await MoltHost.StartAsync(program);
        var name = UniqueName("unreadable");
        var directory = Path.Combine(fixture.Root, "unreadable");
        await using var server = MoltControlServer.Start(host, name, logs, directory);
        server.ReadPeer = _ => throw new SocketException((int)SocketError.ProtocolNotSupported);

        using (var socket = await ConnectRawAsync(server.SocketPath))
        {
            await SendAsync(socket, StatusRequest);
            Assert.True((await ReadAnswerAsync(socket)).Closed, "A connection whose peer is unknown must be closed without a reply.");
        }
        Assert.True(await WaitUntilAsync(() => logs.Entries.Any(e => e.Id.Id == 40)), "The refusal was not logged.");

        server.ReadPeer = PeerCredentials.Of;
        await AssertTicksAsync(host);
        await AssertServesAsync(name, directory);
        escaped.AssertNone();
    }

    /// <summary>Connects, sends a valid status request, reads until the server closes; prints its uid and what it got.</summary>
    private const string PeerClientScript = """
        import json, os, socket, struct, sys
        print("UID", os.getuid())
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(20)
        s.connect(sys.argv[1])
        payload = json.dumps({"version": 1, "command": "status"}).encode()
        try:
            s.sendall(struct.pack(">i", len(payload)) + payload)
        except OSError:
            pass
        data = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            print("TIMEOUT", len(data))
            sys.exit(3)
        except OSError:
            pass
        print("CLOSED", len(data))
        """;

    private static uint EnsurePeerUser()
    {
        var (code, output) = Run("id", "-u", PeerUser);
        if (code != 0)
        {
            var (added, addOutput) = Run("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PeerUser);
            Assert.True(added is 0 or 9, $"useradd failed (exit {added}): {addOutput}"); // 9: made meanwhile by another run.
            (code, output) = Run("id", "-u", PeerUser);
        }
        Assert.True(code == 0, $"id -u {PeerUser} failed: {output}");
        return uint.Parse(output.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<(int ExitCode, string Output)> RunAsPeerAsync(string script, string socketPath)
    {
        var start = new ProcessStartInfo("runuser", ["-u", PeerUser, "--", "/usr/bin/python3", "-c", script, socketPath])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = "/",
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("The other user's client did not finish within 60 s.");
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    private static (int ExitCode, string Output) Run(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            process.Kill();
            return (-1, "timed out");
        }
        return (process.ExitCode, output);
    }
}
