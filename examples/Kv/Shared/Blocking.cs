using System.Globalization;
using Molt;

namespace Kv;

/// <summary>
/// A pop a client is blocked in (BLPOP, BRPOP, BLMPOP, and the moves BLMOVE, BRPOPLPUSH): part of its connection's
/// state, so it crosses every update with the connection — the keys, the end it pops from, what it does with what it
/// pops, and the deadline as a moment, so that the time left crosses too.
/// </summary>
internal sealed class BlockedPop(string[] keys, bool fromHead, long deadline, string? destination = null, bool toHead = false, long count = 0)
{
    /// <summary>The keys, in the order the command named them.</summary>
    public string[] Keys = keys;

    /// <summary>True to pop from the head of the list (BLPOP, LEFT), false from its tail (BRPOP, RIGHT).</summary>
    public bool FromHead = fromHead;

    /// <summary>When the client is answered nil: Unix milliseconds, 0 for never.</summary>
    public long Deadline = deadline;

    /// <summary>For a move (BLMOVE, BRPOPLPUSH): the list the element is pushed to, answered the element alone; null for a pop.</summary>
    public string? Destination = destination;

    /// <summary>For a move: true to push at the destination's head (LEFT), false at its tail.</summary>
    public bool ToHead = toHead;

    /// <summary>For BLMPOP: the most elements it takes, answered as [key, [elements]]; 0 for BLPOP / BRPOP's [key, element].</summary>
    public long Count = count;

    /// <summary>The key a push served the client from; null while it waits.</summary>
    public string? ServedKey;

    /// <summary>The elements the push served it (one but for BLMPOP).</summary>
    public byte[][]? ServedElements;

    /// <summary>The error it is answered instead (a move whose destination is not a list), null when none.</summary>
    public string? ServedError;
}

/// <summary>
/// Clients blocked in a pop. A push serves them itself, longest waiting first, as Redis does after the command that
/// pushed: it hands each its elements (or an error) in its <see cref="BlockedPop"/> and wakes its unit, which answers
/// it. A blocked unit waits for that, its deadline, more bytes from its client, or an update, never holding the store's lock.
/// </summary>
internal static class Blocking
{
    /// <summary>The clients blocked on each key, longest waiting first. State: crosses every update.</summary>
    private static readonly Dictionary<string, List<Connection>> Waiting = new();

    /// <summary>How many clients are blocked (INFO's blocked_clients).</summary>
    public static int BlockedClients { get; private set; }

    /// <summary>What wakes each blocked unit's wait; this version's waits only, so not migrated.</summary>
    [NotMigrated]
    private static Dictionary<Connection, CancellationTokenSource> wakes = new();

    /// <summary>Blocks <paramref name="c"/> in <paramref name="pop"/>: its unit waits until a push serves it or the deadline. Under the lock.</summary>
    public static void Block(Connection c, BlockedPop pop)
    {
        c.Blocked = pop;
        foreach (var key in pop.Keys.Distinct())
        {
            var waitedOn = Databases.Qualified(c.Db, key);
            if (!Waiting.TryGetValue(waitedOn, out var clients))
            {
                Waiting[waitedOn] = clients = [];
            }
            clients.Add(c);
        }
        BlockedClients++;
    }

    /// <summary>The clients blocked on <paramref name="key"/> of the selected database, longest waiting first; null when none. Under the lock.</summary>
    public static List<Connection>? WaitingOn(string key) =>
        Waiting.Count > 0 && Waiting.TryGetValue(Databases.Qualified(Databases.Selected, key), out var clients) ? clients : null;

    /// <summary>The keys of database <paramref name="index"/> that clients are blocked on (SWAPDB serves them). Under the lock.</summary>
    public static List<string> KeysWaitedOnIn(int index) =>
        [.. Waiting.Keys.Select(Databases.Unqualified).Where(k => k.Index == index).Select(k => k.Key)];

    /// <summary>Serves a blocked client <paramref name="elements"/> of <paramref name="key"/> and wakes its unit. Under the lock.</summary>
    public static void Serve(Connection c, string key, byte[][] elements)
    {
        c.Blocked!.ServedElements = elements;
        // The served pop wrote the key (and a move its destination) as a command of its own would: watches see it.
        Transactions.Touch(key);
        if (c.Blocked.Destination is { } destination)
        {
            Transactions.Touch(destination);
        }
        Answered(c, key);
    }

    /// <summary>Answers a blocked client <paramref name="error"/> when a push to <paramref name="key"/> could not serve it, and wakes its unit. Under the lock.</summary>
    public static void Refuse(Connection c, string key, string error)
    {
        c.Blocked!.ServedError = error;
        Answered(c, key);
    }

    /// <summary>Forgets a client that went while blocked. Under the lock.</summary>
    public static void Forget(Connection c)
    {
        if (c.Blocked is { ServedKey: null })
        {
            Unregister(c);
        }
        c.Blocked = null;
    }

    /// <summary>
    /// One step of a blocked client's wait: answers it if a push served it or its deadline passed (<see cref="Connection.Blocked"/>
    /// is then null), else waits for either, for bytes from the client (queued behind the blocked command) or an update.
    /// False when the client went.
    /// </summary>
    public static async Task<bool> WaitAsync(Connection c)
    {
        CancellationTokenSource wake;
        long wait;
        lock (Store.Gate)
        {
            var now = Clock.NowMs;
            if (TryAnswer(c, now))
            {
                return true;
            }
            wake = CancellationTokenSource.CreateLinkedTokenSource(Live.UpdateRequested);
            wakes[c] = wake;
            wait = c.Blocked!.Deadline == 0 ? -1 : Math.Max(1, c.Blocked.Deadline - now);
        }
        try
        {
            if (wait > 0)
            {
                wake.CancelAfter(TimeSpan.FromMilliseconds(Math.Min(wait, int.MaxValue)));
            }
            if (!c.MakeRoom())
            {
                // The client sent more than a buffer holds behind the blocked command: stop reading it until answered.
                await Task.Delay(Timeout.Infinite, wake.Token);
            }
            var received = await c.Socket.ReceiveAsync(c.FreeSpace, System.Net.Sockets.SocketFlags.None, wake.Token);
            if (received == 0)
            {
                return false;
            }
            c.ReceivedCount += received;
        }
        catch (OperationCanceledException)
        {
            // Served, timed out, or an update requested: the next step (after the update point) tells which.
        }
        finally
        {
            lock (Store.Gate)
            {
                wakes.Remove(c);
            }
            wake.Dispose();
        }
        return true;
    }

    /// <summary>
    /// Parses a timeout in seconds (fractions allowed, 0 for none) as Redis 7.2 does (rounded up to a millisecond; Redis 7.0
    /// truncated it, so that 0.0001 blocked for ever), into a deadline in Unix milliseconds; false with the error answered
    /// when it is not one.
    /// </summary>
    public static bool TryParseTimeout(Connection c, ReadOnlySpan<byte> text, long now, out long deadline)
    {
        deadline = 0;
        double seconds;
        var word = text.Length > 0 && text[0] is (byte)'+' or (byte)'-' ? text[1..] : text;
        if (word.Length is 3 or 8 && (System.Text.Ascii.EqualsIgnoreCase(word, "inf"u8) || System.Text.Ascii.EqualsIgnoreCase(word, "infinity"u8)))
        {
            seconds = text[0] == '-' ? double.NegativeInfinity : double.PositiveInfinity;
        }
        else if (text.Length is 0 or > 5 * 1024 || double.IsNaN(seconds = Parse(text)))
        {
            c.Output.Error("ERR timeout is not a float or out of range");
            return false;
        }
        var milliseconds = seconds * 1000;
        if (milliseconds > long.MaxValue)
        {
            c.Output.Error("ERR timeout is out of range");
            return false;
        }
        var rounded = Math.Ceiling(milliseconds);
        if (rounded < 0)
        {
            c.Output.Error("ERR timeout is negative");
            return false;
        }
        var timeout = (long)rounded;
        if (timeout > 0 && timeout > long.MaxValue - now)
        {
            c.Output.Error("ERR timeout is out of range");
            return false;
        }
        deadline = timeout == 0 ? 0 : now + timeout;
        return true;
    }

    /// <summary>A number as C's strtold reads a whole argument (no spaces); NaN when it is none.</summary>
    private static double Parse(ReadOnlySpan<byte> text) =>
        double.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent,
            CultureInfo.InvariantCulture, out var value) ? value : double.NaN;

    /// <summary>Answers the blocked client when a push served it or its deadline passed. Under the lock.</summary>
    private static bool TryAnswer(Connection c, long now)
    {
        var pop = c.Blocked!;
        if (pop.ServedError is not null)
        {
            c.Output.Error(pop.ServedError);
        }
        else if (pop.ServedKey is not null)
        {
            var elements = pop.ServedElements!;
            if (pop.Destination is not null)
            {
                c.Output.Bulk(elements[0]);
            }
            else
            {
                c.Output.ArrayHeader(2);
                c.Output.Bulk(pop.ServedKey);
                if (pop.Count > 0)
                {
                    c.Output.ArrayHeader(elements.Length);
                }
                foreach (var element in elements)
                {
                    c.Output.Bulk(element);
                }
            }
        }
        else if (pop.Deadline != 0 && now >= pop.Deadline)
        {
            Unregister(c);
            c.Output.NullArray();
        }
        else
        {
            return false;
        }
        c.Blocked = null;
        return true;
    }

    private static void Answered(Connection c, string key)
    {
        c.Blocked!.ServedKey = key;
        Unregister(c);
        if (wakes.TryGetValue(c, out var wake))
        {
            _ = wake.CancelAsync(); // Its callbacks (the receive's cancellation) run on the thread pool, not under this lock.
        }
    }

    private static void Unregister(Connection c)
    {
        foreach (var key in c.Blocked!.Keys.Distinct())
        {
            var waitedOn = Databases.Qualified(c.Db, key);
            if (Waiting.TryGetValue(waitedOn, out var clients) && clients.Remove(c) && clients.Count == 0)
            {
                Waiting.Remove(waitedOn);
            }
        }
        BlockedClients--;
    }
}
