using System.Text;

namespace Kv;

/// <summary>
/// The commands: parsed from a connection's buffer, executed under the store's lock, answered into its output. This
/// part, the same in every release, runs a batch of received commands; each release's command table (its
/// <c>CommandTable.cs</c>) says which method runs which command.
/// </summary>
internal static partial class Commands
{
    private const string SyntaxError = "ERR syntax error";
    private const string NotInteger = "ERR value is not an integer or out of range";

    /// <summary>The release, as INFO's <c>kv_version</c> tells clients.</summary>
    private static int ReleaseNumber => typeof(Commands).Assembly.GetName().Version!.Major;

    /// <summary>
    /// Executes every whole command received, in order, appending the replies, up to a command that blocks; the bytes
    /// of a partial command, and of those after a blocked one, stay. False when the connection is to be closed (QUIT, a protocol error).
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
                if (c.Blocked is not null)
                {
                    break; // The commands after a blocked one run once it is answered, as in Redis.
                }
            }
        }
        c.Consumed(position);
        return keepOpen;
    }

    /// <summary>
    /// Executes the command in <paramref name="c"/>'s arguments, or queues it inside MULTI (as Redis does, the
    /// transaction's own commands and QUIT run at once); false for QUIT. A command that wrote to keys someone WATCHes
    /// marks their watches touched.
    /// </summary>
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
        if (c.Transaction is not null && name is not ("EXEC" or "DISCARD" or "MULTI" or "WATCH" or "QUIT"))
        {
            Queue(c, name, now);
            return true;
        }
        var replyStart = c.Output.Count;
        var keepOpen = Dispatch(c, name, now);
        if (Transactions.AnyWatched)
        {
            Transactions.TouchWrittenKeys(c, name, replyStart);
        }
        return keepOpen;
    }

    /// <summary>
    /// Runs the command <paramref name="name"/>; false for QUIT. The commands every release has are here; those a release
    /// added after the first are in its own command table (<see cref="ExecuteAddedCommand"/>). Every command checks its
    /// arity first (<see cref="Arity"/>): that is how MULTI learns, without running it, whether a release knows a command.
    /// </summary>
    private static bool Dispatch(Connection c, ReadOnlySpan<char> name, long now)
    {
        Databases.Select(c.Db);
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
            case "MSET": if (Arity(c, -3, "mset")) MSet(c, now); break;
            case "EXPIRE": if (Arity(c, -3, "expire")) Expire(c, 1000, "expire", now); break;
            case "PEXPIRE": if (Arity(c, -3, "pexpire")) Expire(c, 1, "pexpire", now); break;
            case "TTL": if (Arity(c, 2, "ttl")) Ttl(c, inSeconds: true, now); break;
            case "PTTL": if (Arity(c, 2, "pttl")) Ttl(c, inSeconds: false, now); break;
            case "PERSIST": if (Arity(c, 2, "persist")) Persist(c, now); break;
            case "KEYS": if (Arity(c, 2, "keys")) Keys(c, now); break;
            case "SCAN": if (Arity(c, -2, "scan")) Scan(c, now); break;
            case "DBSIZE": if (Arity(c, 1, "dbsize")) c.Output.Integer(Store.Count); break;
            case "FLUSHDB": if (Arity(c, -1, "flushdb")) Flush(c, all: false); break;
            case "FLUSHALL": if (Arity(c, -1, "flushall")) Flush(c, all: true); break;
            case "PING": if (Arity(c, -1, "ping")) Ping(c); break;
            case "ECHO": if (Arity(c, 2, "echo")) c.Output.Bulk(c.Arg(1)); break;
            case "INFO": if (Arity(c, -1, "info")) Info(c); break;
            case "SELECT": if (Arity(c, 2, "select")) Select(c); break;
            case "CLIENT": if (Arity(c, -2, "client")) Client(c); break;
            case "CONFIG": if (Arity(c, -2, "config")) Config(c); break;
            case "COMMAND": if (Arity(c, -1, "command")) Command(c); break;
            case "HELLO": if (Arity(c, -1, "hello")) Hello(c); break;
            case "MULTI": if (Arity(c, 1, "multi")) Multi(c); break;
            case "EXEC": if (Arity(c, 1, "exec")) Exec(c, now); break;
            case "DISCARD": if (Arity(c, 1, "discard")) Discard(c); break;
            case "WATCH": if (Arity(c, -2, "watch")) Watch(c, now); break;
            case "UNWATCH": if (Arity(c, 1, "unwatch")) Unwatch(c); break;
            case "QUIT":
                c.Output.Ok();
                return false;
            default:
                if (!ExecuteAddedCommand(c, name, now))
                {
                    Unknown(c);
                }
                break;
        }
        return true;
    }

    /// <summary>
    /// Checks the argument count as Redis declares it: exactly <paramref name="arity"/>, or at least -arity when negative.
    /// Every command's case calls it before anything else, and MULTI relies on that: while a command is being queued
    /// (<see cref="checkingArity"/>) it records the verdict and answers false, so that nothing runs. A wrong count inside
    /// MULTI makes the transaction's EXEC fail, as Redis's rejected commands do.
    /// </summary>
    private static bool Arity(Connection c, int arity, string name)
    {
        var right = arity >= 0 ? c.ArgCount == arity : c.ArgCount >= -arity;
        if (!right)
        {
            c.Output.Error($"ERR wrong number of arguments for '{name}' command");
            c.Transaction?.Reject();
        }
        if (checkingArity)
        {
            arityVerdict ??= right;
            return false;
        }
        return right;
    }

    private static void Unknown(Connection c)
    {
        c.Transaction?.Reject();
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
}
