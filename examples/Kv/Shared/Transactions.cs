using System.Diagnostics;
using Molt;

namespace Kv;

/// <summary>
/// A transaction a client opened with MULTI: the commands it queued, each its arguments as sent, run by EXEC. Part of
/// its connection's state, so it crosses every update: commands queued before an update run after it, in the new
/// version, atomically.
/// </summary>
internal sealed class Transaction
{
    /// <summary>The commands queued, in order: each its arguments, its name first.</summary>
    public List<byte[][]> Commands = [];

    /// <summary>True once a command was refused while queueing (unknown, or the wrong number of arguments): EXEC answers EXECABORT.</summary>
    public bool Rejected;

    /// <summary>Marks the transaction refused, as Redis flags it when it rejects a command inside MULTI.</summary>
    public void Reject() => Rejected = true;
}

/// <summary>A key a client WATCHes, its database, and whether it existed then: one that existed and is gone at EXEC expired or was deleted.</summary>
internal sealed class WatchedKey(string key, bool existed, int db = 0)
{
    /// <summary>The key.</summary>
    public string Key = key;

    /// <summary>The database of the key: the one selected when it was watched (0 in a release of one database).</summary>
    public int Db = db;

    /// <summary>Whether the key existed when it was watched.</summary>
    public bool Existed = existed;
}

/// <summary>What a write command's reply says when it changed nothing (Redis then signals no key as modified).</summary>
internal enum UnchangedReply
{
    /// <summary>Any reply but an error may follow a change.</summary>
    None,

    /// <summary><c>:0</c>: nothing was deleted, added, set (DEL, SADD, EXPIRE, SETNX, …).</summary>
    Zero,

    /// <summary>A null, an empty array or set (or no reply yet: the client blocked): nothing was popped or moved (LPOP, LMOVE, BLPOP, SPOP, …).</summary>
    Nil,

    /// <summary>A null when the command has no GET option: SET's NX or XX set nothing (with GET, a null is the old value of a missing key).</summary>
    NilUnlessGet,
}

/// <summary>
/// Which arguments of a write command are the keys it may modify, as Redis's command table declares them: from
/// <paramref name="FirstKey"/> to <paramref name="LastKey"/> (negative: counted from the end, -1 the last argument) by
/// <paramref name="Step"/>; or, when <paramref name="NumKeysAt"/> is set, the count of keys at that argument and the keys after it.
/// </summary>
internal readonly record struct WriteCommand(int FirstKey, int LastKey, int Step = 1, UnchangedReply Unchanged = UnchangedReply.None, int NumKeysAt = 0);

/// <summary>
/// The keys clients WATCH, and the write commands that touch them. After every write command (a table of them with their
/// key positions, as Redis's command table has, so that no command needs to know about WATCH), the clients watching a key
/// it wrote are marked touched; their next EXEC answers a null array. A watched key that existed and is gone at EXEC
/// expired or was flushed: that aborts the EXEC too, as in Redis.
/// </summary>
internal static class Transactions
{
    /// <summary>The clients watching each key (<see cref="Databases.Qualified"/> by its database). State: crosses every update, the same <see cref="Connection"/> objects as the units'.</summary>
    private static readonly Dictionary<string, List<Connection>> Watchers = new();

    /// <summary>
    /// The commands that may modify keys, of every release (and of Redis commands a later release may add), by upper-case
    /// name. Code, not state: each version has its own.
    /// </summary>
    [NotMigrated]
    private static readonly Dictionary<string, WriteCommand> Writes = new()
    {
        ["SET"] = new(1, 1, Unchanged: UnchangedReply.NilUnlessGet),
        ["SETNX"] = new(1, 1, Unchanged: UnchangedReply.Zero),
        ["SETEX"] = new(1, 1),
        ["PSETEX"] = new(1, 1),
        ["GETSET"] = new(1, 1),
        ["GETDEL"] = new(1, 1, Unchanged: UnchangedReply.Nil),
        ["GETEX"] = new(1, 1, Unchanged: UnchangedReply.Nil),
        ["APPEND"] = new(1, 1),
        ["SETRANGE"] = new(1, 1),
        ["SETBIT"] = new(1, 1),
        ["INCR"] = new(1, 1),
        ["DECR"] = new(1, 1),
        ["INCRBY"] = new(1, 1),
        ["DECRBY"] = new(1, 1),
        ["INCRBYFLOAT"] = new(1, 1),
        ["MSET"] = new(1, -1, 2),
        ["MSETNX"] = new(1, -1, 2, UnchangedReply.Zero),
        ["DEL"] = new(1, -1, Unchanged: UnchangedReply.Zero),
        ["UNLINK"] = new(1, -1, Unchanged: UnchangedReply.Zero),
        ["EXPIRE"] = new(1, 1, Unchanged: UnchangedReply.Zero),
        ["PEXPIRE"] = new(1, 1, Unchanged: UnchangedReply.Zero),
        ["EXPIREAT"] = new(1, 1, Unchanged: UnchangedReply.Zero),
        ["PEXPIREAT"] = new(1, 1, Unchanged: UnchangedReply.Zero),
        ["PERSIST"] = new(1, 1, Unchanged: UnchangedReply.Zero),
        ["RENAME"] = new(1, 2),
        ["RENAMENX"] = new(1, 2, Unchanged: UnchangedReply.Zero),
        ["COPY"] = new(2, 2, Unchanged: UnchangedReply.Zero),
        ["MOVE"] = new(1, 1, Unchanged: UnchangedReply.Zero),
        ["LPUSH"] = new(1, 1),
        ["RPUSH"] = new(1, 1),
        ["LPUSHX"] = new(1, 1, Unchanged: UnchangedReply.Zero),
        ["RPUSHX"] = new(1, 1, Unchanged: UnchangedReply.Zero),
        ["LPOP"] = new(1, 1, Unchanged: UnchangedReply.Nil),
        ["RPOP"] = new(1, 1, Unchanged: UnchangedReply.Nil),
        ["BLPOP"] = new(1, -2, Unchanged: UnchangedReply.Nil),
        ["BRPOP"] = new(1, -2, Unchanged: UnchangedReply.Nil),
        ["LMOVE"] = new(1, 2, Unchanged: UnchangedReply.Nil),
        ["RPOPLPUSH"] = new(1, 2, Unchanged: UnchangedReply.Nil),
        ["BLMOVE"] = new(1, 2, Unchanged: UnchangedReply.Nil),
        ["BRPOPLPUSH"] = new(1, 2, Unchanged: UnchangedReply.Nil),
        ["LMPOP"] = new(0, 0, Unchanged: UnchangedReply.Nil, NumKeysAt: 1),
        ["BLMPOP"] = new(0, 0, Unchanged: UnchangedReply.Nil, NumKeysAt: 2),
        ["LSET"] = new(1, 1),
        ["LINSERT"] = new(1, 1),
        ["LREM"] = new(1, 1, Unchanged: UnchangedReply.Zero),
        ["LTRIM"] = new(1, 1),
        ["HSET"] = new(1, 1),
        ["HMSET"] = new(1, 1),
        ["HSETNX"] = new(1, 1, Unchanged: UnchangedReply.Zero),
        ["HDEL"] = new(1, 1, Unchanged: UnchangedReply.Zero),
        ["HINCRBY"] = new(1, 1),
        ["HINCRBYFLOAT"] = new(1, 1),
        ["SADD"] = new(1, 1, Unchanged: UnchangedReply.Zero),
        ["SREM"] = new(1, 1, Unchanged: UnchangedReply.Zero),
        ["SPOP"] = new(1, 1, Unchanged: UnchangedReply.Nil),
        ["SMOVE"] = new(1, 2, Unchanged: UnchangedReply.Zero),
        ["SINTERSTORE"] = new(1, 1),
        ["SUNIONSTORE"] = new(1, 1),
        ["SDIFFSTORE"] = new(1, 1),
    };

    /// <summary>Whether any client watches a key: while none does, a write costs nothing more.</summary>
    public static bool AnyWatched => Watchers.Count > 0;

    /// <summary>Watches <paramref name="key"/> of the client's database for <paramref name="c"/> (again: nothing more). Under the lock.</summary>
    public static void Watch(Connection c, string key, bool existed)
    {
        c.Watched ??= [];
        foreach (var watched in c.Watched)
        {
            if (watched.Key == key && watched.Db == c.Db)
            {
                return;
            }
        }
        c.Watched.Add(new WatchedKey(key, existed, c.Db));
        var qualified = Databases.Qualified(c.Db, key);
        if (!Watchers.TryGetValue(qualified, out var clients))
        {
            Watchers[qualified] = clients = [];
        }
        clients.Add(c);
    }

    /// <summary>Marks the clients watching <paramref name="key"/> of the selected database touched. Under the lock.</summary>
    public static void Touch(string key)
    {
        if (Watchers.Count > 0 && Watchers.TryGetValue(Databases.Qualified(Databases.Selected, key), out var clients))
        {
            foreach (var client in clients)
            {
                client.WatchedKeyTouched = true;
            }
        }
    }

    /// <summary>
    /// Marks touched the clients watching a key of database <paramref name="index"/> that <paramref name="matters"/> says
    /// the change touched (SWAPDB: a key that exists on either side). Under the lock.
    /// </summary>
    public static void TouchWatchedIn(int index, Func<string, bool> matters)
    {
        foreach (var (qualified, clients) in Watchers)
        {
            var (watchedIndex, key) = Databases.Unqualified(qualified);
            if (watchedIndex == index && matters(key))
            {
                foreach (var client in clients)
                {
                    client.WatchedKeyTouched = true;
                }
            }
        }
    }

    /// <summary>
    /// After a command ran: when it is a write command whose reply does not say it changed nothing, touches the keys it
    /// may have written. <paramref name="replyStart"/> is where its reply begins in the connection's output. Under the lock.
    /// </summary>
    public static void TouchWrittenKeys(Connection c, ReadOnlySpan<char> name, int replyStart)
    {
        if (!Writes.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(name, out var write))
        {
            return;
        }
        var unchanged = write.Unchanged is UnchangedReply.NilUnlessGet && HasOption(c, 3, "GET") ? UnchangedReply.None : write.Unchanged;
        if (ChangedNothing(c.Output.Buffer.AsSpan(replyStart, c.Output.Count - replyStart), unchanged))
        {
            return;
        }
        if (write.NumKeysAt > 0)
        {
            if (Number.TryParseInt64(c.Arg(write.NumKeysAt), out var numKeys))
            {
                for (var i = write.NumKeysAt + 1; i < c.ArgCount && i <= write.NumKeysAt + numKeys; i++)
                {
                    Touch(c.Key(i));
                }
            }
            return;
        }
        var last = write.LastKey < 0 ? c.ArgCount + write.LastKey : Math.Min(write.LastKey, c.ArgCount - 1);
        for (var i = write.FirstKey; i <= last; i += write.Step)
        {
            Touch(c.Key(i));
        }
    }

    /// <summary>
    /// Whether <paramref name="c"/>'s next EXEC may run: no key it watches was touched, and none that existed when watched
    /// is gone now (it expired, or FLUSHDB removed it). Under the lock.
    /// </summary>
    public static bool WatchesHold(Connection c, long now)
    {
        if (c.WatchedKeyTouched)
        {
            return false;
        }
        try
        {
            foreach (var watched in c.Watched ?? [])
            {
                Databases.Select(watched.Db);
                if (watched.Existed && Store.Find(watched.Key, now) is null)
                {
                    return false;
                }
            }
            return true;
        }
        finally
        {
            Databases.Select(c.Db);
        }
    }

    /// <summary>Forgets every key <paramref name="c"/> watches, and that one was touched (EXEC, DISCARD, UNWATCH, the client gone). Under the lock.</summary>
    public static void UnwatchAll(Connection c)
    {
        foreach (var watched in c.Watched ?? [])
        {
            var qualified = Databases.Qualified(watched.Db, watched.Key);
            if (Watchers.TryGetValue(qualified, out var clients) && clients.Remove(c) && clients.Count == 0)
            {
                Watchers.Remove(qualified);
            }
        }
        c.Watched = null;
        c.WatchedKeyTouched = false;
    }

    /// <summary>Whether a reply says its command changed nothing: an error, no reply yet (blocked), or the reply the command gives then.</summary>
    private static bool ChangedNothing(ReadOnlySpan<byte> reply, UnchangedReply unchanged) =>
        reply.Length == 0 || reply[0] == (byte)'-' || unchanged switch
        {
            UnchangedReply.Zero => reply.SequenceEqual(":0\r\n"u8),
            UnchangedReply.Nil => IsNull(reply) || reply.SequenceEqual("*0\r\n"u8) || reply.SequenceEqual("~0\r\n"u8),
            UnchangedReply.NilUnlessGet => IsNull(reply),
            _ => false,
        };

    private static bool IsNull(ReadOnlySpan<byte> reply) =>
        reply.SequenceEqual("$-1\r\n"u8) || reply.SequenceEqual("*-1\r\n"u8) || reply.SequenceEqual("_\r\n"u8);

    /// <summary>Whether an argument from <paramref name="first"/> on is the option <paramref name="word"/>.</summary>
    private static bool HasOption(Connection c, int first, string word)
    {
        for (var i = first; i < c.ArgCount; i++)
        {
            if (c.Is(i, word))
            {
                return true;
            }
        }
        return false;
    }
}

/// <summary>MULTI, EXEC, DISCARD, WATCH, UNWATCH, with Redis's semantics and error texts.</summary>
internal static partial class Commands
{
    /// <summary>True while a command is checked for MULTI: <see cref="Arity"/> then records its verdict and lets nothing run.</summary>
    [NotMigrated]
    private static bool checkingArity;

    /// <summary>The verdict of the first <see cref="Arity"/> check of the command being queued; null when none ran (an unknown command).</summary>
    [NotMigrated]
    private static bool? arityVerdict;

    private static void Multi(Connection c)
    {
        if (c.Transaction is not null)
        {
            c.Output.Error("ERR MULTI calls can not be nested");
            return;
        }
        c.Transaction = new Transaction();
        c.Output.Ok();
    }

    /// <summary>
    /// Queues the command in <paramref name="c"/>'s arguments, answering QUEUED, when the release knows it and its argument
    /// count is right: checked as Redis does before queueing, by dispatching it with <see cref="checkingArity"/> set, so that
    /// its case's arity check answers for it and nothing runs. A refused command answers its error and rejects the transaction.
    /// </summary>
    private static void Queue(Connection c, ReadOnlySpan<char> name, long now)
    {
        checkingArity = true;
        arityVerdict = null;
        try
        {
            Dispatch(c, name, now);
        }
        finally
        {
            checkingArity = false;
        }
        if (arityVerdict == true)
        {
            var command = new byte[c.ArgCount][];
            for (var i = 0; i < command.Length; i++)
            {
                command[i] = c.Value(i);
            }
            c.Transaction!.Commands.Add(command);
            c.Output.Raw("+QUEUED\r\n"u8);
            return;
        }
        // Refused: Arity or Unknown answered the error and rejected the transaction. A case that ran its command without
        // an arity check first would have got here too, having run: every case checks its arity first.
        Debug.Assert(c.Transaction!.Rejected, "a command ran while being queued: its case does not check its arity first");
    }

    /// <summary>
    /// EXEC: EXECABORT when a command was refused while queueing; a null array when a watched key was touched (or expired);
    /// else runs the queued commands one after the other under the store's lock (this batch holds it: no other client runs
    /// in between), answering an array of their replies. A blocking command does not block here: it answers nil, as in Redis.
    /// </summary>
    private static void Exec(Connection c, long now)
    {
        var transaction = c.Transaction;
        if (transaction is null)
        {
            c.Output.Error("ERR EXEC without MULTI");
            return;
        }
        c.Transaction = null;
        var watchesHold = Transactions.WatchesHold(c, now);
        Transactions.UnwatchAll(c);
        if (transaction.Rejected)
        {
            c.Output.Error("EXECABORT Transaction discarded because of previous errors.");
            return;
        }
        if (!watchesHold)
        {
            c.Output.NullArray();
            return;
        }
        c.Output.ArrayHeader(transaction.Commands.Count);
        var received = c.Received;
        try
        {
            foreach (var command in transaction.Commands)
            {
                LoadArguments(c, command);
                Execute(c, now); // QUIT, the one command that closes, is never queued.
                if (c.Blocked is { } pop)
                {
                    Blocking.Forget(c);
                    if (pop.Destination is null)
                    {
                        c.Output.NullArray();
                    }
                    else
                    {
                        c.Output.Null();
                    }
                }
            }
        }
        finally
        {
            c.Received = received;
        }
    }

    /// <summary>Makes a queued command the one in <paramref name="c"/>'s arguments: its own buffer, in place of the bytes received.</summary>
    private static void LoadArguments(Connection c, byte[][] command)
    {
        if (c.ArgOffsets.Length < command.Length)
        {
            c.ArgOffsets = new int[command.Length];
            c.ArgLengths = new int[command.Length];
        }
        var buffer = new byte[command.Sum(argument => argument.Length)];
        var offset = 0;
        for (var i = 0; i < command.Length; i++)
        {
            command[i].CopyTo(buffer, offset);
            c.ArgOffsets[i] = offset;
            c.ArgLengths[i] = command[i].Length;
            offset += command[i].Length;
        }
        c.Received = buffer;
        c.ArgCount = command.Length;
    }

    private static void Discard(Connection c)
    {
        if (c.Transaction is null)
        {
            c.Output.Error("ERR DISCARD without MULTI");
            return;
        }
        c.Transaction = null;
        Transactions.UnwatchAll(c);
        c.Output.Ok();
    }

    /// <summary>WATCH key [key ...]: the next EXEC aborts if another command modifies one of them first.</summary>
    private static void Watch(Connection c, long now)
    {
        if (c.Transaction is not null)
        {
            c.Output.Error("ERR WATCH inside MULTI is not allowed");
            return;
        }
        for (var i = 1; i < c.ArgCount; i++)
        {
            var key = c.Key(i);
            Transactions.Watch(c, key, Store.Find(key, now) is not null);
        }
        c.Output.Ok();
    }

    private static void Unwatch(Connection c)
    {
        Transactions.UnwatchAll(c);
        c.Output.Ok();
    }
}
