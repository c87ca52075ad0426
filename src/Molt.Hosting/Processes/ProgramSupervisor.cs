using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace Molt.Hosting.Processes;

/// <summary>
/// The process <c>molt run</c> leaves in place while the program runs in processes of its own: it starts the first program
/// process, starts each successor a process update asks for (so that every program process is its child, and its exit
/// code is known), forwards a stop to whichever process serves, tells systemd (<c>$NOTIFY_SOCKET</c>) when the program is
/// ready, updating or stopping, and exits with the exit code of the process that served last. It holds no program state and
/// no program socket: a process update passes those between the program processes directly.
/// </summary>
/// <remarks>
/// Why a supervisor that stays, rather than each old process exiting and naming its successor to systemd with
/// <c>MAINPID=</c>: a shell waits for the process it started, and a terminal's Ctrl-C reaches its foreground process group
/// only; an exit code is the program's only when its parent is the one that reaps it. One process that stays answers all
/// three, under a terminal and under systemd alike, with no PID file and no orphaned children.
/// </remarks>
internal sealed class ProgramSupervisor : IDisposable
{
    /// <summary>The variable that tells a program process the descriptor of its link to the supervisor.</summary>
    public const string LinkVariable = "MOLT_SUPERVISOR_FD";

    private static readonly TimeSpan LinkPoll = TimeSpan.FromSeconds(1);

    private readonly ILogger _logger;
    private readonly SystemdNotifier _systemd;
    private readonly Lock _lock = new();
    private readonly List<Child> _children = [];
    private readonly TaskCompletionSource<int> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Child? _serving;
    private bool _stopping;

    public ProgramSupervisor(ILogger logger, SystemdNotifier? systemd = null)
    {
        _logger = logger;
        _systemd = systemd ?? SystemdNotifier.FromEnvironment();
    }

    /// <summary>The process serving the program now (null before the first says it serves).</summary>
    public int? ServingProcessId
    {
        get { lock (_lock) { return _serving?.Process.Id; } }
    }

    /// <summary>Starts the first program process and waits until the program has ended; returns the exit code to exit with.</summary>
    public async Task<int> RunAsync(string fileName, IReadOnlyList<string> arguments, string runtimeConfig, CancellationToken stop)
    {
        var first = Start(fileName, arguments, environment: null, runtimeConfig, handoff: null);
        lock (_lock)
        {
            _serving ??= first; // Stops go to it until it says it serves.
        }
        using var onStop = stop.Register(Stop);
        return await _ended.Task.ConfigureAwait(false);
    }

    /// <summary>Forwards a stop (SIGTERM) to the process that serves; the supervisor exits when it has.</summary>
    public void Stop()
    {
        Child? serving;
        lock (_lock)
        {
            _stopping = true;
            serving = _serving;
        }
        TryNotify(() => _systemd.Stopping());
        if (serving is not null && !serving.Exited)
        {
            Log.SupervisorForwardsStop(_logger, serving.Process.Id);
            Libc.kill(serving.Process.Id, Libc.Sigterm);
        }
    }

    private Child Start(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment, string runtimeConfig, HandoffChildEnd? handoff)
    {
        var (link, childLink) = HandoffChannel.CreatePair();
        var start = ProgramProcessStart.StartInfo(fileName, arguments, environment, runtimeConfig);
        start.Environment.Remove(SystemdNotifier.SocketVariable); // Only the supervisor speaks to systemd.
        List<(HandoffChildEnd, string)> ends = [(childLink, LinkVariable)];
        if (handoff is not null)
        {
            ends.Add((handoff, HandoffChannel.DescriptorVariable));
        }
        Process process;
        try
        {
            process = HandoffChildEnd.StartWith(start, ends);
        }
        catch
        {
            link.Dispose();
            throw;
        }
        var child = new Child(process, link, runtimeConfig);
        lock (_lock)
        {
            _children.Add(child);
        }
        var reader = new Thread(() => ReadLink(child)) { IsBackground = true, Name = $"molt supervisor link {process.Id}" };
        reader.Start();
        _ = WatchExitAsync(child);
        return child;
    }

    /// <summary>Serves one child's requests until its link closes (it exited, or closed it).</summary>
    private void ReadLink(Child child)
    {
        while (true)
        {
            ProcessNote note;
            try
            {
                note = ProcessNotes.Receive(child.Link, LinkPoll);
            }
            catch (TimeoutException)
            {
                if (child.Exited)
                {
                    return;
                }
                continue;
            }
            catch (Exception e) when (e is HandoffException or IOException or ObjectDisposedException)
            {
                return;
            }
            switch (note.Kind)
            {
                case SupervisorKinds.Start:
                    StartSuccessor(child, note);
                    break;
                case SupervisorKinds.Serving:
                    Serving(child, note);
                    break;
                default:
                    Log.SupervisorUnknownNote(_logger, child.Process.Id, note.Kind);
                    break;
            }
        }
    }

    private void StartSuccessor(Child requester, ProcessNote note)
    {
        TryNotify(() => _systemd.Reloading());
        HandoffChannel? mine = null;
        try
        {
            if (note.FileName is null || note.Arguments is null)
            {
                throw new InvalidOperationException("The request names no program to start.");
            }
            var (channel, theirs) = HandoffChannel.CreatePair();
            mine = channel;
            var runtimeConfig = note.Environment?.GetValueOrDefault(ProgramProcessStart.RuntimeConfigVariable) ?? "";
            var successor = Start(note.FileName, note.Arguments, note.Environment, runtimeConfig, theirs);
            Log.SupervisorStartedSuccessor(_logger, successor.Process.Id, requester.Process.Id);
            // The requester gets the other end of the new process's hand-off channel; ours closes right after.
            requester.Link.Send(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(
                new ProcessNote(SupervisorKinds.Started) { ProcessId = successor.Process.Id }, ProcessJson.Default.ProcessNote),
                [channel.Handle], TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.SupervisorStartFailed(_logger, e.Message);
            try
            {
                ProcessNotes.Send(requester.Link, new ProcessNote(SupervisorKinds.StartFailed) { Error = e.Message }, TimeSpan.FromSeconds(10));
            }
            catch (Exception ex) when (ex is HandoffException or IOException or TimeoutException or ObjectDisposedException)
            {
                // The requester is gone: nothing to tell.
            }
            AfterUpdate();
        }
        finally
        {
            mine?.Dispose();
        }
    }

    private void Serving(Child child, ProcessNote note)
    {
        Child? previous;
        lock (_lock)
        {
            previous = _serving;
            _serving = child;
            child.HasServed = true;
        }
        Log.SupervisorServing(_logger, child.Process.Id, note.Version?.ToString() ?? "?");
        // One datagram: systemd sees the new status and the end of the reload together.
        TryNotify(() => _systemd.Notify($"READY=1\nSTATUS=serving {note.Version} in process {child.Process.Id}"));
        if (previous is not null && previous != child && _stopping && !child.Exited)
        {
            // A stop came while the update committed: the process that serves now gets it too.
            Libc.kill(child.Process.Id, Libc.Sigterm);
        }
    }

    private async Task WatchExitAsync(Child child)
    {
        await child.Process.WaitForExitAsync().ConfigureAwait(false);
        child.Exited = true;
        var code = child.Process.ExitCode;
        DeleteQuietly(child.RuntimeConfig); // The child deletes it once it runs; not when it failed to start.
        bool last;
        lock (_lock)
        {
            _children.Remove(child);
            last = _serving == child;
        }
        child.Link.Dispose();
        if (!last)
        {
            if (!child.HasServed)
            {
                Log.SupervisorSuccessorExited(_logger, child.Process.Id, code);
                AfterUpdate(); // A successor that never served: the old process serves on.
            }
            return;
        }
        // A process update's new process says it serves before the old one may exit; a moment's grace covers a note in flight.
        var grace = Stopwatch.StartNew();
        while (grace.Elapsed < TimeSpan.FromSeconds(2))
        {
            lock (_lock)
            {
                if (_serving != child)
                {
                    return;
                }
                if (!_children.Any(c => !c.Exited))
                {
                    break;
                }
            }
            await Task.Delay(20).ConfigureAwait(false);
        }
        Log.SupervisorProgramEnded(_logger, child.Process.Id, code);
        _ended.TrySetResult(code);
    }

    /// <summary>Tells systemd the program serves again after an update that did not hand over (its READY=1 ends the RELOADING=1).</summary>
    private void AfterUpdate() => TryNotify(() => _systemd.Ready());

    private void TryNotify(Action notify)
    {
        try
        {
            notify();
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            Log.SupervisorNotifyFailed(_logger, e.Message);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var child in _children)
            {
                child.Link.Dispose();
            }
        }
        _systemd.Dispose();
    }

    private static void DeleteQuietly(string path)
    {
        try
        {
            if (path.Length > 0)
            {
                File.Delete(path);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    private sealed class Child(Process process, HandoffChannel link, string runtimeConfig)
    {
        public string RuntimeConfig { get; } = runtimeConfig;
        public Process Process { get; } = process;
        public HandoffChannel Link { get; } = link;
        public volatile bool Exited;
        public volatile bool HasServed;
    }
}

/// <summary>A program process's link to its supervisor: asks it for a successor, tells it when this process serves.</summary>
internal sealed class SupervisorLink(HandoffChannel channel) : IDisposable
{
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(30);
    private readonly Lock _lock = new();

    /// <summary>The link this process inherited, or null when it was not started by a supervisor.</summary>
    public static SupervisorLink? FromEnvironment() =>
        HandoffChannel.FromEnvironment(ProgramSupervisor.LinkVariable) is { } channel ? new SupervisorLink(channel) : null;

    /// <summary>Asks for a successor process; returns its process id and this end of its hand-off channel.</summary>
    /// <exception cref="HandoffException">The supervisor could not start it (the words say why), or is gone.</exception>
    public (int ProcessId, HandoffChannel Channel) StartSuccessor(string fileName, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment)
    {
        lock (_lock)
        {
            ProcessNotes.Send(channel, new ProcessNote(SupervisorKinds.Start)
            {
                FileName = fileName, Arguments = [.. arguments], Environment = new(environment),
            }, AnswerTimeout);
            using var answer = channel.Receive(AnswerTimeout);
            var note = ProcessNotes.Parse(answer.Payload);
            if (note.Kind == SupervisorKinds.StartFailed)
            {
                throw new HandoffException($"The new process could not be started: {note.Error}");
            }
            if (note.Kind != SupervisorKinds.Started || note.ProcessId is not { } pid || answer.DescriptorCount != 1)
            {
                throw new HandoffException($"The supervisor answered '{note.Kind}' to a start request.");
            }
            return (pid, answer.TakeChannel(0));
        }
    }

    /// <summary>
    /// Calls <paramref name="lost"/> (once, on a thread of its own) if the supervisor goes away: killed, it can no longer
    /// forward a stop nor start a successor, and a program left running without it would be an orphan nobody stops.
    /// </summary>
    public void WatchSupervisor(Action lost, CancellationToken cancellation)
    {
        var watcher = new Thread(() =>
        {
            if (channel.WaitUntilClosed(cancellation))
            {
                lost();
            }
        }) { IsBackground = true, Name = "molt supervisor watch" };
        watcher.Start();
    }

    /// <summary>Tells the supervisor that this process is the program now.</summary>
    public void Serving(ProgramVersionInfo version)
    {
        lock (_lock)
        {
            ProcessNotes.Send(channel, new ProcessNote(SupervisorKinds.Serving) { ProcessId = Environment.ProcessId, Version = version }, AnswerTimeout);
        }
    }

    public void Dispose() => channel.Dispose();
}
