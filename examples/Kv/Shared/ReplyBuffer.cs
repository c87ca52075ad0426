using System.Text;

namespace Kv;

/// <summary>
/// The replies to one batch of commands, in the protocol the connection chose (RESP2, or RESP3 after <c>HELLO 3</c>),
/// appended to one growable buffer that is sent at once: a pipeline of a hundred commands costs one send, and a reply
/// costs no allocation.
/// </summary>
internal sealed class ReplyBuffer
{
    /// <summary>
    /// The protocol replies are written in: 2 (RESP2, every connection's first) or 3 (RESP3), as chosen with HELLO. Part
    /// of the connection's state, so it crosses every update with it.
    /// </summary>
    public int Protocol = 2;

    /// <summary>The size the buffer starts with and shrinks back to after a large reply.</summary>
    public const int InitialSize = 16 * 1024;

    /// <summary>The bytes to send: <c>Buffer[0..Count)</c>.</summary>
    public byte[] Buffer = new byte[InitialSize];

    /// <summary>How many bytes of <see cref="Buffer"/> are replies.</summary>
    public int Count;

    /// <summary>The replies written, to send.</summary>
    public ReadOnlyMemory<byte> Pending => Buffer.AsMemory(0, Count);

    /// <summary>Forgets the replies once sent; a buffer grown by a large reply is let go.</summary>
    public void Clear()
    {
        Count = 0;
        if (Buffer.Length > 1024 * 1024)
        {
            Buffer = new byte[InitialSize];
        }
    }

    /// <summary><c>+OK</c>.</summary>
    public void Ok() => Raw("+OK\r\n"u8);

    /// <summary>A simple string: <c>+text</c>; the text is ASCII with no line end.</summary>
    public void Simple(string text)
    {
        Reserve(text.Length + 3);
        Buffer[Count++] = (byte)'+';
        Count += Encoding.Latin1.GetBytes(text, Buffer.AsSpan(Count));
        CrLf();
    }

    /// <summary>An error: <c>-ERR text</c>; <paramref name="message"/> starts with its code (ERR, WRONGTYPE).</summary>
    public void Error(string message)
    {
        Reserve(message.Length + 3);
        Buffer[Count++] = (byte)'-';
        Count += Encoding.Latin1.GetBytes(message, Buffer.AsSpan(Count));
        CrLf();
    }

    /// <summary>An integer: <c>:n</c>.</summary>
    public void Integer(long value)
    {
        Reserve(24);
        Buffer[Count++] = (byte)':';
        value.TryFormat(Buffer.AsSpan(Count), out var written, default, System.Globalization.CultureInfo.InvariantCulture);
        Count += written;
        CrLf();
    }

    /// <summary>A bulk string: <c>$length</c> and the bytes.</summary>
    public void Bulk(ReadOnlySpan<byte> value)
    {
        Reserve(value.Length + 16);
        Header((byte)'$', value.Length);
        value.CopyTo(Buffer.AsSpan(Count));
        Count += value.Length;
        CrLf();
    }

    /// <summary>A bulk string of a key or text held as Latin-1 (one char per byte).</summary>
    public void Bulk(string value)
    {
        Reserve(value.Length + 16);
        Header((byte)'$', value.Length);
        Count += Encoding.Latin1.GetBytes(value, Buffer.AsSpan(Count));
        CrLf();
    }

    /// <summary>An integer as a bulk string (a SCAN cursor).</summary>
    public void BulkInteger(ulong value)
    {
        Span<byte> digits = stackalloc byte[24];
        value.TryFormat(digits, out var written, default, System.Globalization.CultureInfo.InvariantCulture);
        Bulk(digits[..written]);
    }

    /// <summary>The null bulk string: <c>$-1</c>; RESP3 has one null, <c>_</c>.</summary>
    public void Null() => Raw(Protocol == 3 ? "_\r\n"u8 : "$-1\r\n"u8);

    /// <summary>The null array: <c>*-1</c>; RESP3 has one null, <c>_</c>.</summary>
    public void NullArray() => Raw(Protocol == 3 ? "_\r\n"u8 : "*-1\r\n"u8);

    /// <summary>A map of <paramref name="pairs"/> keys and values, written next: RESP3's <c>%n</c>, a flat array of 2n in RESP2.</summary>
    public void MapHeader(int pairs)
    {
        Reserve(16);
        if (Protocol == 3)
        {
            Header((byte)'%', pairs);
        }
        else
        {
            Header((byte)'*', pairs * 2);
        }
    }

    /// <summary>A set of <paramref name="count"/> elements, written next: RESP3's <c>~n</c>, an array in RESP2.</summary>
    public void SetHeader(int count)
    {
        Reserve(16);
        Header(Protocol == 3 ? (byte)'~' : (byte)'*', count);
    }

    /// <summary>Text for people (INFO, CLIENT INFO): RESP3's verbatim string <c>=n txt:…</c>, a bulk string in RESP2.</summary>
    public void Verbatim(string text)
    {
        if (Protocol != 3)
        {
            Bulk(text);
            return;
        }
        Reserve(text.Length + 20);
        Header((byte)'=', text.Length + 4);
        Raw("txt:"u8);
        Count += Encoding.Latin1.GetBytes(text, Buffer.AsSpan(Count));
        CrLf();
    }

    /// <summary>An array of <paramref name="count"/> elements, written next.</summary>
    public void ArrayHeader(int count)
    {
        Reserve(16);
        Header((byte)'*', count);
    }

    /// <summary>Bytes already in RESP.</summary>
    public void Raw(ReadOnlySpan<byte> bytes)
    {
        Reserve(bytes.Length);
        bytes.CopyTo(Buffer.AsSpan(Count));
        Count += bytes.Length;
    }

    private void Header(byte kind, int length)
    {
        Buffer[Count++] = kind;
        length.TryFormat(Buffer.AsSpan(Count), out var written, default, System.Globalization.CultureInfo.InvariantCulture);
        Count += written;
        CrLf();
    }

    private void CrLf()
    {
        Buffer[Count] = (byte)'\r';
        Buffer[Count + 1] = (byte)'\n';
        Count += 2;
    }

    private void Reserve(int bytes)
    {
        if (Count + bytes + 2 > Buffer.Length)
        {
            Array.Resize(ref Buffer, (int)Math.Min(Array.MaxLength, Math.Max((long)Buffer.Length * 2, (long)Count + bytes + 2)));
        }
    }
}
