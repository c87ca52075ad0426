using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Molt.Hosting.Control;

namespace Molt.Hosting.Processes;

/// <summary>
/// A message between the old and the new process of a process update, or between a program process and its supervisor:
/// one JSON object per <see cref="HandoffChannel"/> message (the state stream's bytes travel as raw messages after a
/// <see cref="HandoffKinds.State"/> note). One record for every kind: each kind sets the fields it needs.
/// </summary>
internal sealed record ProcessNote(string Kind)
{
    /// <summary>The protocol both sides must speak; a successor of another protocol is refused.</summary>
    public int? Protocol { get; init; }
    public int? ProcessId { get; init; }
    public string? Runtime { get; init; }
    public string? HostPath { get; init; }

    // Prepare (old -> new): what the new process needs before the pause.
    public string? OldProgram { get; init; }
    public int? OldGeneration { get; init; }
    public bool? IsRollback { get; init; }
    public List<UpdateSummary>? History { get; init; }
    public List<ProgramVersionInfo>? Versions { get; init; }

    // Prepared (new -> old).
    public ProgramVersionInfo? Version { get; init; }
    public List<string>? Warnings { get; init; }
    public List<string>? DroppedFields { get; init; }

    // State (old -> new): the stream's size, its sockets, the parked units, and whether the control endpoint's listener follows.
    public long? Bytes { get; init; }
    public int? Sockets { get; init; }
    public List<StreamedUnit>? Units { get; init; }
    public bool? ControlListener { get; init; }

    // Transferred (new -> old).
    public long? ObjectsRebuilt { get; init; }
    public long? ReferencesPassed { get; init; }
    public int? StaticsMigrated { get; init; }
    public double? ReadMilliseconds { get; init; }

    // Ready (new -> old).
    public List<string>? ResumedUnits { get; init; }
    public List<string>? DroppedUnits { get; init; }

    // Failed (new -> old): the phase and the words, as the new process's own update said them.
    public string? Phase { get; init; }
    public string? Message { get; init; }
    public string? StatePath { get; init; }

    // Commit (old -> new): the update's result as the old process recorded it, for the new process's history.
    public UpdateSummary? Result { get; init; }

    // Supervisor link: a program process asks for a process to be started.
    public string? FileName { get; init; }
    public List<string>? Arguments { get; init; }
    public Dictionary<string, string>? Environment { get; init; }
    public string? Error { get; init; }
}

/// <summary>A unit parked in the old process, as the new one resumes it (its state is the stream's unit of the same index).</summary>
internal sealed record StreamedUnit(string Name, string ParkedAt, string EntryTypeName, string EntryMethodName, bool OnThread);

/// <summary>The kinds of <see cref="ProcessNote"/> between the old and the new process, in the order an update sends them.</summary>
internal static class HandoffKinds
{
    /// <summary>The version of this protocol: a new process that speaks another is stopped and the update refused.</summary>
    public const int Protocol = 1;

    public const string Hello = "hello";           // new -> old, once started
    public const string Prepare = "prepare";       // old -> new
    public const string Prepared = "prepared";     // new -> old
    public const string State = "state";           // old -> new, then the stream's bytes
    public const string Transferred = "transferred";
    public const string Checked = "checked";
    public const string Ready = "ready";           // new -> old: its units wait at their first update point
    public const string Commit = "commit";         // old -> new: the new process is the program from now on
    public const string Committed = "committed";
    public const string Failed = "failed";         // new -> old: the phase and why
    public const string Abort = "abort";           // old -> new: exit without serving
}

/// <summary>The kinds of <see cref="ProcessNote"/> between a program process and its supervisor.</summary>
internal static class SupervisorKinds
{
    public const string Start = "start";           // program -> supervisor: start a new program process (a successor)
    public const string Started = "started";       // supervisor -> program: its process id, with its hand-off channel's end attached
    public const string StartFailed = "start-failed";
    public const string Serving = "serving";       // program -> supervisor: this process is the program now
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ProcessNote))]
internal sealed partial class ProcessJson : JsonSerializerContext;

/// <summary>Notes over a channel: serialized, sent and received with a deadline, and read back as the kind expected.</summary>
internal static class ProcessNotes
{
    public static void Send(HandoffChannel channel, ProcessNote note, TimeSpan timeout, CancellationToken cancellation = default) =>
        channel.Send(JsonSerializer.SerializeToUtf8Bytes(note, ProcessJson.Default.ProcessNote), timeout, cancellation);

    public static ProcessNote Parse(byte[] payload)
    {
        try
        {
            return JsonSerializer.Deserialize(payload, ProcessJson.Default.ProcessNote) ?? throw new HandoffException("An empty message arrived.");
        }
        catch (JsonException e)
        {
            throw new HandoffException($"A message that is not a note arrived ({Encoding.UTF8.GetString(payload.AsSpan(0, Math.Min(40, payload.Length)))}...): {e.Message}", e);
        }
    }

    /// <summary>Receives the next note, without descriptors (any that came are closed).</summary>
    public static ProcessNote Receive(HandoffChannel channel, TimeSpan timeout, CancellationToken cancellation = default)
    {
        using var message = channel.Receive(timeout, cancellation);
        return Parse(message.Payload);
    }

    /// <summary>Runs a blocking channel wait on a thread of its own: the thread pool is never held by a peer that is slow to answer.</summary>
    public static Task<T> OffThread<T>(Func<T> wait) =>
        Task.Factory.StartNew(wait, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
}
