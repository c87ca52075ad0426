using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Shop;

/// <summary>
/// One browser's live feed (server-sent events at <c>/feed</c>), served by turns: its fields are its state, and they
/// cross a live update with the connection, whose next turns the new release serves.
/// </summary>
internal sealed class FeedClient(Stream body, Feed feed, long seen)
{
    /// <summary>How often a turn looks for new events.</summary>
    private const int PollMilliseconds = 200;

    /// <summary>How long the stream may stay silent before a comment line tells the client (and proxies) it is alive.</summary>
    private static readonly TimeSpan HeartbeatEvery = TimeSpan.FromSeconds(3);

    /// <summary>The response body: the connection's stream, never the request's objects.</summary>
    public Stream Body = body;

    /// <summary>The shop's feed (the singleton: the same object after an update).</summary>
    public Feed Feed = feed;

    /// <summary>The number of the last event sent.</summary>
    public long Seen = seen;

    /// <summary>When something was last written (the first turn writes at once).</summary>
    public DateTimeOffset LastWrite = DateTimeOffset.MinValue;

    /// <summary>Starts a feed: after the event the browser last saw when it reconnects (<c>Last-Event-ID</c>), else with the last 20 events.</summary>
    public static FeedClient Open(HttpContext http, Feed feed)
    {
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        var seen = long.TryParse(http.Request.Headers["Last-Event-ID"], NumberStyles.None, CultureInfo.InvariantCulture, out var last)
            ? last
            : Math.Max(0, feed.LastSequence - 20);
        return new FeedClient(http.Response.Body, feed, seen);
    }

    /// <summary>One turn: waits a little, then sends the events published since the last turn, or a heartbeat.</summary>
    /// <returns>Always true: the feed ends when the browser leaves.</returns>
    public static async Task<bool> NextAsync(FeedClient client, CancellationToken cancellationToken)
    {
        await Task.Delay(PollMilliseconds, cancellationToken);
        var events = client.Feed.After(client.Seen, max: 50);
        var now = DateTimeOffset.UtcNow;
        if (events.Count == 0 && now - client.LastWrite < HeartbeatEvery)
        {
            return true;
        }
        var message = new StringBuilder();
        foreach (var e in events)
        {
            message.Append("id: ").Append(e.Sequence.ToString(CultureInfo.InvariantCulture)).Append("\nevent: shop\ndata: ")
                .Append(Describe(e)).Append("\n\n");
        }
        if (events.Count == 0)
        {
            message.Append(": alive ").Append(AppInfo.Version).Append("\n\n");
        }
        // Written without the token: an update waits for a message to be whole rather than cut it in two (it is a few
        // hundred bytes into Kestrel's buffer). The token is for the wait above.
        await client.Body.WriteAsync(Encoding.UTF8.GetBytes(message.ToString()), CancellationToken.None);
        await client.Body.FlushAsync(CancellationToken.None);
        if (events.Count > 0)
        {
            client.Seen = events[^1].Sequence;
        }
        client.LastWrite = now;
        return true;
    }

    /// <summary>An event as one line of JSON: its fields, and the version of the release that sent it.</summary>
    private static string Describe(FeedEvent e)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("seq", e.Sequence);
            json.WriteString("version", e.Version);
            json.WriteString("sentBy", AppInfo.Version);
            json.WriteString("kind", e.Kind);
            json.WriteString("text", e.Text);
            json.WriteString("at", e.At);
            json.WritePropertyName("data");
            json.WriteRawValue(e.DataJson);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
