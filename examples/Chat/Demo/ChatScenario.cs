using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using Molt.Hosting;

namespace Chat.Demo;

/// <summary>
/// Molt's main job, end to end: the chat server's first release runs under the Molt host, real TCP clients
/// join rooms and keep talking, and the server is updated live to each next release while they do. After
/// each update: every client is still on its original connection and gets the new release's VERSION, none
/// saw an error, and the rooms' histories hold every line acknowledged, once. Used by the demo and the tests.
/// </summary>
public sealed class ChatScenario(ChatScenarioOptions options)
{
    private const string TopicRoom = "room-1";
    private const string KeptTopic = "set in release 2, kept in release 3";

    /// <summary>A command the observer starts before an update and ends after it: the server keeps the half line in the connection's state.</summary>
    private static readonly (string Before, string After) SplitCommand = ("VERS", "ION");

    private readonly Stopwatch _clock = new();
    private ChatClient[] _clients = [];

    /// <summary>Runs the scenario; never throws for something that went wrong in it: the report says.</summary>
    public async Task<ChatReport> RunAsync(CancellationToken cancellationToken = default)
    {
        _clock.Restart();
        var report = new ChatReport { Clients = options.Clients };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.TimeLimit);
        try
        {
            await RunAsync(report, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or TimeoutException or IOException
            or System.Net.Sockets.SocketException or ChatProtocolException or UpdateFailedException)
        {
            report.Failures.Add(deadline.IsCancellationRequested && e is OperationCanceledException
                ? $"the scenario did not finish within {options.TimeLimit.TotalSeconds:0} s"
                : $"{e.GetType().Name}: {e.Message}");
        }
        report.LinesSent = _clients.Sum(c => c.Sent);
        report.LinesAcknowledged = _clients.Sum(c => c.Acknowledged);
        report.ClientErrors.AddRange(_clients.SelectMany(c => c.Errors.Select(e => $"{c.Nick}: {e}")));
        if (report.ClientErrors.Count > 0)
        {
            report.Failures.Add($"{report.ClientErrors.Count} client errors, the first: {report.ClientErrors[0]}");
        }
        report.Elapsed = _clock.Elapsed;
        return report;
    }

    private async Task RunAsync(ChatReport report, CancellationToken cancellationToken)
    {
        var releases = options.Releases.Select(r => (Name: r, Path: Path.Combine(options.ReleasesFolder, r, "Chat.dll"))).ToList();
        if (releases.FirstOrDefault(r => !File.Exists(r.Path)) is { Path: not null } missing)
        {
            report.Failures.Add($"release {missing.Name} is not built: {missing.Path} does not exist");
            return;
        }

        var hostOptions = new MoltHostOptions { QuiesceTimeout = TimeSpan.FromSeconds(10), RestartTimeout = TimeSpan.FromSeconds(15) };
        await using var host = await MoltHost.StartAsync(releases[0].Path, ["--port", "0"], hostOptions, cancellationToken).ConfigureAwait(false);
        var port = ReadPort(host);
        Log($"{releases[0].Name} ({host.Version.Version}) runs under Molt on 127.0.0.1:{port}");

        _clients = await Task.WhenAll(Enumerable.Range(1, options.Clients).Select(i => ChatClient.ConnectAsync(
            port, $"c{i:00}", $"room-{(i - 1) % options.Rooms + 1}", options.ReplyTimeout, cancellationToken))).ConfigureAwait(false);
        await using var observer = await ChatClient.ConnectAsync(port, "observer", room: null, options.ReplyTimeout, cancellationToken).ConfigureAwait(false);
        Log($"{_clients.Length} clients connected in {options.Rooms} rooms; each says a line every {options.LineInterval.TotalMilliseconds:0} ms and waits for it to come back");
        try
        {
            await TalkAndUpdateAsync(report, host, observer, releases, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await Task.WhenAll(_clients.Select(c => c.DisposeAsync().AsTask())).ConfigureAwait(false);
        }
        await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
    }

    private async Task TalkAndUpdateAsync(ChatReport report, MoltHost host, ChatClient observer, List<(string Name, string Path)> releases, CancellationToken cancellationToken)
    {
        using var stopTalking = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var talking = _clients.Select(c => Task.Run(() => c.RunAsync(options.MaxLinesPerClient, options.LineInterval, stopTalking.Token))).ToArray();
        try
        {
            await EveryoneSaysMoreAsync(cancellationToken).ConfigureAwait(false);
            var versions = await ProbeVersionsAsync(cancellationToken).ConfigureAwait(false);
            var history = await CheckHistoryAsync(observer, exact: false).ConfigureAwait(false);
            var first = releases[0].Name.TrimStart('v');
            Log($"{releases[0].Name}: {versions.Count(v => v == first)} of {_clients.Length} clients answer VERSION {first}; history {history}");
            Require(report, versions.All(v => v == first), $"before the first update, {versions.Count(v => v == first)} of {_clients.Length} clients answer VERSION {first}");
            Require(report, history.Ok, $"history before the first update: {history}");

            for (var i = 1; i < releases.Count; i++)
            {
                var update = await UpdateAsync(report, host, observer, releases[i - 1].Name, releases[i], cancellationToken).ConfigureAwait(false);
                Judge(report, update);
                if (update.Result.Outcome != UpdateOutcome.Committed)
                {
                    break;
                }
            }
        }
        finally
        {
            await stopTalking.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(talking).WaitAsync(options.ReplyTimeout + TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
        }

        report.FinalHistory = await CheckHistoryAsync(observer, exact: true).ConfigureAwait(false);
        Log($"clients stopped: {_clients.Sum(c => c.Sent)} lines said, {_clients.Sum(c => c.Acknowledged)} acknowledged; final history {report.FinalHistory}");
        Require(report, report.FinalHistory.Ok, $"final history: {report.FinalHistory}");
        Require(report, _clients.All(c => c.Sent == c.Acknowledged), "every line said was acknowledged");
    }

    private async Task<UpdateReport> UpdateAsync(ChatReport report, MoltHost host, ChatClient observer, string from, (string Name, string Path) to, CancellationToken cancellationToken)
    {
        await observer.SendPartAsync(SplitCommand.Before).ConfigureAwait(false);
        // Give the server the time to receive the half line, so that it is in the connection's buffer when the update comes.
        await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken).ConfigureAwait(false);
        var errorsBefore = ClientErrorCount();
        var acknowledgedBefore = _clients.Sum(c => c.Acknowledged);
        var result = await host.UpdateAsync(to.Path, cancellationToken).ConfigureAwait(false);
        var update = new UpdateReport
        {
            From = from,
            To = to.Name,
            Result = result,
            LinesDuringUpdate = _clients.Sum(c => c.Acknowledged) - acknowledgedBefore,
        };
        report.Updates.Add(update);
        Log("");
        Log($"update {from} -> {to.Name}: {result.Outcome}{(result.Failure is { } f ? $" ({f.Phase}: {f.Message})" : "")}");
        Log($"  pause {Ms(result.PauseTime)} (quiesce {Ms(result.QuiesceTime)}, transfer {Ms(result.TransferTime)}, restart {Ms(result.RestartTime)}); " +
            $"prepared before it in {Ms(result.PrepareTime)} while {from} served");
        Log($"  objects rebuilt {result.ObjectsRebuilt}, references passed {result.ReferencesPassed}, statics migrated {result.StaticsMigrated}" +
            (result.DroppedFields.Count > 0 ? $"; dropped: {string.Join(", ", result.DroppedFields)}" : ""));
        if (result.Outcome != UpdateOutcome.Committed)
        {
            update.ClientErrors = ClientErrorCount() - errorsBefore;
            return update;
        }

        // The clients go on in the new version before anything is checked.
        await EveryoneSaysMoreAsync(cancellationToken).ConfigureAwait(false);
        var expected = to.Name.TrimStart('v');
        var split = await observer.AskAsync(SplitCommand.After, "VERSION ").ConfigureAwait(false);
        update.ReleaseChecks.Add(($"a command split across the update ('{SplitCommand.Before}' before, '{SplitCommand.After}' after) is understood", split == $"VERSION {expected}"));
        var versions = await ProbeVersionsAsync(cancellationToken).ConfigureAwait(false);
        update.NewVersionReplies = versions.Count(v => v == expected);
        update.ConnectionsKept = _clients.Count(c => c.IsConnected);
        var units = host.Units.ToDictionary(u => u.Name, StringComparer.Ordinal);
        update.ConnectionUnitsResumed = _clients.Count(c => units.TryGetValue(c.UnitName, out var unit) && unit.ResumedFrom == "command");
        update.History = await CheckHistoryAsync(observer, exact: false).ConfigureAwait(false);
        await CheckReleaseAsync(observer, update).ConfigureAwait(false);
        update.ClientErrors = ClientErrorCount() - errorsBefore;

        Log($"  clients: {update.ConnectionsKept} of {_clients.Length} on their original connection, {update.ConnectionUnitsResumed} connection units resumed, " +
            $"{update.NewVersionReplies} answer VERSION {expected}; {update.ClientErrors} errors; {update.LinesDuringUpdate} lines acknowledged during the update");
        Log($"  history: {update.History}");
        foreach (var (name, passed) in update.ReleaseChecks)
        {
            Log($"  {name}: {(passed ? "OK" : "FAILED")}");
        }
        Log($"  old version unloaded: {result.OldVersionUnloaded switch { true => "yes", false => "NO", null => "not checked" }} ({Ms(result.UnloadTime)})" +
            string.Concat(result.Warnings.Select(w => $"\n  warning: {w}")));
        return update;
    }

    /// <summary>What each release brings, seen from a client.</summary>
    private static async Task CheckReleaseAsync(ChatClient observer, UpdateReport update)
    {
        switch (update.To)
        {
            case "v2":
                var topic = await observer.AskAsync($"TOPIC {TopicRoom}", $"TOPIC {TopicRoom}").ConfigureAwait(false);
                update.ReleaseChecks.Add(($"a room of v1 has the new Topic field's initial value ('{topic}')", topic == $"TOPIC {TopicRoom} (no topic)"));
                var set = await observer.AskAsync($"TOPIC {TopicRoom} {KeptTopic}", $"TOPIC {TopicRoom}").ConfigureAwait(false);
                update.ReleaseChecks.Add(("TOPIC sets a topic", set == $"TOPIC {TopicRoom} {KeptTopic}"));
                break;
            case "v3":
                var kept = await observer.AskAsync($"TOPIC {TopicRoom}", $"TOPIC {TopicRoom}").ConfigureAwait(false);
                update.ReleaseChecks.Add(("the topic set in v2 is kept in the lobby's room", kept == $"TOPIC {TopicRoom} {KeptTopic}"));
                break;
        }
    }

    private void Judge(ChatReport report, UpdateReport update)
    {
        var name = $"{update.From} -> {update.To}";
        var result = update.Result;
        Require(report, result.Outcome == UpdateOutcome.Committed, $"{name}: {result}");
        if (result.Outcome != UpdateOutcome.Committed)
        {
            return;
        }
        Require(report, update.ConnectionsKept == _clients.Length, $"{name}: {update.ConnectionsKept} of {_clients.Length} clients on their original connection");
        Require(report, update.ConnectionUnitsResumed == _clients.Length, $"{name}: {update.ConnectionUnitsResumed} of {_clients.Length} connection units resumed");
        Require(report, update.NewVersionReplies == _clients.Length, $"{name}: {update.NewVersionReplies} of {_clients.Length} clients answer the new VERSION");
        Require(report, update.ClientErrors == 0, $"{name}: {update.ClientErrors} client errors");
        Require(report, update.History?.Ok == true, $"{name}: history {update.History}");
        Require(report, result.OldVersionUnloaded == true, $"{name}: the old version was not unloaded: {string.Join(" ", result.Warnings)}");
        foreach (var (check, passed) in update.ReleaseChecks)
        {
            Require(report, passed, $"{name}: {check}");
        }
    }

    private static void Require(ChatReport report, bool held, string what)
    {
        if (!held)
        {
            report.Failures.Add(what);
        }
    }

    /// <summary>Waits until every client has had <see cref="ChatScenarioOptions.LinesPerStep"/> more lines acknowledged (or has failed).</summary>
    private async Task EveryoneSaysMoreAsync(CancellationToken cancellationToken)
    {
        var targets = _clients.Select(c => Math.Min(c.Acknowledged + options.LinesPerStep, options.MaxLinesPerClient)).ToArray();
        while (!_clients.Select((c, i) => c.Acknowledged >= targets[i] || c.Errors.Count > 0).All(done => done))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Has every talking client send VERSION between two of its lines; the replies, in client order.</summary>
    private async Task<string[]> ProbeVersionsAsync(CancellationToken cancellationToken)
    {
        var probes = _clients.Select(c => c.Errors.Count > 0 ? Task.FromResult("(failed)") : c.ProbeVersionAsync());
        try
        {
            return await Task.WhenAll(probes).WaitAsync(options.ReplyTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (ChatProtocolException)
        {
            return [.. _clients.Select(_ => "(failed)")]; // A client stopped; its error is counted.
        }
    }

    /// <summary>Reads every room's history through the observer and checks it against what the clients said.</summary>
    private async Task<HistoryCheck> CheckHistoryAsync(ChatClient observer, bool exact)
    {
        var acknowledged = _clients.ToDictionary(c => c.Nick, c => c.Acknowledged, StringComparer.Ordinal);
        var histories = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var room in _clients.Select(c => c.Room!).Distinct())
        {
            histories[room] = await observer.HistoryAsync(room).ConfigureAwait(false);
        }
        var sent = _clients.ToDictionary(c => c.Nick, c => c.Sent, StringComparer.Ordinal);
        return HistoryCheck.Verify(histories, _clients, acknowledged, sent, exact);
    }

    private int ClientErrorCount() => _clients.Sum(c => c.Errors.Count);

    /// <summary>The port the running version bound (its static Program.Port), read without keeping any of its types referenced.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int ReadPort(MoltHost host)
    {
        return (int)Molt.Testing.ProgramState.Call(host, "Chat.Program", "get_Port")!;
    }

    private void Log(string line) => options.Log?.Invoke(line.Length == 0 ? "" : $"[{_clock.Elapsed.TotalSeconds,5:0.00} s] {line}");

    private static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture) + " ms";
}
