using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Kv.Demo;
using Molt.Hosting;
using Xunit.Abstractions;

namespace Kv.Tests;

/// <summary>
/// Issue 14's "no input stops the server": an update requested while a long <c>KEYS</c> runs completes. kv v5 under
/// Molt holds 300,000 keys (loaded with <c>redis-cli --pipe</c>); one client sends <c>KEYS *</c> and <c>KEYS *a*b*c*</c>
/// back to back, another GETs keys meanwhile, and kv is updated v5 -> v6 and rolled back v6 -> v5. When each update has
/// prepared, just before it asks the units to quiesce, a third client sends <c>KEYS *a*b*c*</c>: kv runs a command under
/// the store's lock to its end and sends its reply before its connection reaches the update point, so the update quiesces
/// after that KEYS, which the old version answers (an INFO sent with it, in the same batch, says which version ran it). Every update commits, every KEYS answers the whole, right set of keys
/// (computed here, not by kv), and every GET its key's value, before, between and after the updates. How long a KEYS
/// takes and the updates' quiesce times are printed, not asserted.
/// </summary>
[Collection(KvCollection.Name)]
public partial class LongKeysAcrossUpdateTests(ITestOutputHelper output)
{
    private const int KeyCount = 300_000;
    private const string Everything = "*";
    private const string ThreeStars = "*a*b*c*";

    /// <summary>How many KEYS (of both patterns) each version answers at least, before, between and after the updates (bounded).</summary>
    private const int KeysPerPhase = 2;

    [Fact]
    public async Task UpdatesRequestedDuringLongKeys_V5ToV6AndRollback_CommitAndEveryKeysAndGetIsAnsweredWhole()
    {
        KvProcesses.RequireTool("redis-cli");
        // kv runs in this process, on its thread pool, beside the clients and the update (which waits on a pool thread for
        // kv to start the KEYS): with the pool's default of one thread a core, kv's connection could wait 0.5 s for a
        // thread, the KEYS then ran after the update, and the test showed nothing.
        ThreadPool.GetMinThreads(out var workers, out var completions);
        ThreadPool.SetMinThreads(Math.Max(workers, 16), completions);
        try
        {
            await RunAsync();
        }
        finally
        {
            ThreadPool.SetMinThreads(workers, completions);
        }
    }

    private async Task RunAsync()
    {
        await using var host = await MoltHost.StartAsync(Path.Combine(KvProcesses.VersionDirectory(5), "Kv.dll"), ["--port", "0"]);
        var port = HostedKvServer.ReadPort(host);
        var keys = Enumerable.Range(0, KeyCount).Select(KeyOf).ToArray();
        await LoadAsync(port, keys);
        var expected = new Dictionary<string, HashSet<string>>
        {
            [Everything] = [.. keys],
            // The oracle is a regular expression, not kv's glob: 'a', then 'b', then 'c', anywhere in the key.
            [ThreeStars] = [.. keys.Where(k => ThreeStarsRegex().IsMatch(k))],
        };

        await using var keysClient = await RespConnection.ConnectAsync(port);
        foreach (var pattern in new[] { Everything, ThreeStars })
        {
            var started = Stopwatch.GetTimestamp();
            var reply = await keysClient.CommandAsync("KEYS", pattern);
            var elapsed = Stopwatch.GetElapsedTime(started);
            Assert.Null(Check(pattern, reply, expected[pattern]));
            output.WriteLine($"KEYS {pattern} alone on v5 over {KeyCount} keys: {expected[pattern].Count} keys in {elapsed.TotalMilliseconds:0} ms (sent, run, received and read)");
        }

        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var keysLoop = new KeysLoop(keysClient, expected);
        var keysRunning = Task.Run(() => keysLoop.RunAsync(stop.Token));
        await using var getClient = await RespConnection.ConnectAsync(port);
        var getLoop = new GetLoop(getClient);
        var getsRunning = Task.Run(() => getLoop.RunAsync(stop.Token));
        await using var inFlight = await RespConnection.ConnectAsync(port);

        try
        {
            await keysLoop.WaitForAnsweredAsync(KeysPerPhase, stop.Token);
            var gets = getLoop.Answered;
            await UpdateDuringKeysAsync(inFlight, expected[ThreeStars], "v5 -> v6", oldVersion: 5,
                options => host.UpdateAsync(Path.Combine(KvProcesses.VersionDirectory(6), "Kv.dll"), options));
            Assert.True(getLoop.Answered > gets, "no GET was answered while v5 served KEYS");

            await keysLoop.WaitForAnsweredAsync(keysLoop.Answered + KeysPerPhase, stop.Token);
            gets = getLoop.Answered;
            await UpdateDuringKeysAsync(inFlight, expected[ThreeStars], "rollback v6 -> v5", oldVersion: 6, options => host.RollbackAsync(options));
            Assert.True(getLoop.Answered > gets, "no GET was answered while v6 served KEYS");

            gets = getLoop.Answered;
            await keysLoop.WaitForAnsweredAsync(keysLoop.Answered + KeysPerPhase, stop.Token);
            Assert.True(getLoop.Answered > gets, "no GET was answered while v5 served KEYS after the rollback");
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(keysRunning, getsRunning).WaitAsync(TimeSpan.FromSeconds(30));
        }

        output.WriteLine($"KEYS answered by the back-to-back client: {keysLoop.Answered}, from {keysLoop.Durations.Min().TotalMilliseconds:0} to {keysLoop.Durations.Max().TotalMilliseconds:0} ms each");
        output.WriteLine($"GET answered meanwhile: {getLoop.Answered}, the slowest in {getLoop.Slowest.TotalMilliseconds:0} ms");
        Assert.Empty(keysLoop.Failures);
        Assert.Empty(getLoop.Failures);
        Assert.Equal($":{KeyCount}\r\n", await getClient.CommandAsync("DBSIZE"));
    }

    /// <summary>
    /// Runs the update with <c>KEYS *a*b*c*</c> (long to run, short to answer) sent on <paramref name="inFlight"/> once it
    /// has prepared, before it quiesces; checks that the old version answered it whole.
    /// </summary>
    private async Task UpdateDuringKeysAsync(RespConnection inFlight, HashSet<string> matching, string name, int oldVersion,
        Func<UpdateOptions, Task<UpdateResult>> update)
    {
        var keysWhenPrepared = new KeysWhenPrepared(inFlight);
        var result = await update(new UpdateOptions { Progress = keysWhenPrepared });
        Assert.True(keysWhenPrepared.Replies is not null, $"{name}: the update reported no end of its Prepare phase");
        var replies = await keysWhenPrepared.Replies;
        output.WriteLine($"{name}: {result.Outcome}, quiesce {result.QuiesceTime.TotalMilliseconds:0.0} ms (of which {KeysWhenPrepared.HeadStart.TotalMilliseconds:0} ms " +
            $"the test's wait after sending KEYS {ThreeStars}), pause {result.PauseTime.TotalMilliseconds:0.0} ms, prepare {result.PrepareTime.TotalMilliseconds:0} ms; " +
            $"that KEYS answered {Stopwatch.GetElapsedTime(keysWhenPrepared.SentAt, keysWhenPrepared.AnsweredAt).TotalMilliseconds:0} ms after it was sent");
        Assert.True(result.Outcome == UpdateOutcome.Committed, $"{name}: {result}");
        Assert.Null(Check(ThreeStars, replies[0], matching));
        // kv executes the commands received together as one batch, between two update points: the INFO sent with the KEYS
        // names the version that ran it. Had kv's connection parked before reading them, the new version would have.
        Assert.True(replies[1].Contains($"kv_version:{oldVersion}\r\n", StringComparison.Ordinal),
            $"{name}: the KEYS sent as quiescence began was not run by v{oldVersion}, the version being updated: {replies[1].ReplaceLineEndings(" ")}");
        // And the update asked the units to quiesce before that answer had come (a head start far shorter than the KEYS, printed above).
        Assert.True(keysWhenPrepared.AnsweredAt > keysWhenPrepared.QuiesceRequestedAt,
            $"{name}: the KEYS was answered within its {KeysWhenPrepared.HeadStart.TotalMilliseconds:0} ms head start, before the update asked the units to quiesce");
    }

    /// <summary>
    /// When the update reports its Prepare phase done (on the updating thread, just before quiescence begins), sends
    /// <c>KEYS *a*b*c*</c> and <c>INFO server</c> in one write and gives kv <see cref="HeadStart"/> to start running them,
    /// so that the units are asked to quiesce while the KEYS runs; notes when they are answered.
    /// </summary>
    private sealed class KeysWhenPrepared(RespConnection connection) : IProgress<UpdateProgress>
    {
        public static readonly TimeSpan HeadStart = TimeSpan.FromMilliseconds(30);

        public Task<IReadOnlyList<string>>? Replies { get; private set; }

        public long SentAt { get; private set; }

        public long AnsweredAt { get; private set; } = long.MaxValue;

        public long QuiesceRequestedAt { get; private set; } = long.MaxValue;

        public void Report(UpdateProgress value)
        {
            if (value.Phase != UpdatePhase.Prepare || Replies is not null)
            {
                return;
            }
            SentAt = Stopwatch.GetTimestamp();
            // The commands' few bytes are written before PipelineAsync first yields; the replies are read as they come.
            Replies = connection.PipelineAsync([["KEYS", ThreeStars], ["INFO", "server"]]);
            Replies.ContinueWith(_ => AnsweredAt = Stopwatch.GetTimestamp(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            Thread.Sleep(HeadStart);
            QuiesceRequestedAt = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>The key number <paramref name="i"/>: its number and a well-spread hexadecimal hash, so that <c>*a*b*c*</c> matches some keys.</summary>
    private static string KeyOf(int i) => $"key:{i}:{unchecked((uint)i * 2654435761u):x8}";

    private static string ValueOf(string key) => "value-" + key;

    private static async Task LoadAsync(int port, string[] keys)
    {
        var commands = new StringBuilder();
        foreach (var key in keys)
        {
            var value = ValueOf(key);
            commands.Append(CultureInfo.InvariantCulture, $"*3\r\n$3\r\nSET\r\n${key.Length}\r\n{key}\r\n${value.Length}\r\n{value}\r\n");
        }
        var result = await KvProcesses.RunAsync("redis-cli", ["-p", port.ToString(CultureInfo.InvariantCulture), "--pipe"], TimeSpan.FromMinutes(3), commands.ToString());
        Assert.True(result.ExitCode == 0 && result.Stdout.Contains($"errors: 0, replies: {keys.Length}", StringComparison.Ordinal), $"redis-cli --pipe: {result}");
    }

    /// <summary>Why <paramref name="reply"/> is not KEYS' whole answer, exactly <paramref name="expected"/> (any order); null when it is.</summary>
    private static string? Check(string pattern, string reply, HashSet<string> expected)
    {
        var lines = reply.Split("\r\n");
        if (!reply.StartsWith('*') || lines.Length != 2 * expected.Count + 2 || lines[0] != $"*{expected.Count}")
        {
            return $"KEYS {pattern}: {lines[0]} and {lines.Length} lines, not {expected.Count} keys";
        }
        var seen = new HashSet<string>(expected.Count);
        for (var i = 2; i < lines.Length; i += 2)
        {
            seen.Add(lines[i]);
        }
        return seen.SetEquals(expected) ? null : $"KEYS {pattern}: {expected.Count} keys, but not the right ones";
    }

    [GeneratedRegex("a.*b.*c")]
    private static partial Regex ThreeStarsRegex();

    /// <summary>Sends KEYS, the two patterns in turn, back to back on one connection, checking each answer.</summary>
    private sealed class KeysLoop(RespConnection client, Dictionary<string, HashSet<string>> expected)
    {
        private readonly Lock _gate = new();
        private readonly List<(long Sent, long Answered)> _runs = [];
        private int _answered;

        public ConcurrentQueue<string> Failures { get; } = new();

        public int Answered => Volatile.Read(ref _answered);

        public IEnumerable<TimeSpan> Durations
        {
            get
            {
                lock (_gate)
                {
                    return _runs.Where(r => r.Answered != 0).Select(r => Stopwatch.GetElapsedTime(r.Sent, r.Answered)).ToList();
                }
            }
        }

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            for (var i = 0; !cancellationToken.IsCancellationRequested; i++)
            {
                var pattern = i % 2 == 0 ? Everything : ThreeStars;
                var sent = Stopwatch.GetTimestamp();
                int run;
                lock (_gate)
                {
                    run = _runs.Count;
                    _runs.Add((sent, 0));
                }
                string reply;
                try
                {
                    reply = await client.CommandAsync("KEYS", pattern);
                }
                catch (Exception e) when (e is IOException or OperationCanceledException)
                {
                    Failures.Enqueue($"KEYS {pattern}: {e.GetType().Name}: {e.Message}");
                    return;
                }
                lock (_gate)
                {
                    _runs[run] = (sent, Stopwatch.GetTimestamp());
                }
                if (Check(pattern, reply, expected[pattern]) is { } failure)
                {
                    Failures.Enqueue(failure);
                }
                Interlocked.Increment(ref _answered);
            }
        }

        public async Task WaitForAnsweredAsync(int count, CancellationToken cancellationToken)
        {
            while (Answered < count && Failures.IsEmpty)
            {
                await Task.Delay(20, cancellationToken);
            }
            Assert.Empty(Failures);
        }
    }

    /// <summary>GETs keys in turn on its own connection, checking each value.</summary>
    private sealed class GetLoop(RespConnection client)
    {
        private int _answered;
        private long _slowestTicks;

        public ConcurrentQueue<string> Failures { get; } = new();

        public int Answered => Volatile.Read(ref _answered);

        public TimeSpan Slowest => TimeSpan.FromTicks(Interlocked.Read(ref _slowestTicks));

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            for (var i = 0; !cancellationToken.IsCancellationRequested; i = (i + 7919) % KeyCount)
            {
                var key = KeyOf(i);
                var value = ValueOf(key);
                var started = Stopwatch.GetTimestamp();
                string reply;
                try
                {
                    reply = await client.CommandAsync("GET", key);
                }
                catch (Exception e) when (e is IOException or OperationCanceledException)
                {
                    Failures.Enqueue($"GET {key}: {e.GetType().Name}: {e.Message}");
                    return;
                }
                var elapsed = Stopwatch.GetElapsedTime(started).Ticks;
                if (elapsed > Interlocked.Read(ref _slowestTicks))
                {
                    Interlocked.Exchange(ref _slowestTicks, elapsed);
                }
                if (reply != $"${value.Length}\r\n{value}\r\n")
                {
                    Failures.Enqueue($"GET {key}: {reply}");
                }
                Interlocked.Increment(ref _answered);
                // Not a busy loop: a client that reads now and then, as the issue's "a client is served" means.
                await Task.Delay(1, CancellationToken.None);
            }
        }
    }
}
