namespace Kv;

/// <summary>What <see cref="RespParser.TryParse"/> found at the start of the unparsed bytes.</summary>
internal enum ParseStatus
{
    /// <summary>A whole command (possibly with no argument: an empty line, <c>*0</c>), to execute and skip.</summary>
    Complete,

    /// <summary>Only part of a command: it stays in the buffer until more bytes arrive.</summary>
    Incomplete,

    /// <summary>Bytes that are not RESP: the connection is answered an error and closed, as Redis does.</summary>
    Error,
}

/// <summary>
/// An incremental RESP2 request parser: arrays of bulk strings, and inline commands (<c>PING\r\n</c>), which
/// redis-cli and redis-benchmark may send. It keeps no state of its own: the connection's buffer is the state,
/// so a command half received when an update comes is parsed again, whole, by the next version.
/// </summary>
internal static class RespParser
{
    /// <summary>The largest bulk string accepted (Redis's default is 512 MB; a smaller bound keeps one client from taking the memory).</summary>
    public const int MaxBulkLength = 64 * 1024 * 1024;

    /// <summary>The most arguments one command may have.</summary>
    public const int MaxArguments = 1024 * 1024;

    /// <summary>The longest inline command line, as Redis's <c>PROTO_INLINE_MAX_SIZE</c>.</summary>
    public const int MaxInlineLength = 64 * 1024;

    /// <summary>
    /// Parses one command from <paramref name="buffer"/>[<paramref name="start"/>..<paramref name="end"/>). On
    /// <see cref="ParseStatus.Complete"/> the arguments are <paramref name="offsets"/>/<paramref name="lengths"/>
    /// (positions in the buffer, arrays grown as needed), <paramref name="argumentCount"/> of them, and the command
    /// ends at <paramref name="next"/>. On <see cref="ParseStatus.Error"/>, <paramref name="error"/> is Redis's message.
    /// </summary>
    public static ParseStatus TryParse(byte[] buffer, int start, int end, ref int[] offsets, ref int[] lengths,
        out int argumentCount, out int next, out string? error)
    {
        argumentCount = 0;
        next = start;
        error = null;
        if (start >= end)
        {
            return ParseStatus.Incomplete;
        }
        return buffer[start] == (byte)'*'
            ? ParseMultibulk(buffer, start, end, ref offsets, ref lengths, out argumentCount, out next, out error)
            : ParseInline(buffer, start, end, ref offsets, ref lengths, out argumentCount, out next, out error);
    }

    private static ParseStatus ParseMultibulk(byte[] buffer, int start, int end, ref int[] offsets, ref int[] lengths,
        out int argumentCount, out int next, out string? error)
    {
        argumentCount = 0;
        next = start;
        error = null;
        var position = start + 1;
        switch (ReadLength(buffer, ref position, end, out var count))
        {
            case ParseStatus.Incomplete:
                if (end - start > MaxInlineLength)
                {
                    error = "ERR Protocol error: too big mbulk count string";
                    return ParseStatus.Error;
                }
                return ParseStatus.Incomplete;
            case ParseStatus.Error:
                error = "ERR Protocol error: invalid multibulk length";
                return ParseStatus.Error;
        }
        if (count > MaxArguments)
        {
            error = "ERR Protocol error: invalid multibulk length";
            return ParseStatus.Error;
        }
        if (count <= 0)
        {
            next = position; // *0 and *-1 are skipped, as Redis does.
            return ParseStatus.Complete;
        }
        if (offsets.Length < count)
        {
            var size = Math.Max(count, offsets.Length * 2);
            offsets = new int[size];
            lengths = new int[size];
        }
        for (var i = 0; i < count; i++)
        {
            if (position >= end)
            {
                return ParseStatus.Incomplete;
            }
            if (buffer[position] != (byte)'$')
            {
                error = $"ERR Protocol error: expected '$', got '{(char)buffer[position]}'";
                return ParseStatus.Error;
            }
            position++;
            switch (ReadLength(buffer, ref position, end, out var length))
            {
                case ParseStatus.Incomplete:
                    return ParseStatus.Incomplete;
                case ParseStatus.Error:
                    error = "ERR Protocol error: invalid bulk length";
                    return ParseStatus.Error;
            }
            if (length < 0 || length > MaxBulkLength)
            {
                error = "ERR Protocol error: invalid bulk length";
                return ParseStatus.Error;
            }
            if ((long)end - position < length + 2L)
            {
                return ParseStatus.Incomplete;
            }
            offsets[i] = position;
            lengths[i] = (int)length;
            position += (int)length + 2; // The bulk and its CRLF.
        }
        argumentCount = (int)count;
        next = position;
        return ParseStatus.Complete;
    }

    /// <summary>Reads a decimal length ended by CRLF, leaving <paramref name="position"/> after the CRLF.</summary>
    private static ParseStatus ReadLength(byte[] buffer, ref int position, int end, out long value)
    {
        value = 0;
        var newline = Array.IndexOf(buffer, (byte)'\r', position, end - position);
        if (newline < 0 || newline + 1 >= end)
        {
            return ParseStatus.Incomplete;
        }
        if (buffer[newline + 1] != (byte)'\n' || !Number.TryParseInt64(buffer.AsSpan(position, newline - position), out value))
        {
            return ParseStatus.Error;
        }
        position = newline + 2;
        return ParseStatus.Complete;
    }

    /// <summary>
    /// An inline command, as a telnet user types it: words separated by spaces, ended by LF (CRLF), split as Redis's
    /// <c>sdssplitargs</c> does: <c>"..."</c> with the escapes <c>\n \r \t \b \a \\ \"</c> and <c>\xHH</c>,
    /// <c>'...'</c> with <c>\'</c> only; a closing quote must end the word. An argument with escapes is unescaped in
    /// place, in the buffer: it never grows, and the line is consumed once executed.
    /// </summary>
    private static ParseStatus ParseInline(byte[] buffer, int start, int end, ref int[] offsets, ref int[] lengths,
        out int argumentCount, out int next, out string? error)
    {
        argumentCount = 0;
        next = start;
        error = null;
        var newline = Array.IndexOf(buffer, (byte)'\n', start, end - start);
        if (newline < 0)
        {
            if (end - start > MaxInlineLength)
            {
                error = "ERR Protocol error: too big inline request";
                return ParseStatus.Error;
            }
            return ParseStatus.Incomplete;
        }
        var lineEnd = newline > start && buffer[newline - 1] == (byte)'\r' ? newline - 1 : newline;
        var count = 0;
        var position = start;
        while (true)
        {
            while (position < lineEnd && IsBlank(buffer[position]))
            {
                position++;
            }
            if (position == lineEnd)
            {
                break;
            }
            var wordStart = position;
            if (!ReadWord(buffer, ref position, lineEnd, out var wordLength))
            {
                error = "ERR Protocol error: unbalanced quotes in request";
                return ParseStatus.Error;
            }
            if (count == offsets.Length)
            {
                Array.Resize(ref offsets, count * 2);
                Array.Resize(ref lengths, count * 2);
            }
            offsets[count] = wordStart;
            lengths[count] = wordLength;
            count++;
        }
        argumentCount = count;
        next = newline + 1;
        return ParseStatus.Complete;
    }

    /// <summary>
    /// Reads one word of an inline command from <paramref name="position"/> (not a blank), writing its bytes, quotes
    /// removed and escapes decoded, from where it starts; leaves <paramref name="position"/> after it. False for an
    /// unbalanced quote, or a closing quote followed by something other than a blank.
    /// </summary>
    private static bool ReadWord(byte[] buffer, ref int position, int lineEnd, out int length)
    {
        var write = position;
        var wordStart = position;
        var inDoubleQuotes = false;
        var inSingleQuotes = false;
        length = 0;
        while (true)
        {
            var at = position < lineEnd ? buffer[position] : (byte)0;
            var atEnd = position >= lineEnd;
            if (inDoubleQuotes)
            {
                if (atEnd)
                {
                    return false;
                }
                if (at == (byte)'\\' && position + 3 < lineEnd && buffer[position + 1] == (byte)'x'
                    && IsHexDigit(buffer[position + 2]) && IsHexDigit(buffer[position + 3]))
                {
                    buffer[write++] = (byte)(HexValue(buffer[position + 2]) * 16 + HexValue(buffer[position + 3]));
                    position += 4;
                }
                else if (at == (byte)'\\' && position + 1 < lineEnd)
                {
                    buffer[write++] = buffer[position + 1] switch
                    {
                        (byte)'n' => (byte)'\n',
                        (byte)'r' => (byte)'\r',
                        (byte)'t' => (byte)'\t',
                        (byte)'b' => (byte)'\b',
                        (byte)'a' => (byte)'\a',
                        var other => other,
                    };
                    position += 2;
                }
                else if (at == (byte)'"')
                {
                    position++;
                    if (position < lineEnd && !IsBlank(buffer[position]))
                    {
                        return false; // A closing quote must be followed by a space or the end.
                    }
                    break;
                }
                else
                {
                    buffer[write++] = at;
                    position++;
                }
            }
            else if (inSingleQuotes)
            {
                if (atEnd)
                {
                    return false;
                }
                if (at == (byte)'\\' && position + 1 < lineEnd && buffer[position + 1] == (byte)'\'')
                {
                    buffer[write++] = (byte)'\'';
                    position += 2;
                }
                else if (at == (byte)'\'')
                {
                    position++;
                    if (position < lineEnd && !IsBlank(buffer[position]))
                    {
                        return false;
                    }
                    break;
                }
                else
                {
                    buffer[write++] = at;
                    position++;
                }
            }
            else if (atEnd || at is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t')
            {
                break;
            }
            else if (at == (byte)'"')
            {
                inDoubleQuotes = true;
                position++;
            }
            else if (at == (byte)'\'')
            {
                inSingleQuotes = true;
                position++;
            }
            else
            {
                buffer[write++] = at;
                position++;
            }
        }
        length = write - wordStart;
        return true;
    }

    /// <summary>The blanks between inline words (C's <c>isspace</c>).</summary>
    private static bool IsBlank(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r';

    private static bool IsHexDigit(byte b) => b is >= (byte)'0' and <= (byte)'9' or >= (byte)'a' and <= (byte)'f' or >= (byte)'A' and <= (byte)'F';

    private static int HexValue(byte b) => b <= (byte)'9' ? b - '0' : (b | 0x20) - 'a' + 10;
}
