namespace Kv;

/// <summary>
/// The commands of strings that release 6 adds: GETEX, GETDEL, GETSET, SETNX, SETEX, PSETEX, MSETNX, STRLEN, APPEND,
/// GETRANGE, SETRANGE, INCRBYFLOAT, and (in their own files) GETBIT/SETBIT/BITCOUNT and LCS.
/// </summary>
internal static partial class Commands
{
    /// <summary>Redis's largest string (proto-max-bulk-len): APPEND and SETRANGE grow a string no further.</summary>
    private const long MaxStringLength = 512L * 1024 * 1024;

    private const string StringTooLong = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
    private const string NotFloat = "ERR value is not a valid float";

    /// <summary>Executes a string command added in release 6; false when the name is none of them.</summary>
    private static bool ExecuteMoreStringCommand(Connection c, ReadOnlySpan<char> name, long now)
    {
        switch (name)
        {
            case "GETEX": if (Arity(c, -2, "getex")) GetEx(c, now); break;
            case "GETDEL": if (Arity(c, 2, "getdel")) GetDel(c, now); break;
            case "GETSET": if (Arity(c, 3, "getset")) GetSet(c, now); break;
            case "SETNX": if (Arity(c, 3, "setnx")) SetNx(c, now); break;
            case "SETEX": if (Arity(c, 4, "setex")) SetEx(c, 1000, "setex", now); break;
            case "PSETEX": if (Arity(c, 4, "psetex")) SetEx(c, 1, "psetex", now); break;
            case "MSETNX": if (Arity(c, -3, "msetnx")) MSetNx(c, now); break;
            case "STRLEN": if (Arity(c, 2, "strlen")) StrLen(c, now); break;
            case "APPEND": if (Arity(c, 3, "append")) Append(c, now); break;
            case "GETRANGE": if (Arity(c, 4, "getrange")) GetRange(c, now); break;
            case "SETRANGE": if (Arity(c, 4, "setrange")) SetRange(c, now); break;
            case "INCRBYFLOAT": if (Arity(c, 3, "incrbyfloat")) IncrByFloat(c, now); break;
            case "GETBIT": if (Arity(c, 3, "getbit")) GetBit(c, now); break;
            case "SETBIT": if (Arity(c, 4, "setbit")) SetBit(c, now); break;
            case "BITCOUNT": if (Arity(c, -2, "bitcount")) BitCount(c, now); break;
            case "LCS": if (Arity(c, -3, "lcs")) Lcs(c, now); break;
            default:
                return false;
        }
        return true;
    }

    /// <summary>
    /// The deadline an expiry argument gives, as Redis's <c>getExpireMillisecondsOrReply</c> reads it: an integer
    /// (else "not an integer"), positive and within 64 bits once in milliseconds and added to now (else "invalid
    /// expire time in '<paramref name="name"/>' command"). <paramref name="unit"/> is 1000 for seconds, 1 for ms.
    /// </summary>
    private static bool TryParseDeadline(Connection c, int index, long unit, bool absolute, string name, long now, out long deadline)
    {
        deadline = 0;
        if (!Number.TryParseInt64(c.Arg(index), out var amount))
        {
            c.Output.Error(NotInteger);
            return false;
        }
        if (amount <= 0 || amount > long.MaxValue / unit || (!absolute && amount * unit > long.MaxValue - now))
        {
            c.Output.Error($"ERR invalid expire time in '{name}' command");
            return false;
        }
        deadline = absolute ? amount * unit : now + amount * unit;
        return true;
    }

    /// <summary>GETEX key [EX s | PX ms | EXAT s | PXAT ms | PERSIST]: GET that sets or clears the deadline.</summary>
    private static void GetEx(Connection c, long now)
    {
        // Redis's parseExtendedStringArgumentsOrReply: one kind of option, which may be repeated (the last one counts).
        string? option = null;
        var amountIndex = 0;
        for (var i = 2; i < c.ArgCount; i++)
        {
            var word = c.Is(i, "EX") ? "EX" : c.Is(i, "PX") ? "PX" : c.Is(i, "EXAT") ? "EXAT" : c.Is(i, "PXAT") ? "PXAT" : c.Is(i, "PERSIST") ? "PERSIST" : null;
            if (word is null || (option is not null && option != word) || (word != "PERSIST" && i + 1 == c.ArgCount))
            {
                c.Output.Error(SyntaxError);
                return;
            }
            option = word;
            if (word != "PERSIST")
            {
                amountIndex = ++i;
            }
        }
        var key = c.Key(1);
        if (!TryFind<StringValue>(c, key, now, out var value))
        {
            return;
        }
        if (value is null)
        {
            c.Output.Null();
            return;
        }
        var absolute = option is "EXAT" or "PXAT";
        var deadline = 0L;
        if (amountIndex > 0 && !TryParseDeadline(c, amountIndex, option is "EX" or "EXAT" ? 1000 : 1, absolute, "getex", now, out deadline))
        {
            return;
        }
        c.Output.Bulk(value.Bytes);
        var entry = Store.Peek(key, now)!;
        if (absolute && deadline <= now)
        {
            Store.Remove(key);
        }
        else if (amountIndex > 0 || (option == "PERSIST" && entry.Deadline != 0))
        {
            Store.SetDeadline(key, entry, deadline);
        }
    }

    private static void GetDel(Connection c, long now)
    {
        var key = c.Key(1);
        if (TryFind<StringValue>(c, key, now, out var value))
        {
            ReplyValue(c, value);
            if (value is not null)
            {
                Store.Remove(key);
            }
        }
    }

    /// <summary>GETSET key value: SET key value GET (the deadline goes).</summary>
    private static void GetSet(Connection c, long now)
    {
        var key = c.Key(1);
        if (TryFind<StringValue>(c, key, now, out var old))
        {
            Store.Put(key, new Entry(new StringValue(c.Value(2))));
            ReplyValue(c, old);
        }
    }

    /// <summary>A string's value or null.</summary>
    private static void ReplyValue(Connection c, StringValue? value)
    {
        if (value is null)
        {
            c.Output.Null();
        }
        else
        {
            c.Output.Bulk(value.Bytes);
        }
    }

    private static void SetNx(Connection c, long now)
    {
        var key = c.Key(1);
        if (Store.Peek(key, now) is not null)
        {
            c.Output.Integer(0);
            return;
        }
        Store.Put(key, new Entry(new StringValue(c.Value(2))));
        c.Output.Integer(1);
    }

    /// <summary>SETEX / PSETEX key amount value.</summary>
    private static void SetEx(Connection c, long unit, string name, long now)
    {
        if (TryParseDeadline(c, 2, unit, absolute: false, name, now, out var deadline))
        {
            Store.Put(c.Key(1), new Entry(new StringValue(c.Value(3))) { Deadline = deadline });
            c.Output.Ok();
        }
    }

    /// <summary>MSETNX key value [key value ...]: all or none, none when any key exists.</summary>
    private static void MSetNx(Connection c, long now)
    {
        if (c.ArgCount % 2 == 0)
        {
            c.Output.Error("ERR wrong number of arguments for 'msetnx' command");
            return;
        }
        for (var i = 1; i < c.ArgCount; i += 2)
        {
            if (Store.Peek(c.Key(i), now) is not null)
            {
                c.Output.Integer(0);
                return;
            }
        }
        for (var i = 1; i < c.ArgCount; i += 2)
        {
            Store.Put(c.Key(i), new Entry(new StringValue(c.Value(i + 1))));
        }
        c.Output.Integer(1);
    }

    private static void StrLen(Connection c, long now)
    {
        if (TryFind<StringValue>(c, c.Key(1), now, out var value))
        {
            c.Output.Integer(value?.Bytes.Length ?? 0);
        }
    }

    /// <summary>APPEND key value: the new length; the deadline stays.</summary>
    private static void Append(Connection c, long now)
    {
        var key = c.Key(1);
        if (!TryFind<StringValue>(c, key, now, out var value))
        {
            return;
        }
        var tail = c.Arg(2);
        if (value is null)
        {
            Store.Put(key, new Entry(new StringValue(tail.ToArray())));
            c.Output.Integer(tail.Length);
            return;
        }
        if ((long)value.Bytes.Length + tail.Length > MaxStringLength)
        {
            c.Output.Error(StringTooLong);
            return;
        }
        var joined = new byte[value.Bytes.Length + tail.Length];
        value.Bytes.CopyTo(joined, 0);
        tail.CopyTo(joined.AsSpan(value.Bytes.Length));
        value.Bytes = joined;
        c.Output.Integer(joined.Length);
    }

    /// <summary>GETRANGE key start end: inclusive, negative from the end, clamped, as Redis's getrangeCommand.</summary>
    private static void GetRange(Connection c, long now)
    {
        if (!Number.TryParseInt64(c.Arg(2), out var start) || !Number.TryParseInt64(c.Arg(3), out var end))
        {
            c.Output.Error(NotInteger);
            return;
        }
        if (!TryFind<StringValue>(c, c.Key(1), now, out var value))
        {
            return;
        }
        var bytes = value?.Bytes ?? [];
        long length = bytes.Length;
        if (start < 0 && end < 0 && start > end)
        {
            c.Output.Bulk(ReadOnlySpan<byte>.Empty);
            return;
        }
        if (start < 0) start = length + start;
        if (end < 0) end = length + end;
        if (start < 0) start = 0;
        if (end < 0) end = 0;
        if (end >= length) end = length - 1;
        if (start > end || length == 0)
        {
            c.Output.Bulk(ReadOnlySpan<byte>.Empty);
            return;
        }
        c.Output.Bulk(bytes.AsSpan((int)start, (int)(end - start + 1)));
    }

    /// <summary>SETRANGE key offset value: overwrites from the offset, padding with zero bytes; the new length.</summary>
    private static void SetRange(Connection c, long now)
    {
        if (!Number.TryParseInt64(c.Arg(2), out var offset))
        {
            c.Output.Error(NotInteger);
            return;
        }
        if (offset < 0)
        {
            c.Output.Error("ERR offset is out of range");
            return;
        }
        var key = c.Key(1);
        if (!TryFind<StringValue>(c, key, now, out var value))
        {
            return;
        }
        var patch = c.Arg(3);
        if (patch.Length == 0)
        {
            c.Output.Integer(value?.Bytes.Length ?? 0); // Nothing written: a missing key stays missing.
            return;
        }
        if (offset + patch.Length > MaxStringLength)
        {
            c.Output.Error(StringTooLong);
            return;
        }
        if (value is null)
        {
            value = new StringValue([]);
            Store.Put(key, new Entry(value));
        }
        var needed = (int)offset + patch.Length;
        if (needed > value.Bytes.Length)
        {
            var grown = new byte[needed];
            value.Bytes.CopyTo(grown, 0);
            value.Bytes = grown;
        }
        patch.CopyTo(value.Bytes.AsSpan((int)offset));
        c.Output.Integer(value.Bytes.Length);
    }

    /// <summary>INCRBYFLOAT key increment: the new value as Redis prints it (see <see cref="RedisFloat"/>); the deadline stays.</summary>
    private static void IncrByFloat(Connection c, long now)
    {
        var key = c.Key(1);
        if (!TryFind<StringValue>(c, key, now, out var value))
        {
            return;
        }
        var current = FloatValue.Zero;
        if ((value is not null && !RedisFloat.TryParse(value.Bytes, out current)) || !RedisFloat.TryParse(c.Arg(2), out var increment))
        {
            c.Output.Error(NotFloat);
            return;
        }
        if (!RedisFloat.TryAdd(current, increment, out var sum))
        {
            c.Output.Error("ERR increment would produce NaN or Infinity");
            return;
        }
        if (value is null)
        {
            Store.Put(key, new Entry(new StringValue(sum)));
        }
        else
        {
            value.Bytes = sum;
        }
        c.Output.Bulk(sum);
    }
}
