using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Molt.Hosting.Tests.Updating;

/// <summary>
/// The update tests run one at a time: each one times quiescence and restarts of real programs, and
/// several of them at once on a 2-core machine would only test the scheduler.
/// </summary>
[CollectionDefinition(Name)]
public sealed class UpdatingCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Updating";
}

/// <summary>What the update tests share: generous host options, bounded polling, result checks, a line client.</summary>
internal static class UpdatingTestKit
{
    /// <summary>How long a test waits for something that should happen soon (it goes on as soon as it holds).</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    /// <summary>Host options with deadlines generous enough for a loaded machine; tests that exercise a deadline shorten it.</summary>
    public static MoltHostOptions Options(Action<MoltHostOptions>? tweak = null)
    {
        var options = new MoltHostOptions
        {
            QuiesceTimeout = Patience,
            RestartTimeout = Patience,
            StopTimeout = Patience,
        };
        tweak?.Invoke(options);
        return options;
    }

    public static Task<MoltHost> StartAsync(string programPath, MoltHostOptions? options = null, string[]? args = null) =>
        MoltHost.StartAsync(programPath, args, options ?? Options());

    /// <summary>Waits until the condition holds (an exception counts as "not yet"), polling, for at most <paramref name="within"/>.</summary>
    public static async Task Eventually(Func<bool> condition, TimeSpan within, string? what = null)
    {
        var deadline = DateTime.UtcNow + within;
        Exception? last = null;
        while (true)
        {
            try
            {
                if (condition())
                {
                    return;
                }
                last = null;
            }
            catch (Exception e)
            {
                last = e;
            }
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Not true within {within.TotalSeconds} s: {what ?? "condition"}{(last is null ? "" : $" (last error: {last})")}");
            }
            await Task.Delay(10);
        }
    }

    /// <inheritdoc cref="Eventually(Func{bool}, TimeSpan, string?)"/>
    public static Task Eventually(Func<bool> condition, string? what = null) => Eventually(condition, Patience, what);

    /// <summary>Calls a static method of the running version's <c>Program</c> class.</summary>
    public static T Call<T>(MoltHost host, string method, params object?[] args) => (T)ProgramState.Call(host, "Program", method, args)!;

    public static void Call(MoltHost host, string method, params object?[] args) => ProgramState.Call(host, "Program", method, args);

    /// <summary>
    /// A committed update: the old version was collected (its retired threads ended, nothing holds it) and the
    /// pause and its phases were measured.
    /// </summary>
    public static void AssertCommitted(UpdateResult result)
    {
        Assert.True(result.Outcome == UpdateOutcome.Committed, result.ToString());
        Assert.Null(result.Failure);
        Assert.True(result.OldVersionUnloaded == true, $"The old version was not unloaded: {result}");
        Assert.True(result.PauseTime > TimeSpan.Zero, result.ToString());
    }

    /// <summary>A rolled-back update that failed in the given phase; returns its failure message.</summary>
    public static string AssertRolledBack(UpdateResult result, UpdatePhase phase)
    {
        Assert.True(result.Outcome == UpdateOutcome.RolledBack, result.ToString());
        Assert.NotNull(result.Failure);
        Assert.True(result.Failure!.Phase == phase, result.ToString());
        Assert.Null(result.OldVersionUnloaded);
        return result.Failure.Message;
    }

    public static RunningUnit Unit(MoltHost host, string name) =>
        host.Units.SingleOrDefault(u => u.Name == name) ?? throw new Xunit.Sdk.XunitException(
            $"No unit '{name}' among {string.Join(", ", host.Units.Select(u => u.Name))}.");
}

/// <summary>A TCP client that speaks lines, with every read bounded by <see cref="UpdatingTestKit.Patience"/>.</summary>
internal sealed class LineClient : IDisposable
{
    private readonly Socket _socket;
    private readonly StreamReader _reader;

    private LineClient(Socket socket)
    {
        _socket = socket;
        _reader = new StreamReader(new NetworkStream(socket, ownsSocket: false), Encoding.UTF8);
    }

    public static async Task<LineClient> ConnectAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            using var timeout = new CancellationTokenSource(UpdatingTestKit.Patience);
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), timeout.Token);
            return new LineClient(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends text as is (add "\n" to end a line).</summary>
    public async Task SendAsync(string text)
    {
        using var timeout = new CancellationTokenSource(UpdatingTestKit.Patience);
        await _socket.SendAsync(Encoding.UTF8.GetBytes(text), SocketFlags.None, timeout.Token);
    }

    /// <summary>The next line from the server, or null when the server closed the connection.</summary>
    public async Task<string?> ReadLineAsync()
    {
        using var timeout = new CancellationTokenSource(UpdatingTestKit.Patience);
        return await _reader.ReadLineAsync(timeout.Token);
    }

    /// <summary>Sends a line and returns the server's answer.</summary>
    public async Task<string?> AskAsync(string line)
    {
        await SendAsync(line + "\n");
        return await ReadLineAsync();
    }

    public void Dispose()
    {
        _reader.Dispose();
        _socket.Dispose();
    }
}
