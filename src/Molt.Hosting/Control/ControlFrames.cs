using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Molt.Hosting.Control;

/// <summary>Reads and writes the control protocol's frames: a 4-byte big-endian length, then that many bytes of UTF-8 JSON.</summary>
internal static class ControlFrames
{
    /// <summary>Reads one message of at most <paramref name="maxBytes"/>; null at a clean end of stream.</summary>
    /// <exception cref="InvalidDataException">A truncated, oversized or malformed frame.</exception>
    public static async Task<T?> ReadAsync<T>(Stream stream, JsonTypeInfo<T> type, int maxBytes, CancellationToken cancellationToken)
        where T : class
    {
        var header = new byte[4];
        var read = await ReadFullyAsync(stream, header, cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            return null;
        }
        if (read < 4)
        {
            throw new InvalidDataException("The frame's length was cut short.");
        }
        var length = BinaryPrimitives.ReadInt32BigEndian(header);
        if (length <= 0 || length > maxBytes)
        {
            throw new InvalidDataException($"A frame of {length} bytes is outside 1..{maxBytes}.");
        }
        var payload = new byte[length];
        if (await ReadFullyAsync(stream, payload, cancellationToken).ConfigureAwait(false) < length)
        {
            throw new InvalidDataException("The frame was cut short.");
        }
        try
        {
            return JsonSerializer.Deserialize(payload, type) ?? throw new InvalidDataException("The frame holds null.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The frame is not a valid message: {e.Message}", e);
        }
    }

    /// <summary>Writes one message.</summary>
    /// <exception cref="InvalidDataException">It is larger than <paramref name="maxBytes"/>: nothing was written.</exception>
    public static async Task WriteAsync<T>(Stream stream, T message, JsonTypeInfo<T> type, int maxBytes, CancellationToken cancellationToken)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(message, type);
        if (payload.Length > maxBytes)
        {
            throw new InvalidDataException($"The message is {payload.Length} bytes, over the {maxBytes} a frame may hold.");
        }
        var frame = new byte[4 + payload.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, payload.Length);
        payload.CopyTo(frame, 4);
        await stream.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<int> ReadFullyAsync(Stream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }
            total += n;
        }
        return total;
    }
}
