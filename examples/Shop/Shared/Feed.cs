using System.Text;
using System.Text.Json;

namespace Shop;

/// <summary>
/// What happens in the shop (orders, restocks), numbered, for the live feed: the most recent <see cref="Kept"/>
/// events. A singleton, so its events and its numbering carry on across a live update.
/// </summary>
internal sealed class Feed
{
    /// <summary>How many events are kept for clients that connect or fall behind.</summary>
    public const int Kept = 200;

    private readonly Lock gate = new();

    /// <summary>The most recent events, oldest first.</summary>
    private readonly List<FeedEvent> recent = [];

    /// <summary>The number of the last event published (events are numbered from 1).</summary>
    private long lastSequence;

    /// <summary>The number of the last event published, 0 before the first.</summary>
    public long LastSequence
    {
        get
        {
            lock (gate)
            {
                return lastSequence;
            }
        }
    }

    /// <summary>Publishes an event, stamped with this release's version.</summary>
    /// <param name="kind">What happened: "order", "restock", ...</param>
    /// <param name="text">A line for people, formatted by the release that publishes it.</param>
    /// <param name="dataJson">The event's data, a JSON object (the product it changed: id, price, stock).</param>
    public void Publish(string kind, string text, string dataJson)
    {
        lock (gate)
        {
            recent.Add(new FeedEvent
            {
                Sequence = ++lastSequence,
                Version = AppInfo.Version,
                Kind = kind,
                Text = text,
                DataJson = dataJson,
                At = DateTimeOffset.UtcNow,
            });
            if (recent.Count > Kept)
            {
                recent.RemoveRange(0, recent.Count - Kept);
            }
        }
    }

    /// <summary>
    /// An event's data about a product, as the page reads it: <c>{"productId":7,"price":"96.88","stock":"11"}</c>.
    /// Written by hand rather than by serializing an anonymous object with the default options, whose cache would keep
    /// this release's types (and so its code) alive after an update.
    /// </summary>
    public static string ProductData(long productId, string price, string stock)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("productId", productId);
            json.WriteString("price", price);
            json.WriteString("stock", stock);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>The events after number <paramref name="seen"/>, oldest first, at most <paramref name="max"/> (the oldest ones).</summary>
    public List<FeedEvent> After(long seen, int max)
    {
        lock (gate)
        {
            var first = recent.FindIndex(e => e.Sequence > seen);
            return first < 0 ? [] : recent.GetRange(first, Math.Min(max, recent.Count - first));
        }
    }
}

/// <summary>One event of the feed.</summary>
internal sealed class FeedEvent
{
    /// <summary>Its number, from 1.</summary>
    public long Sequence;

    /// <summary>The version of the release that published it.</summary>
    public string Version = "";

    /// <summary>What happened: "order", "restock", ...</summary>
    public string Kind = "";

    /// <summary>A line for people.</summary>
    public string Text = "";

    /// <summary>Its data, a JSON object.</summary>
    public string DataJson = "{}";

    /// <summary>When it was published.</summary>
    public DateTimeOffset At;
}
