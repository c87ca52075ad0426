using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Molt.Hosting.Control;
using Molt.Hosting.Loading;
using Molt.Hosting.Processes;
using Molt.Hosting.Transfer;
using Molt.Hosting.Transfer.Stream;

namespace Molt.Hosting.Updating;

/// <summary>
/// What a program process run by <c>molt</c>'s supervisor needs for process updates: the link that starts a successor, the
/// arguments the successor's <c>serve</c> command takes, and the control endpoint's listener, which crosses with the state
/// so that the program's name answers throughout.
/// </summary>
internal sealed class ProcessHandoff(SupervisorLink supervisor, Func<string, string, IReadOnlyList<string>> serveArguments)
{
    /// <summary>Asks the supervisor for a new process.</summary>
    public SupervisorLink Supervisor { get; } = supervisor;

    /// <summary>The successor's <c>serve</c> arguments, given the new version's path and the old one's.</summary>
    public Func<string, string, IReadOnlyList<string>> ServeArguments { get; } = serveArguments;

    /// <summary>The control endpoint's listening socket, handed over with the state (null: none open).</summary>
    public Func<Socket?>? ControlListener { get; set; }

    /// <summary>Called once a process update has committed: this process must stop accepting control connections and exit once its reply is sent.</summary>
    public Action<int>? HandedOver { get; set; }
}

/// <summary>
/// The process mechanism, in the old process: a new process (started by the supervisor, running the new version in a
/// context that is not collectible) prepares while this one serves; this one parks its units, writes its state as a state
/// stream and sends it with its sockets; the new process rebuilds the state as its own types with the same plan and
/// transformers, runs the state checks and its units up to their first update point; then this one commits (the new
/// process serves) or rolls back (it is killed, and the units here resume on their untouched state and open sockets).
/// </summary>
/// <remarks>
/// Every wait on the new process is bounded by the restart deadline, and every failure of it — exited, killed, hung,
/// refused, threw — is a refusal (before the pause) or a rollback (during it) with the new process's own words.
/// </remarks>
internal sealed class ProcessUpdate(
    ProgramSession session, ProgramVersion current, string newPath, MoltHostOptions options, UpdateOptions update,
    ProcessHandoff? handoff, IReadOnlyList<UpdateSummary> history, IReadOnlyList<ProgramVersionInfo> versions, ILogger logger)
    : IUpdateMechanism
{
    /// <summary>How long a committed new process has to acknowledge the commit; past it, this process exits anyway (it has handed over).</summary>
    private static readonly TimeSpan AcknowledgeTimeout = TimeSpan.FromSeconds(10);

    private readonly TimeProvider _time = options.TimeProvider;
    private readonly TimeSpan _stepTimeout = options.RestartTimeout;
    private HandoffChannel? _channel;
    private int _successor;
    private bool _committed;
    private ProgramVersionInfo? _incoming;

    /// <summary>The new process's 'prepared': its check's dropped fields and warnings.</summary>
    private ProcessNote? _preparedNote;

    /// <summary>The new process's id (0 before it started).</summary>
    public int SuccessorProcessId => _successor;

    /// <summary>Starts the new process and waits for it to load and prepare, on a thread of its own: the thread pool serves the program meanwhile.</summary>
    public Task<ProgramVersionInfo> LoadAsync() => ProcessNotes.OffThread(Load);

    private ProgramVersionInfo Load()
    {
        if (handoff is null)
        {
            throw new UpdateFailedException(UpdatePhase.Prepare,
                "A process update needs the program to run under `molt run`, whose supervisor starts the new process; this program runs in a host of its own. Update it in process.");
        }
        if (!Libc.IsSupported)
        {
            throw new UpdateFailedException(UpdatePhase.Prepare, "A process update passes sockets between processes, which Molt implements for 64-bit Linux only.");
        }
        try
        {
            var hostPath = update.HostPath ?? ProgramProcessStart.CurrentHostPath;
            var (fileName, arguments, runtimeConfig) = ProgramProcessStart.Build(
                hostPath, Path.GetFullPath(newPath), handoff.ServeArguments(Path.GetFullPath(newPath), current.Info.AssemblyPath), ControlEndpoints.Directory);
            var environment = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
                .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "", StringComparer.Ordinal);
            foreach (var (key, value) in update.Environment ?? new Dictionary<string, string?>())
            {
                if (value is null)
                {
                    environment.Remove(key);
                }
                else
                {
                    environment[key] = value;
                }
            }
            environment[ProgramProcessStart.RuntimeConfigVariable] = runtimeConfig;
            (_successor, _channel) = handoff.Supervisor.StartSuccessor(fileName, arguments, environment);
            var hello = Expect(HandoffKinds.Hello, UpdatePhase.Prepare, "start");
            if (hello.Protocol != HandoffKinds.Protocol)
            {
                throw new UpdateFailedException(UpdatePhase.Prepare,
                    $"The new process speaks hand-off protocol {hello.Protocol}, this one {HandoffKinds.Protocol}: its host ({hostPath}) is not a build this one can hand over to.");
            }
            Log.SuccessorStarted(logger, _successor, hello.Runtime ?? "?");
            ProcessNotes.Send(Channel, new ProcessNote(HandoffKinds.Prepare)
            {
                OldProgram = current.Info.AssemblyPath,
                OldGeneration = current.Info.Generation,
                IsRollback = update.IsRollback,
                History = [.. history],
                Versions = [.. versions],
                Units = [.. session.UnitEntries().Where(u => CrossesProcesses(u.Name)).Select(u => new StreamedUnit(u.Name, u.LastSeenAt ?? "", u.Entry.DeclaringTypeName, u.Entry.Method.Name, u.Entry.OnThread))],
            }, _stepTimeout);
            var prepared = Expect(HandoffKinds.Prepared, UpdatePhase.Prepare, "load and prepare the new version");
            _incoming = prepared.Version ?? throw new UpdateFailedException(UpdatePhase.Prepare, "The new process did not say which version it loaded.");
            _preparedNote = prepared;
            return _incoming;
        }
        catch (Exception e) when (e is HandoffException or IOException or TimeoutException or InvalidDataException or UnauthorizedAccessException or SocketException)
        {
            throw new UpdateFailedException(UpdatePhase.Prepare, $"The new process could not be started and prepared: {e.Message}");
        }
    }

    private HandoffChannel Channel => _channel ?? throw new InvalidOperationException("The new process has not been started.");

    public void Prepare(UpdateResult result)
    {
        // The new process planned the transfer and checked it, against this version loaded there anew: its verdict came with 'prepared'.
        result.DroppedFields = _preparedNote?.DroppedFields ?? [];
        WarmUpStream(current);
        foreach (var warning in _preparedNote?.Warnings ?? [])
        {
            Log.CheckWarning(logger, warning);
        }
    }

    /// <summary>The stream's code compiled before the pause (a failure here only means it compiles in the pause, as it would have).</summary>
    internal static void WarmUpStream(ProgramVersion version)
    {
        try
        {
            StreamWarmUp.Run(version);
        }
        catch (Exception e) when (e is StateTransferException or StateStreamException or InvalidOperationException)
        {
        }
    }

    public Task QuiesceAsync(UpdateCancellation cancellation)
    {
        session.LeavingProcess = true;
        return InProcessUpdate.ParkUnitsAsync(session, update.QuiesceTimeout ?? options.QuiesceTimeout, _time, cancellation);
    }

    /// <summary>A unit that stays with this process (a connection its server accepted) is not handed over: it ends with the process.</summary>
    private bool CrossesProcesses(string unit) => session.StaysInProcess?.Invoke(unit) != true;

    public void Transfer(UpdateResult result)
    {
        var parked = session.ParkedUnits().Where(u => CrossesProcesses(u.Name)).ToList();
        var clock = Stopwatch.StartNew();
        StateStream stream;
        try
        {
            var statics = current.StaticHolders().SelectMany(TypeFacts.StaticFields).ToList();
            stream = StateWriter.Write(current, statics, [.. parked.Select(u => (u.Name, u.State))]);
        }
        catch (StateTransferException failure)
        {
            var map = new TypeMap(current, current, TransformerSet.Discover(current));
            var roots = StatePathFinder.Roots(map, parked.Select(u => (u.Name, u.State))).ToList();
            var path = failure.Offender is null ? null : StatePathFinder.Find(roots, failure.Offender, map);
            var what = failure.Offender is null ? "Some state" : $"A {TypeFacts.Describe(failure.Offender.GetType())}";
            if (path is null && failure.Offender is { } offender && FrameworkHolder(roots, offender, map) is { } holder)
            {
                (path, what) = (holder.Path, $"{what}, in a {TypeFacts.Describe(holder.Holder.GetType())},");
            }
            throw new UpdateFailedException(UpdatePhase.Transfer,
                $"{what} cannot cross to the new process{(path is null ? "" : $" (at {path})")}: {failure.Message}.", null, path);
        }
        result.StreamBytes = stream.Bytes.Length;
        result.StreamWriteTime = clock.Elapsed;
        var listener = handoff!.ControlListener?.Invoke();
        try
        {
            SendState(stream, [.. parked.Select(u => new StreamedUnit(u.Name, u.ParkedAt, u.Entry.DeclaringTypeName, u.Entry.Method.Name, u.Entry.OnThread))], listener);
        }
        catch (Exception e) when (e is HandoffException or IOException or TimeoutException)
        {
            throw new UpdateFailedException(UpdatePhase.Transfer, $"The state could not be sent to the new process: {LostOr(e)}");
        }
        var transferred = Expect(HandoffKinds.Transferred, UpdatePhase.Transfer, "rebuild the state");
        result.ObjectsRebuilt = transferred.ObjectsRebuilt ?? 0;
        result.ReferencesPassed = transferred.ReferencesPassed ?? 0;
        result.StaticsMigrated = transferred.StaticsMigrated ?? 0;
        result.StreamReadTime = TimeSpan.FromMilliseconds(transferred.ReadMilliseconds ?? 0);
        result.Warnings = [.. transferred.Warnings ?? [], .. result.Warnings];
    }

    /// <summary>
    /// The framework object that the program holds and that holds, inside, what the stream refused (a <c>FileStream</c>'s
    /// handle), with the program's path to it. The path finder walks only what may hold the program's objects, which a
    /// framework object's insides never do, while the stream writes them all: so the chain to the refused object is searched
    /// through every field (bounded), and the path named is the finder's path to the outermost framework object of that chain
    /// that is not a collection (else to the deepest object of the chain it reaches).
    /// </summary>
    private static (string Path, object Holder)? FrameworkHolder(List<(string Label, object? Value)> roots, object offender, TypeMap map)
    {
        const int MaxObjects = 1_000_000;
        if (offender.GetType().IsValueType)
        {
            return null;
        }
        var parents = new Dictionary<object, object?>(ReferenceEqualityComparer.Instance);
        var queue = new Queue<object>();
        foreach (var (_, value) in roots)
        {
            if (value is not null && parents.TryAdd(value, null))
            {
                queue.Enqueue(value);
            }
        }
        var found = parents.ContainsKey(offender);
        while (!found && parents.Count < MaxObjects && queue.TryDequeue(out var at))
        {
            foreach (var child in References(at))
            {
                if (parents.TryAdd(child, at))
                {
                    found = ReferenceEquals(child, offender);
                    if (found)
                    {
                        break;
                    }
                    queue.Enqueue(child);
                }
            }
        }
        if (!found)
        {
            return null;
        }
        var chain = new List<object>();
        for (var holder = parents[offender]; holder is not null; holder = parents[holder])
        {
            chain.Insert(0, holder);
        }
        // The program's view ends at the first framework object on the way that is not a collection (a FileStream in a List):
        // what is inside it is the framework's.
        var outermost = chain.FindIndex(o => !map.Old.Owns(o.GetType().Assembly) && o is not Array
            && o.GetType().Namespace?.StartsWith("System.Collections", StringComparison.Ordinal) != true);
        foreach (var holder in outermost < 0 ? Enumerable.Reverse(chain) : chain.Skip(outermost).Take(1).Concat(Enumerable.Reverse(chain)))
        {
            if (StatePathFinder.Find(roots, holder, map) is { } path)
            {
                return (path, holder);
            }
        }
        return null;

        static IEnumerable<object> References(object value)
        {
            var type = value.GetType();
            if (value is string || type.IsPrimitive || type.IsEnum || value is System.Reflection.MemberInfo or System.Reflection.Assembly)
            {
                yield break;
            }
            if (value is Array array)
            {
                if (!type.GetElementType()!.IsPrimitive && !type.GetElementType()!.IsPointer)
                {
                    foreach (var element in array)
                    {
                        if (element is not null)
                        {
                            yield return element;
                        }
                    }
                }
                yield break;
            }
            foreach (var field in TypeFacts.InstanceFields(type))
            {
                if (!field.FieldType.IsPointer && !field.FieldType.IsByRefLike && field.GetValue(value) is { } child)
                {
                    yield return child;
                }
            }
        }
    }

    /// <summary>
    /// The state note (with the control endpoint's listener attached), then the sockets in groups the kernel takes in one
    /// message, then the stream's bytes in messages of the channel's size.
    /// </summary>
    private void SendState(StateStream stream, List<StreamedUnit> units, Socket? listener)
    {
        var channel = Channel;
        var note = new ProcessNote(HandoffKinds.State)
        {
            Bytes = stream.Bytes.Length, Sockets = stream.Sockets.Count, Units = units, ControlListener = listener is not null,
        };
        channel.Send(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(note, ProcessJson.Default.ProcessNote),
            listener is null ? [] : [listener.SafeHandle], _stepTimeout);
        for (var at = 0; at < stream.Sockets.Count; at += HandoffChannel.KernelMaxDescriptors)
        {
            var group = stream.Sockets.Skip(at).Take(HandoffChannel.KernelMaxDescriptors).Select(s => (SafeHandle)s.SafeHandle).ToArray();
            channel.Send([0], group, _stepTimeout);
        }
        var chunk = channel.MaxMessageBytes;
        for (var at = 0; at < stream.Bytes.Length; at += chunk)
        {
            channel.Send(stream.Bytes.AsSpan(at, Math.Min(chunk, stream.Bytes.Length - at)), _stepTimeout);
        }
    }

    public void CheckState() => Expect(HandoffKinds.Checked, UpdatePhase.StateCheck, "run the state checks");

    public async Task RestartAsync(UpdateResult result, UpdateCancellation cancellation)
    {
        var wait = ProcessNotes.OffThread(() => Expect(HandoffKinds.Ready, UpdatePhase.Restart, "start the new version and its units"));
        try
        {
            await wait.WaitAsync(cancellation.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellation.IsRequested)
        {
            throw cancellation.Failure(UpdatePhase.Restart);
        }
        var ready = await wait.ConfigureAwait(false);
        result.DroppedUnits = ready.DroppedUnits ?? [];
        result.ResumedUnits = ready.ResumedUnits ?? [];
    }

    public void Commit(UpdateResult result)
    {
        result.Mechanism = UpdateMechanism.NewProcess;
        result.NewProcessId = _successor;
        // From here the new process is the program: this one never resumes its units, whatever follows.
        _committed = true;
        try
        {
            ProcessNotes.Send(Channel, new ProcessNote(HandoffKinds.Commit) { Result = UpdateSummary.Of(result, result.To.LoadedAt) }, AcknowledgeTimeout);
            Expect(HandoffKinds.Committed, UpdatePhase.Restart, "acknowledge the commit", AcknowledgeTimeout);
        }
        catch (Exception e) when (e is UpdateFailedException or HandoffException or IOException or TimeoutException)
        {
            result.Warnings = [.. result.Warnings, $"The new process did not acknowledge the commit ({e.Message}); it was told to serve, and this process exits as committed."];
        }
        Log.HandedOver(logger, _successor);
        handoff!.HandedOver?.Invoke(_successor);
    }

    public UpdateFailedException RollBack(UpdateFailedException failure, UpdateResult result)
    {
        result.Mechanism = UpdateMechanism.NewProcess;
        StopSuccessor(failure.Message);
        session.LeavingProcess = false;
        session.Rollback();
        return failure;
    }

    public async Task ReleaseAsync(UpdateResult result)
    {
        result.Mechanism = UpdateMechanism.NewProcess;
        if (_committed)
        {
            // The old version goes with this process, which exits once the update's reply is sent: nothing of it can stay.
            result.OldVersionUnloaded = true;
            return;
        }
        StopSuccessor(result.Failure?.Message ?? "the update did not commit");
        session.LeavingProcess = false;
        if (_successor != 0)
        {
            var start = _time.GetTimestamp();
            while (IsAlive(_successor) && _time.GetElapsedTime(start) < TimeSpan.FromSeconds(5))
            {
                await Task.Delay(20).ConfigureAwait(false);
            }
            result.FailedVersionUnloaded = !IsAlive(_successor);
        }
    }

    /// <summary>Tells the new process to exit without serving, then kills it: nothing of it may go on.</summary>
    private void StopSuccessor(string reason)
    {
        if (_channel is { } channel)
        {
            try
            {
                ProcessNotes.Send(channel, new ProcessNote(HandoffKinds.Abort) { Message = reason }, TimeSpan.FromMilliseconds(200));
            }
            catch (Exception e) when (e is HandoffException or IOException or TimeoutException)
            {
                // Gone already, or not reading: it is killed next.
            }
            channel.Dispose();
            _channel = null;
        }
        if (_successor != 0 && IsAlive(_successor))
        {
            Log.SuccessorStopped(logger, _successor, reason);
            Libc.kill(_successor, Libc.Sigkill);
        }
    }

    /// <summary>The next note, which must be <paramref name="kind"/>: a 'failed' note, a closed channel or the deadline fail <paramref name="phase"/> with words.</summary>
    private ProcessNote Expect(string kind, UpdatePhase phase, string doing, TimeSpan? timeout = null)
    {
        ProcessNote note;
        try
        {
            note = ProcessNotes.Receive(Channel, timeout ?? _stepTimeout);
        }
        catch (TimeoutException)
        {
            throw new UpdateFailedException(phase,
                $"The new process (process {_successor}) did not {doing} within {(timeout ?? _stepTimeout).TotalSeconds:0.###} s.");
        }
        catch (Exception e) when (e is HandoffException or IOException)
        {
            throw new UpdateFailedException(phase, $"The new process (process {_successor}) was lost while it was to {doing}: {LostOr(e)}");
        }
        if (note.Kind == HandoffKinds.Failed)
        {
            var failedPhase = Enum.TryParse<UpdatePhase>(note.Phase, out var p) ? p : phase;
            throw new UpdateFailedException(failedPhase, $"In the new process: {note.Message}", null, note.StatePath);
        }
        if (note.Kind != kind)
        {
            throw new UpdateFailedException(phase, $"The new process answered '{note.Kind}' where '{kind}' was due.");
        }
        return note;
    }

    /// <summary>Why the channel failed: the new process's exit code when it has exited, else the channel's own words.</summary>
    private string LostOr(Exception e)
    {
        Thread.Sleep(50); // Let an exiting process finish exiting, so that what is said is its exit, not a broken pipe.
        return IsAlive(_successor) ? e.Message : $"it exited ({e.Message})";
    }

    private static bool IsAlive(int pid)
    {
        if (pid == 0)
        {
            return false;
        }
        // A zombie (exited, not yet reaped by the supervisor) is not alive.
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..];
            return !state.StartsWith('Z') && !state.StartsWith('X');
        }
        catch (IOException)
        {
            return false;
        }
    }
}
