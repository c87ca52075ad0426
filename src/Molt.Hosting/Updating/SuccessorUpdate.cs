using System.Diagnostics;
using System.Net.Sockets;
using Molt.Hosting.Control;
using Molt.Hosting.Loading;
using Molt.Hosting.Processes;
using Molt.Hosting.Transfer.Stream;

namespace Molt.Hosting.Updating;

/// <summary>The old state as a new process receives it: the stream read into the old version loaded anew, and the units parked in the old process.</summary>
internal sealed record StreamedState(StateReader Reader, IReadOnlyList<StreamedUnit> Units);

/// <summary>
/// The process mechanism, in the new process: the same update as in one process (<see cref="InProcessUpdate"/>, over this
/// process's session, which has no units yet), with the old version loaded anew for its types only as the version it updates
/// from and its state read from the old process's stream. It tells the old process of each phase's end, waits at its units'
/// first update point for the old process's commit, and takes it as the end of the pause: from then on this process is the program.
/// </summary>
internal sealed class SuccessorUpdate : IUpdateMechanism
{
    private readonly HandoffChannel _channel;
    private ProgramVersion? _reloaded;
    private readonly TimeSpan _stepTimeout;

    /// <summary>How long receiving and reading the state took, for the result.</summary>
    private TimeSpan _readTime;

    public SuccessorUpdate(HandoffChannel channel, ProgramVersion reloaded, TimeSpan stepTimeout, Func<SuccessorUpdate, InProcessUpdate> inner)
    {
        _channel = channel;
        _reloaded = reloaded;
        _stepTimeout = stepTimeout;
        Inner = inner(this);
    }

    public InProcessUpdate Inner { get; }

    /// <summary>The control endpoint's listener, when the old process handed it over with the state.</summary>
    public Socket? ControlListener { get; private set; }

    /// <summary>The update's result as the old process recorded it, sent with its commit.</summary>
    public UpdateSummary? CommittedResult { get; private set; }

    public Task<ProgramVersionInfo> LoadAsync() => Inner.LoadAsync();

    public void Prepare(UpdateResult result)
    {
        Inner.Prepare(result);
        // Its reader now, its writer for its own process update later: both compiled while the old process still serves.
        ProcessUpdate.WarmUpStream(_reloaded ?? throw new InvalidOperationException("The state was received already."));
        Send(new ProcessNote(HandoffKinds.Prepared) { Version = result.To, DroppedFields = [.. result.DroppedFields], Warnings = [.. result.Warnings] });
    }

    public Task QuiesceAsync(UpdateCancellation cancellation) => Inner.QuiesceAsync(cancellation);

    public void Transfer(UpdateResult result)
    {
        Inner.Transfer(result);
        Send(new ProcessNote(HandoffKinds.Transferred)
        {
            ObjectsRebuilt = result.ObjectsRebuilt, ReferencesPassed = result.ReferencesPassed, StaticsMigrated = result.StaticsMigrated,
            ReadMilliseconds = result.StreamReadTime.TotalMilliseconds, Warnings = [.. result.Warnings],
        });
    }

    /// <summary>Receives the state: its note (with the control listener), the sockets, the bytes; then reads it into the re-loaded old version.</summary>
    public StreamedState ReceiveState()
    {
        ProcessNote note;
        var sockets = new List<Socket>();
        byte[] bytes;
        try
        {
            using (var header = _channel.Receive(_stepTimeout))
            {
                note = ProcessNotes.Parse(header.Payload);
                if (note.Kind == HandoffKinds.Abort)
                {
                    throw new UpdateFailedException(UpdatePhase.Transfer, $"The old process cancelled the update: {note.Message}");
                }
                if (note.Kind != HandoffKinds.State || note.Bytes is not { } length || note.Sockets is not { } socketCount)
                {
                    throw new UpdateFailedException(UpdatePhase.Transfer, $"The old process sent '{note.Kind}' where the state was due.");
                }
                if (note.ControlListener == true && header.DescriptorCount == 1)
                {
                    ControlListener = header.TakeSocket(0);
                }
                bytes = new byte[length];
                while (sockets.Count < socketCount)
                {
                    using var group = _channel.Receive(_stepTimeout);
                    for (var i = 0; i < group.DescriptorCount; i++)
                    {
                        sockets.Add(group.TakeSocket(i));
                    }
                }
            }
            var clock = Stopwatch.StartNew();
            for (var at = 0L; at < bytes.Length;)
            {
                using var chunk = _channel.Receive(_stepTimeout);
                chunk.Payload.CopyTo(bytes, at);
                at += chunk.Payload.Length;
            }
            TestHooks.WhileReceivingState();
            var reader = StateReader.Read(new StateStream(bytes, sockets), _reloaded ?? throw new InvalidOperationException("The state was received already."));
            _reloaded = null; // Nothing here may hold the old version once its objects have crossed: it must be collected.
            _readTime = clock.Elapsed;
            return new StreamedState(reader, note.Units ?? []);
        }
        catch (StateStreamException e)
        {
            throw new UpdateFailedException(UpdatePhase.Transfer, $"Reading the state stream failed: {e.Message}.");
        }
        catch (Exception e) when (e is HandoffException or IOException or TimeoutException)
        {
            throw new UpdateFailedException(UpdatePhase.Transfer, $"The state did not arrive from the old process: {e.Message}");
        }
    }

    public void CheckState()
    {
        Inner.CheckState();
        Send(new ProcessNote(HandoffKinds.Checked));
    }

    public async Task RestartAsync(UpdateResult result, UpdateCancellation cancellation)
    {
        await Inner.RestartAsync(result, cancellation).ConfigureAwait(false);
        Send(new ProcessNote(HandoffKinds.Ready) { DroppedUnits = [.. result.DroppedUnits] });
        // The units wait at their first update point until the old process commits (or the update ends otherwise).
        var answer = await ProcessNotes.OffThread(() =>
        {
            try
            {
                return ProcessNotes.Receive(_channel, TimeSpan.FromDays(1));
            }
            catch (Exception e) when (e is HandoffException or IOException)
            {
                return new ProcessNote(HandoffKinds.Abort) { Message = $"the old process was lost before the commit ({e.Message})" };
            }
        }).ConfigureAwait(false);
        if (answer.Kind != HandoffKinds.Commit)
        {
            throw new UpdateFailedException(UpdatePhase.Restart, $"The old process did not commit: {answer.Message ?? answer.Kind}.");
        }
        CommittedResult = answer.Result;
    }

    /// <summary>Runs once the old process has committed, before this process acknowledges it (the old one exits on the acknowledgement): tells the supervisor that this process serves.</summary>
    public Action? Committing { get; init; }

    public void Commit(UpdateResult result)
    {
        Inner.Commit(result);
        result.StreamReadTime = _readTime;
        Committing?.Invoke();
        try
        {
            Send(new ProcessNote(HandoffKinds.Committed));
        }
        catch (UpdateFailedException)
        {
            // The old process exits on its own once it has committed: its acknowledgement is a courtesy.
        }
    }

    public UpdateFailedException RollBack(UpdateFailedException failure, UpdateResult result) => Inner.RollBack(failure, result);

    public Task ReleaseAsync(UpdateResult result) => Inner.ReleaseAsync(result);

    /// <summary>Tells the old process why this update failed here (best effort: it may be gone).</summary>
    public void SendFailure(UpdateFailedException failure)
    {
        try
        {
            ProcessNotes.Send(_channel, new ProcessNote(HandoffKinds.Failed)
            {
                Phase = failure.Phase.ToString(), Message = failure.Message, StatePath = failure.StatePath,
            }, TimeSpan.FromSeconds(2));
        }
        catch (Exception e) when (e is HandoffException or IOException or TimeoutException)
        {
        }
    }

    private void Send(ProcessNote note)
    {
        try
        {
            ProcessNotes.Send(_channel, note, _stepTimeout);
        }
        catch (Exception e) when (e is HandoffException or IOException or TimeoutException)
        {
            throw new UpdateFailedException(UpdatePhase.Restart, $"The old process was lost: {e.Message}");
        }
    }
}

/// <summary>Points where tests widen a window of the process update (a kill in the middle of the transfer), set through the environment.</summary>
internal static class TestHooks
{
    /// <summary><c>MOLT_TEST_RECEIVE_DELAY_MS</c>: the new process sleeps after receiving the state's bytes, before reading them.</summary>
    public static void WhileReceivingState()
    {
        if (Environment.GetEnvironmentVariable("MOLT_TEST_RECEIVE_DELAY_MS") is { } value && int.TryParse(value, out var ms) && ms > 0)
        {
            Thread.Sleep(ms);
        }
    }
}
