using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Kv;

/// <summary>The commands: parsed from a connection's buffer, executed under the store's lock, answered into its output.</summary>
internal static partial class Commands
{
    private const string SyntaxError = "ERR syntax error";
    private const string NotInteger = "ERR value is not an integer or out of range";

    /// <summary>The release, as INFO's <c>kv_version</c> tells clients.</summary>
    private static int ReleaseNumber => typeof(Commands).Assembly.GetName().Version!.Major;

    /// <summary>
    /// Executes every whole command received, in order, appending the replies; the bytes of a partial command
    /// stay. False when the connection is to be closed (QUIT, a protocol error).
    /// </summary>
    public static bool ExecuteAll(Connection c)
    {
        var position = 0;
        var keepOpen = true;
        lock (Store.Gate)
        {
            var now = Clock.NowMs;
            while (position < c.ReceivedCount)
            {
                var status = RespParser.TryParse(c.Received, position, c.ReceivedCount, ref c.ArgOffsets, ref c.ArgLengths,
                    out var count, out var next, out var error);
                if (status == ParseStatus.Incomplete)
                {
                    break;
                }
                if (status == ParseStatus.Error)
                {
                    c.Output.Error(error!);
                    position = c.ReceivedCount;
                    keepOpen = false;
                    break;
                }
                position = next;
                if (count == 0)
                {
                    continue;
                }
                c.ArgCount = count;
                if (!Execute(c, now))
                {
                    position = c.ReceivedCount;
                    keepOpen = false;
                    break;
                }
            }
        }
        c.Consumed(position);
        return keepOpen;
    }

    /// <summary>Executes the command in <paramref name="c"/>'s arguments; false for QUIT.</summary>
    private static bool Execute(Connection c, long now)
    {
        var nameBytes = c.Arg(0);
        if (nameBytes.Length > 32)
        {
            Unknown(c);
            return true;
        }
        Span<char> name = stackalloc char[nameBytes.Length];
        for (var i = 0; i < nameBytes.Length; i++)
        {
            var b = nameBytes[i];
            name[i] = (char)(b is >= (byte)'a' and <= (byte)'z' ? b - 32 : b);
        }
        switch (name)
        {
            case "GET": if (Arity(c, 2, "get")) Get(c, now); break;
            case "SET": if (Arity(c, -3, "set")) Set(c, now); break;
            case "DEL": if (Arity(c, -2, "del")) Del(c, now); break;
            case "UNLINK": if (Arity(c, -2, "unlink")) Del(c, now); break;
            case "EXISTS": if (Arity(c, -2, "exists")) Exists(c, now); break;
            case "INCR": if (Arity(c, 2, "incr")) IncrBy(c, 1, now); break;
            case "DECR": if (Arity(c, 2, "decr")) IncrBy(c, -1, now); break;
            case "INCRBY": if (Arity(c, 3, "incrby")) IncrByArgument(c, negate: false, now); break;
            case "DECRBY": if (Arity(c, 3, "decrby")) IncrByArgument(c, negate: true, now); break;
            case "MGET": if (Arity(c, -2, "mget")) MGet(c, now); break;
            case "MSET": MSet(c, now); break;
            case "EXPIRE": if (Arity(c, -3, "expire")) Expire(c, 1000, "expire", now); break;
            case "PEXPIRE": if (Arity(c, -3, "pexpire")) Expire(c, 1, "pexpire", now); break;
            case "TTL": if (Arity(c, 2, "ttl")) Ttl(c, inSeconds: true, now); break;
            case "PTTL": if (Arity(c, 2, "pttl")) Ttl(c, inSeconds: false, now); break;
            case "PERSIST": if (Arity(c, 2, "persist")) Persist(c, now); break;
            case "KEYS": if (Arity(c, 2, "keys")) Keys(c, now); break;
            case "SCAN": if (Arity(c, -2, "scan")) Scan(c, now); break;
            case "DBSIZE": if (Arity(c, 1, "dbsize")) c.Output.Integer(Store.Count); break;
            case "FLUSHDB": if (Arity(c, -1, "flushdb")) Flush(c); break;
            case "FLUSHALL": if (Arity(c, -1, "flushall")) Flush(c); break;
            case "PING": Ping(c); break;
            case "ECHO": if (Arity(c, 2, "echo")) c.Output.Bulk(c.Arg(1)); break;
            case "INFO": Info(c); break;
            case "SELECT": if (Arity(c, 2, "select")) Select(c); break;
            case "CLIENT": if (Arity(c, -2, "client")) Client(c); break;
            case "CONFIG": if (Arity(c, -2, "config")) Config(c); break;
            case "COMMAND": Command(c); break;
            case "LPUSH": if (Arity(c, -3, "lpush")) Push(c, head: true, now); break;
            case "RPUSH": if (Arity(c, -3, "rpush")) Push(c, head: false, now); break;
            case "LPOP": if (Arity(c, -2, "lpop")) Pop(c, head: true, "lpop", now); break;
            case "RPOP": if (Arity(c, -2, "rpop")) Pop(c, head: false, "rpop", now); break;
            case "LRANGE": if (Arity(c, 4, "lrange")) LRange(c, now); break;
            case "LLEN": if (Arity(c, 2, "llen")) LLen(c, now); break;
            case "HSET": HSet(c, now); break;
            case "HGET": if (Arity(c, 3, "hget")) HGet(c, now); break;
            case "HDEL": if (Arity(c, -3, "hdel")) HDel(c, now); break;
            case "HGETALL": if (Arity(c, 2, "hgetall")) HGetAll(c, now); break;
            case "HLEN": if (Arity(c, 2, "hlen")) HLen(c, now); break;
            case "TYPE": if (Arity(c, 2, "type")) c.Output.Simple(Store.Peek(c.Key(1), now)?.Value.TypeName ?? "none"); break;
            case "SADD": if (Arity(c, -3, "sadd")) SAdd(c, now); break;
            case "SREM": if (Arity(c, -3, "srem")) SRem(c, now); break;
            case "SMEMBERS": if (Arity(c, 2, "smembers")) SMembers(c, now); break;
            case "SISMEMBER": if (Arity(c, 3, "sismember")) SIsMember(c, now); break;
            case "SCARD": if (Arity(c, 2, "scard")) SCard(c, now); break;
            case "OBJECT": if (Arity(c, -2, "object")) ObjectInfo(c, now); break;
            case "QUIT":
                c.Output.Ok();
                return false;
            default:
                Unknown(c);
                break;
        }
        return true;
    }

    /// <summary>Checks the argument count as Redis declares it: exactly <paramref name="arity"/>, or at least -arity when negative.</summary>
    private static bool Arity(Connection c, int arity, string name)
    {
        if (arity >= 0 ? c.ArgCount == arity : c.ArgCount >= -arity)
        {
            return true;
        }
        c.Output.Error($"ERR wrong number of arguments for '{name}' command");
        return false;
    }

    private static void Unknown(Connection c)
    {
        var message = new StringBuilder("ERR unknown command '").Append(Printable(c.Arg(0))).Append("', with args beginning with: ");
        for (var i = 1; i < c.ArgCount && message.Length < 256; i++)
        {
            message.Append('\'').Append(Printable(c.Arg(i))).Append("' ");
        }
        c.Output.Error(message.ToString());
    }

    /// <summary>An argument as error text: at most 128 bytes, with no line end to break the reply.</summary>
    private static string Printable(ReadOnlySpan<byte> bytes) =>
        Encoding.Latin1.GetString(bytes[..Math.Min(bytes.Length, 128)]).Replace('\r', ' ').Replace('\n', ' ');

    private const string WrongType = "WRONGTYPE Operation against a key holding the wrong kind of value";

    private static void Get(Connection c, long now)
    {
        var entry = Store.Find(c.Key(1), now);
        if (entry is not null && entry.Value is not StringValue)
        {
            c.Output.Error(WrongType);
            return;
        }
        ReplyValue(c, entry);
    }

    /// <summary>SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL].</summary>
    private static void Set(Connection c, long now)
    {
        bool nx = false, xx = false, get = false, keepTtl = false, hasExpiry = false;
        long deadline = 0;
        for (var i = 3; i < c.ArgCount; i++)
        {
            if (c.Is(i, "NX") && !xx)
            {
                nx = true;
            }
            else if (c.Is(i, "XX") && !nx)
            {
                xx = true;
            }
            else if (c.Is(i, "GET"))
            {
                get = true;
            }
            else if (c.Is(i, "KEEPTTL") && !hasExpiry)
            {
                keepTtl = true;
            }
            else if ((c.Is(i, "EX") || c.Is(i, "PX") || c.Is(i, "EXAT") || c.Is(i, "PXAT")) && !hasExpiry && !keepTtl && i + 1 < c.ArgCount)
            {
                hasExpiry = true;
                var unit = c.Is(i, "EX") || c.Is(i, "EXAT") ? 1000 : 1;
                var absolute = c.Is(i, "EXAT") || c.Is(i, "PXAT");
                i++;
                if (!Number.TryParseInt64(c.Arg(i), out var amount))
                {
                    c.Output.Error(NotInteger);
                    return;
                }
                if (amount <= 0 || amount > long.MaxValue / unit || (!absolute && amount * unit > long.MaxValue - now))
                {
                    c.Output.Error("ERR invalid expire time in 'set' command");
                    return;
                }
                deadline = absolute ? amount * unit : now + amount * unit;
            }
            else
            {
                c.Output.Error(SyntaxError);
                return;
            }
        }
        var key = c.Key(1);
        var existing = Store.Find(key, now);
        if (get && existing is not null && existing.Value is not StringValue)
        {
            c.Output.Error(WrongType);
            return;
        }
        if ((nx && existing is not null) || (xx && existing is null))
        {
            if (get)
            {
                ReplyValue(c, existing);
            }
            else
            {
                c.Output.Null();
            }
            return;
        }
        if (keepTtl && existing is not null)
        {
            deadline = existing.Deadline;
        }
        Store.Put(key, new Entry(new StringValue(c.Value(2))) { Deadline = deadline });
        if (get)
        {
            ReplyValue(c, existing);
        }
        else
        {
            c.Output.Ok();
        }
    }

    /// <summary>A string's value, or null for no key or a key of another type (as MGET answers).</summary>
    private static void ReplyValue(Connection c, Entry? entry)
    {
        if (entry?.Value is StringValue value)
        {
            c.Output.Bulk(value.Bytes);
        }
        else
        {
            c.Output.Null();
        }
    }

    private static void Del(Connection c, long now)
    {
        var removed = 0;
        for (var i = 1; i < c.ArgCount; i++)
        {
            var key = c.Key(i);
            if (Store.Peek(key, now) is not null && Store.Remove(key))
            {
                removed++;
            }
        }
        c.Output.Integer(removed);
    }

    private static void Exists(Connection c, long now)
    {
        var found = 0;
        for (var i = 1; i < c.ArgCount; i++)
        {
            if (Store.Peek(c.Key(i), now) is not null)
            {
                found++;
            }
        }
        c.Output.Integer(found);
    }

    private static void IncrByArgument(Connection c, bool negate, long now)
    {
        if (!Number.TryParseInt64(c.Arg(2), out var delta))
        {
            c.Output.Error(NotInteger);
            return;
        }
        if (negate && delta == long.MinValue)
        {
            c.Output.Error("ERR decrement would overflow");
            return;
        }
        IncrBy(c, negate ? -delta : delta, now);
    }

    private static void IncrBy(Connection c, long delta, long now)
    {
        var key = c.Key(1);
        var entry = Store.Find(key, now);
        long value = 0;
        if (entry is not null && entry.Value is not StringValue)
        {
            c.Output.Error(WrongType);
            return;
        }
        if (entry is not null && !Number.TryParseInt64(((StringValue)entry.Value).Bytes, out value))
        {
            c.Output.Error(NotInteger);
            return;
        }
        if ((delta > 0 && value > long.MaxValue - delta) || (delta < 0 && value < long.MinValue - delta))
        {
            c.Output.Error("ERR increment or decrement would overflow");
            return;
        }
        value += delta;
        if (entry is null)
        {
            Store.Put(key, new Entry(new StringValue(Number.Format(value))));
        }
        else
        {
            ((StringValue)entry.Value).Bytes = Number.Format(value); // The deadline stays.
        }
        c.Output.Integer(value);
    }

    private static void MGet(Connection c, long now)
    {
        c.Output.ArrayHeader(c.ArgCount - 1);
        for (var i = 1; i < c.ArgCount; i++)
        {
            ReplyValue(c, Store.Find(c.Key(i), now));
        }
    }

    private static void MSet(Connection c, long now)
    {
        if (c.ArgCount < 3 || c.ArgCount % 2 == 0)
        {
            c.Output.Error("ERR wrong number of arguments for 'mset' command");
            return;
        }
        for (var i = 1; i < c.ArgCount; i += 2)
        {
            Store.Put(c.Key(i), new Entry(new StringValue(c.Value(i + 1))));
        }
        c.Output.Ok();
    }

    /// <summary>EXPIRE / PEXPIRE key amount [NX|XX|GT|LT].</summary>
    private static void Expire(Connection c, long unit, string name, long now)
    {
        if (!Number.TryParseInt64(c.Arg(2), out var amount))
        {
            c.Output.Error(NotInteger);
            return;
        }
        bool nx = false, xx = false, gt = false, lt = false;
        for (var i = 3; i < c.ArgCount; i++)
        {
            if (c.Is(i, "NX")) nx = true;
            else if (c.Is(i, "XX")) xx = true;
            else if (c.Is(i, "GT")) gt = true;
            else if (c.Is(i, "LT")) lt = true;
            else
            {
                c.Output.Error($"ERR Unsupported option {Printable(c.Arg(i))}");
                return;
            }
        }
        if (nx && (xx || gt || lt))
        {
            c.Output.Error("ERR NX and XX, GT or LT options at the same time are not compatible");
            return;
        }
        if (gt && lt)
        {
            c.Output.Error("ERR GT and LT options at the same time are not compatible");
            return;
        }
        if (amount > long.MaxValue / unit || amount < long.MinValue / unit
            || (amount > 0 && amount * unit > long.MaxValue - now))
        {
            c.Output.Error($"ERR invalid expire time in '{name}' command");
            return;
        }
        var key = c.Key(1);
        var entry = Store.Find(key, now);
        if (entry is null)
        {
            c.Output.Integer(0);
            return;
        }
        var deadline = now + amount * unit;
        var current = entry.Deadline;
        // No deadline counts as an infinite one for GT and LT, as in Redis.
        if ((nx && current != 0) || (xx && current == 0) || (gt && (current == 0 || deadline <= current))
            || (lt && current != 0 && deadline >= current))
        {
            c.Output.Integer(0);
            return;
        }
        if (deadline <= now)
        {
            Store.Remove(key);
        }
        else
        {
            Store.SetDeadline(key, entry, deadline);
        }
        c.Output.Integer(1);
    }

    private static void Ttl(Connection c, bool inSeconds, long now)
    {
        var entry = Store.Peek(c.Key(1), now);
        if (entry is null)
        {
            c.Output.Integer(-2);
        }
        else if (entry.Deadline == 0)
        {
            c.Output.Integer(-1);
        }
        else
        {
            var left = entry.Deadline - now;
            c.Output.Integer(inSeconds ? (left + 500) / 1000 : left);
        }
    }

    private static void Persist(Connection c, long now)
    {
        var key = c.Key(1);
        var entry = Store.Find(key, now);
        if (entry is null || entry.Deadline == 0)
        {
            c.Output.Integer(0);
            return;
        }
        Store.SetDeadline(key, entry, 0);
        c.Output.Integer(1);
    }

    private static void Keys(Connection c, long now)
    {
        var keys = Store.Matching(c.Key(1), now);
        c.Output.ArrayHeader(keys.Count);
        foreach (var key in keys)
        {
            c.Output.Bulk(key);
        }
    }

    /// <summary>SCAN cursor [MATCH pattern] [COUNT count] [TYPE type].</summary>
    private static void Scan(Connection c, long now)
    {
        if (!Number.TryParseCursor(c.Arg(1), out var cursor))
        {
            c.Output.Error("ERR invalid cursor");
            return;
        }
        string? pattern = null;
        string? type = null;
        long count = 10;
        for (var i = 2; i < c.ArgCount; i++)
        {
            if (c.Is(i, "MATCH") && i + 1 < c.ArgCount)
            {
                pattern = c.Key(++i);
            }
            else if (c.Is(i, "TYPE") && i + 1 < c.ArgCount)
            {
                type = c.Key(++i).ToLowerInvariant();
            }
            else if (c.Is(i, "COUNT") && i + 1 < c.ArgCount)
            {
                if (!Number.TryParseInt64(c.Arg(++i), out count))
                {
                    c.Output.Error(NotInteger);
                    return;
                }
                if (count < 1)
                {
                    c.Output.Error(SyntaxError);
                    return;
                }
            }
            else
            {
                c.Output.Error(SyntaxError);
                return;
            }
        }
        var snapshot = Store.ScanKeys(cursor, out var id);
        if (snapshot is null)
        {
            c.Output.Error("ERR invalid cursor");
            return;
        }
        var position = (int)(cursor & uint.MaxValue);
        var end = (int)Math.Min(snapshot.Length, position + count);
        var found = new List<string>();
        for (var i = position; i < end; i++)
        {
            var key = snapshot[i];
            if (Store.Peek(key, now) is { } entry && (pattern is null || Glob.IsMatch(pattern, key))
                && (type is null || entry.Value.TypeName == type))
            {
                found.Add(key);
            }
        }
        c.Output.ArrayHeader(2);
        if (end >= snapshot.Length)
        {
            Store.EndScan(id);
            c.Output.BulkInteger(0);
        }
        else
        {
            c.Output.BulkInteger(((ulong)id << 32) | (uint)end);
        }
        c.Output.ArrayHeader(found.Count);
        foreach (var key in found)
        {
            c.Output.Bulk(key);
        }
    }

    private static void Flush(Connection c)
    {
        if (c.ArgCount > 2 || (c.ArgCount == 2 && !c.Is(1, "ASYNC") && !c.Is(1, "SYNC")))
        {
            c.Output.Error(SyntaxError);
            return;
        }
        Store.Clear();
        c.Output.Ok();
    }

    private static void Ping(Connection c)
    {
        switch (c.ArgCount)
        {
            case 1:
                c.Output.Raw("+PONG\r\n"u8);
                break;
            case 2:
                c.Output.Bulk(c.Arg(1));
                break;
            default:
                c.Output.Error("ERR wrong number of arguments for 'ping' command");
                break;
        }
    }

    private static void Select(Connection c)
    {
        if (!Number.TryParseInt64(c.Arg(1), out var db))
        {
            c.Output.Error(NotInteger);
        }
        else if (db != 0)
        {
            c.Output.Error("ERR DB index is out of range");
        }
        else
        {
            c.Db = 0;
            c.Output.Ok();
        }
    }

    /// <summary>CLIENT SETNAME / GETNAME / ID / INFO.</summary>
    private static void Client(Connection c)
    {
        if (c.Is(1, "SETNAME"))
        {
            if (c.ArgCount != 3)
            {
                c.Output.Error("ERR wrong number of arguments for 'client|setname' command");
                return;
            }
            foreach (var b in c.Arg(2))
            {
                if (b is < (byte)'!' or > (byte)'~')
                {
                    c.Output.Error("ERR Client names cannot contain spaces, newlines or special characters.");
                    return;
                }
            }
            c.Name = c.ArgLengths[2] == 0 ? null : c.Key(2);
            c.Output.Ok();
        }
        else if (c.Is(1, "GETNAME") && c.ArgCount == 2)
        {
            if (c.Name is null)
            {
                c.Output.Null();
            }
            else
            {
                c.Output.Bulk(c.Name);
            }
        }
        else if (c.Is(1, "ID") && c.ArgCount == 2)
        {
            c.Output.Integer(c.Id);
        }
        else if (c.Is(1, "INFO") && c.ArgCount == 2)
        {
            c.Output.Bulk($"id={c.Id} addr={c.Socket.RemoteEndPoint} name={c.Name} db={c.Db}\n");
        }
        else
        {
            c.Output.Error($"ERR unknown subcommand '{Printable(c.Arg(1))}'. Try CLIENT HELP.");
        }
    }

    /// <summary>CONFIG GET answers the few settings clients ask about (redis-benchmark asks for save and appendonly).</summary>
    private static void Config(Connection c)
    {
        if (c.Is(1, "GET") && c.ArgCount >= 3)
        {
            (string Name, string Value)[] settings = [("save", ""), ("appendonly", "no"), ("databases", "1")];
            var found = new List<(string Name, string Value)>();
            foreach (var setting in settings)
            {
                for (var i = 2; i < c.ArgCount; i++)
                {
                    if (Glob.IsMatch(c.Key(i).ToLowerInvariant(), setting.Name))
                    {
                        found.Add(setting);
                        break;
                    }
                }
            }
            c.Output.ArrayHeader(found.Count * 2);
            foreach (var (name, value) in found)
            {
                c.Output.Bulk(name);
                c.Output.Bulk(value);
            }
        }
        else if (c.Is(1, "RESETSTAT") && c.ArgCount == 2)
        {
            c.Output.Ok();
        }
        else
        {
            c.Output.Error($"ERR unknown subcommand '{Printable(c.Arg(1))}'. Try CONFIG HELP.");
        }
    }

    /// <summary>COMMAND: no command table is published; clients such as redis-cli do without it.</summary>
    private static void Command(Connection c)
    {
        if (c.ArgCount >= 2 && c.Is(1, "COUNT"))
        {
            c.Output.Integer(0);
        }
        else
        {
            c.Output.ArrayHeader(0);
        }
    }

    /// <summary>INFO [section ...]: the sections Server, Clients and Keyspace.</summary>
    private static void Info(Connection c)
    {
        bool server = c.ArgCount == 1, clients = c.ArgCount == 1, keyspace = c.ArgCount == 1;
        for (var i = 1; i < c.ArgCount; i++)
        {
            var all = c.Is(i, "ALL") || c.Is(i, "DEFAULT") || c.Is(i, "EVERYTHING");
            server |= all || c.Is(i, "SERVER");
            clients |= all || c.Is(i, "CLIENTS");
            keyspace |= all || c.Is(i, "KEYSPACE");
        }
        var text = new StringBuilder();
        if (server)
        {
            text.Append("# Server\r\n")
                .Append("redis_version:7.0.0\r\n")
                .Append(CultureInfo.InvariantCulture, $"kv_version:{ReleaseNumber}\r\n")
                .Append("redis_mode:standalone\r\n")
                .Append(CultureInfo.InvariantCulture, $"process_id:{Environment.ProcessId}\r\n")
                .Append(CultureInfo.InvariantCulture, $"tcp_port:{Program.Port}\r\n")
                .Append(CultureInfo.InvariantCulture, $"uptime_in_seconds:{(long)(DateTime.Now - Process.GetCurrentProcess().StartTime).TotalSeconds}\r\n")
                .Append("\r\n");
        }
        if (clients)
        {
            text.Append("# Clients\r\n")
                .Append(CultureInfo.InvariantCulture, $"connected_clients:{Server.ConnectedClients}\r\n")
                .Append("\r\n");
        }
        if (keyspace)
        {
            text.Append("# Keyspace\r\n");
            if (Store.Count > 0)
            {
                text.Append(CultureInfo.InvariantCulture, $"db0:keys={Store.Count},expires={Store.ExpiresCount},avg_ttl=0\r\n");
            }
        }
        c.Output.Bulk(text.ToString());
    }
}
