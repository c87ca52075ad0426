using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Molt.Hosting.Control;

namespace Molt.Hosting.Tests.Control;

/// <summary>A private endpoint directory per test class (a temp folder, removed afterwards).</summary>
public sealed class EndpointDirectoryFixture : IDisposable
{
    /// <summary>The temp folder that holds the endpoint directory.</summary>
    public string Root { get; } = Directory.CreateTempSubdirectory("molt-control-tests-").FullName;

    /// <summary>The endpoint directory (created by the server, 0700).</summary>
    public string Endpoints => Path.Combine(Root, "endpoints");

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>The hosted program of the control tests, the sockets the tests speak through, bounded waits.</summary>
internal static class ControlTestKit
{
    /// <summary>Generous: the machine is small and shared.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    /// <summary>
    /// A ticking unit. <c>Hold()</c> makes it wait, after its update point, until <c>Release()</c>, without
    /// looking at <c>Live.UpdateRequested</c>: it then reaches its update point late, which keeps an update in quiescence.
    /// </summary>
    public const string TickerSource = TestPrograms.Usings + """
        public class Ticker { public long Ticks; }
        public static class Program
        {
            public static Ticker State = new();
            public static volatile bool Hold;
            public static volatile bool Holding;
            public static long Ticks() => State.Ticks;
            public static void HoldUnit() => Hold = true;
            public static void ReleaseUnit() => Hold = false;
            public static bool IsHolding() => Holding;
            public static async Task Main(string[] args) { if (!Live.IsUpdating) Live.StartUnit("ticker", State, Tick); await Live.RunAsync(); }
            public static async Task Tick(Ticker t)
            {
                while (true)
                {
                    await Live.UpdatePointAsync("tick");
                    while (Hold) { Holding = true; await Task.Delay(10); }
                    Holding = false;
                    t.Ticks++;
                    try { await Task.Delay(5, Live.UpdateRequested); } catch (OperationCanceledException) { }
                }
            }
        }
        """;

    public static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 64)];

    /// <summary>Polls a condition until it holds (then returns at once) or the patience runs out.</summary>
    public static async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan? patience = null)
    {
        var deadline = DateTime.UtcNow + (patience ?? Patience);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
            await Task.Delay(20);
        }
        return true;
    }

    /// <summary>The hosted program's unit still ticks: its count grows.</summary>
    public static async Task AssertTicksAsync(MoltHost host)
    {
        var before = (long)ProgramState.Call(host, "Program", "Ticks")!;
        Assert.True(await WaitUntilAsync(() => (long)ProgramState.Call(host, "Program", "Ticks")! > before), "The program's unit stopped ticking.");
    }

    /// <summary>A fresh client of the same user still gets a status reply.</summary>
    public static async Task AssertServesAsync(string name, string directory)
    {
        using var timeout = new CancellationTokenSource(Patience);
        await using var client = await MoltControlClient.ConnectAsync(name, directory, timeout.Token);
        var status = await client.StatusAsync(timeout.Token);
        Assert.Equal(name, status.Name);
    }

    public static async Task<Socket> ConnectRawAsync(string socketPath)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        using var timeout = new CancellationTokenSource(Patience);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), timeout.Token);
        return socket;
    }

    public static byte[] Frame(byte[] payload)
    {
        var frame = new byte[4 + payload.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, payload.Length);
        payload.CopyTo(frame, 4);
        return frame;
    }

    public static byte[] Frame(string json) => Frame(Encoding.UTF8.GetBytes(json));

    public static byte[] StatusRequest => Frame($$"""{"version":{{ControlProtocol.Version}},"command":"status"}""");

    /// <summary>What the server did with a request: replied (Ok or not), or closed the connection without a reply.</summary>
    public sealed record Answer(bool Closed, bool? Ok, string? Error, JsonElement? Reply);

    /// <summary>Reads frames until a reply or the end of the stream (progress frames are skipped).</summary>
    public static async Task<Answer> ReadAnswerAsync(Socket socket)
    {
        using var timeout = new CancellationTokenSource(Patience);
        while (true)
        {
            var header = new byte[4];
            if (!await ReadExactlyAsync(socket, header, timeout.Token))
            {
                return new Answer(true, null, null, null);
            }
            var length = BinaryPrimitives.ReadInt32BigEndian(header);
            Assert.InRange(length, 1, ControlProtocol.MaxFrameBytes);
            var payload = new byte[length];
            Assert.True(await ReadExactlyAsync(socket, payload, timeout.Token), "The server cut its own frame short.");
            var reply = JsonDocument.Parse(payload).RootElement.Clone();
            if (reply.GetProperty("kind").GetString() == "progress")
            {
                continue;
            }
            var ok = !reply.TryGetProperty("ok", out var okValue) || okValue.GetBoolean();
            var error = reply.TryGetProperty("error", out var e) ? e.GetString() : null;
            return new Answer(false, ok, error, reply);
        }
    }

    /// <summary>After an answer: the connection is closed by the server (end of stream or reset), within the patience.</summary>
    public static async Task<bool> ClosedByServerAsync(Socket socket)
    {
        using var timeout = new CancellationTokenSource(Patience);
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                if (await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token) == 0)
                {
                    return true;
                }
            }
        }
        catch (SocketException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Sends, tolerating a server that already closed (it may, before all was sent).</summary>
    public static async Task SendAsync(Socket socket, byte[] bytes)
    {
        using var timeout = new CancellationTokenSource(Patience);
        try
        {
            var sent = 0;
            while (sent < bytes.Length)
            {
                sent += await socket.SendAsync(bytes.AsMemory(sent), SocketFlags.None, timeout.Token);
            }
        }
        catch (SocketException)
        {
        }
    }

    private static async Task<bool> ReadExactlyAsync(Socket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        var total = 0;
        try
        {
            while (total < buffer.Length)
            {
                var n = await socket.ReceiveAsync(buffer.AsMemory(total), SocketFlags.None, cancellationToken);
                if (n == 0)
                {
                    return false;
                }
                total += n;
            }
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    [DllImport("libc")]
    public static extern uint geteuid();
}

/// <summary>Watches for exceptions that escape: unobserved task exceptions and unhandled exceptions, while a test runs.</summary>
internal sealed class EscapedExceptions : IDisposable
{
    private readonly ConcurrentQueue<Exception> _seen = new();

    public EscapedExceptions()
    {
        TaskScheduler.UnobservedTaskException += OnUnobserved;
        AppDomain.CurrentDomain.UnhandledException += OnUnhandled;
    }

    /// <summary>Those that came from the control channel (other tests in the process have their own).</summary>
    public IReadOnlyList<Exception> FromControl => [.. _seen.Where(e => e.ToString().Contains("Molt.Hosting.Control", StringComparison.Ordinal))];

    /// <summary>Collects garbage so that unobserved faulted tasks are reported, then asserts none came from the control channel.</summary>
    public void AssertNone()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.True(FromControl.Count == 0, "Exceptions escaped the control channel:\n" + string.Join("\n---\n", FromControl));
    }

    public void Dispose()
    {
        TaskScheduler.UnobservedTaskException -= OnUnobserved;
        AppDomain.CurrentDomain.UnhandledException -= OnUnhandled;
    }

    private void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e) => _seen.Enqueue(e.Exception);

    private void OnUnhandled(object? sender, UnhandledExceptionEventArgs e)
    {
        if (e.ExceptionObject is Exception exception)
        {
            _seen.Enqueue(exception);
        }
    }
}

/// <summary>A logger factory that keeps every message, to assert on what was logged.</summary>
internal sealed class CapturingLoggerFactory : ILoggerFactory, ILoggerProvider
{
    private readonly ConcurrentQueue<(LogLevel Level, EventId Id, string Message, Exception? Error)> _entries = new();

    public IReadOnlyList<(LogLevel Level, EventId Id, string Message, Exception? Error)> Entries => [.. _entries];

    public ILogger CreateLogger(string categoryName) => new Logger(_entries);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class Logger(ConcurrentQueue<(LogLevel, EventId, string, Exception?)> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Enqueue((logLevel, eventId, formatter(state, exception), exception));
    }
}
