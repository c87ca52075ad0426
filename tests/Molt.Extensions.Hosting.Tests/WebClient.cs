using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;

namespace Molt.Extensions.Hosting.Tests;

/// <summary>What the test application's <c>GET /</c> answers.</summary>
internal sealed record Reply(string Version, int Hits, int Items, string Connection, int Ticks, int Turns, bool Logger, string Greeting, string Unit, bool Updating);

/// <summary>An HTTP client over one kept-alive connection (its id is in every reply), a live feed reader and a WebSocket.</summary>
internal sealed class WebClient(int port) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { MaxConnectionsPerServer = 1, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10) })
    {
        BaseAddress = new Uri($"http://127.0.0.1:{port}"),
        Timeout = TimeSpan.FromSeconds(60),
    };

    public Uri BaseAddress => _http.BaseAddress!;

    public async Task<Reply> GetAsync() => (await _http.GetFromJsonAsync<Reply>("/"))!;

    public async Task<int> AddItemAsync(string name)
    {
        using var response = await _http.PostAsync($"/items/{name}", null);
        response.EnsureSuccessStatusCode();
        return int.Parse(await response.Content.ReadAsStringAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public Task<string> GetStringAsync(string path) => _http.GetStringAsync(path);

    public void Dispose() => _http.Dispose();
}

/// <summary>A server-sent events stream read in the background: every "data:" line, in order.</summary>
internal sealed class FeedReader : IAsyncDisposable
{
    private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reading;

    public ConcurrentQueue<string> Events { get; } = new();

    /// <summary>Set when the stream ended or failed.</summary>
    public Exception? Ended { get; private set; }

    public bool Closed { get; private set; }

    public FeedReader(Uri baseAddress)
    {
        _http.BaseAddress = baseAddress;
        _reading = Task.Run(ReadAsync);
    }

    private async Task ReadAsync()
    {
        try
        {
            using var response = await _http.GetAsync("/feed", HttpCompletionOption.ResponseHeadersRead, _stop.Token);
            using var stream = await response.Content.ReadAsStreamAsync(_stop.Token);
            using var reader = new StreamReader(stream);
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    Events.Enqueue(line[6..]);
                }
            }
            Closed = true;
        }
        catch (Exception e) when (!_stop.IsCancellationRequested)
        {
            Ended = e;
            Closed = true;
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Waits until an event of <paramref name="version"/> arrives after those seen so far; returns it.</summary>
    public async Task<string> NextFromAsync(string version, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            while (Events.TryDequeue(out var e))
            {
                if (e.StartsWith(version + " ", StringComparison.Ordinal))
                {
                    return e;
                }
            }
            Assert.False(Closed, $"the feed closed ({Ended?.Message ?? "by the server"}) while waiting for an event of {version}");
            Assert.True(DateTime.UtcNow < deadline, $"no event of {version} on the feed");
            await Task.Delay(10);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _reading;
        _http.Dispose();
        _stop.Dispose();
    }
}

/// <summary>A WebSocket to the echo endpoint: each reply is "version:count:message".</summary>
internal sealed class EchoClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();

    public static async Task<EchoClient> ConnectAsync(Uri baseAddress)
    {
        var client = new EchoClient();
        await client._socket.ConnectAsync(new Uri($"ws://{baseAddress.Authority}/ws"), CancellationToken.None);
        return client;
    }

    public async Task<string> SendAsync(string message)
    {
        await _socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[1024];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var received = await _socket.ReceiveAsync(buffer, timeout.Token);
        return Encoding.UTF8.GetString(buffer, 0, received.Count);
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
                // The server is gone already.
            }
        }
        _socket.Dispose();
    }
}
