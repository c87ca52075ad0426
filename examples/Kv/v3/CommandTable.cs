namespace Kv;

/// <summary>The command table: which command runs which method, with Redis's arity. Each release that adds commands has its own.</summary>
internal static partial class Commands
{
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
}
