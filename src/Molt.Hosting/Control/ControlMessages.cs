using System.Text.Json.Serialization;

namespace Molt.Hosting.Control;

/// <summary>
/// A request on the control channel. Version 1 of the protocol: each message is a frame of a 4-byte
/// big-endian length and that many bytes of UTF-8 JSON; a request gets zero or more progress frames, then
/// one reply frame.
/// </summary>
/// <param name="Version">The protocol version the client speaks (<see cref="ControlProtocol.Version"/>).</param>
/// <param name="Command"><c>status</c>, <c>update</c>, <c>check</c> or <c>rollback</c>.</param>
/// <param name="Path">The new version's main assembly, for <c>update</c> and <c>check</c>.</param>
/// <param name="QuiesceTimeoutSeconds">For <c>update</c> and <c>rollback</c>: overrides the host's quiescence deadline.</param>
/// <param name="Mechanism">For <c>update</c> and <c>rollback</c>: <c>process</c> to update across processes; default in process.</param>
/// <param name="Environment">For a process update: variables to set (a null value removes one) for the new process.</param>
/// <param name="HostPath">For a process update: the Molt host the new process runs (default: the running one's).</param>
public sealed record ControlRequest(int Version, string Command, string? Path = null, double? QuiesceTimeoutSeconds = null,
    string? Mechanism = null, IReadOnlyDictionary<string, string?>? Environment = null, string? HostPath = null);

/// <summary>A frame sent back for a request: a progress event (<see cref="Phase"/> set) or the reply.</summary>
/// <param name="Kind"><c>progress</c> or <c>reply</c>.</param>
/// <param name="Ok">For a reply: whether the request was carried out (an update that rolled back is carried out: see its result).</param>
/// <param name="Error">For a refused or malformed request: why, in words.</param>
/// <param name="Phase">For progress: the phase that completed.</param>
/// <param name="Milliseconds">For progress: how long it took.</param>
/// <param name="Status">For <c>status</c>.</param>
/// <param name="Update">For <c>update</c> and <c>rollback</c>.</param>
/// <param name="Check">For <c>check</c>.</param>
public sealed record ControlReply(
    string Kind,
    bool Ok = true,
    string? Error = null,
    string? Phase = null,
    double? Milliseconds = null,
    ProgramStatus? Status = null,
    UpdateSummary? Update = null,
    CheckSummary? Check = null);

/// <summary>
/// A program's status, as <c>molt status</c> shows it. <c>History</c>: the most recent updates, oldest first (at most
/// 20, so that a program updated for years still answers within a frame); <c>UpdatesTotal</c>: how many there were in
/// all. <c>OldCodeKept</c>: whether its host keeps each version's code loaded after an update
/// (<see cref="MoltHostOptions.UnloadOldCode"/> off).
/// </summary>
public sealed record ProgramStatus(
    string Name,
    int ProcessId,
    ProgramVersionInfo Version,
    DateTimeOffset StartedAt,
    IReadOnlyList<RunningUnit> Units,
    IReadOnlyList<UpdateSummary> History,
    long ManagedMemoryBytes,
    IReadOnlyList<string> OldVersionsNotUnloaded,
    bool OldCodeKept = false,
    int UpdatesTotal = 0,
    string? Runtime = null,
    string? HostPath = null);

/// <summary>An update's result, as text-friendly values (see <see cref="UpdateResult"/>).</summary>
public sealed record UpdateSummary(
    string From,
    string To,
    string Outcome,
    string? FailedPhase,
    string? Failure,
    string? StatePath,
    double PrepareMilliseconds,
    double QuiesceMilliseconds,
    double TransferMilliseconds,
    double RestartMilliseconds,
    double PauseMilliseconds,
    double UnloadMilliseconds,
    long ObjectsRebuilt,
    long ReferencesPassed,
    IReadOnlyList<string> DroppedFields,
    IReadOnlyList<string> DroppedUnits,
    IReadOnlyList<string> Warnings,
    bool? OldVersionUnloaded,
    DateTimeOffset At,
    string Mechanism = "InProcess",
    int? NewProcessId = null)
{
    /// <summary>The libraries both versions used as one load (see <see cref="UpdateResult.SharedLibraries"/>).</summary>
    public IReadOnlyList<string> SharedLibraries { get; init; } = [];

    /// <summary>The shared libraries released since the update (see <see cref="UpdateResult.LibrariesReleased"/>).</summary>
    public IReadOnlyList<string> LibrariesReleased { get; init; } = [];

    internal static UpdateSummary Of(UpdateResult r, DateTimeOffset at) => new(
        r.From.ToString(), r.To.ToString(), r.Outcome.ToString(), r.Failure?.Phase.ToString(), r.Failure?.Message, r.Failure?.StatePath,
        r.PrepareTime.TotalMilliseconds, r.QuiesceTime.TotalMilliseconds, r.TransferTime.TotalMilliseconds, r.RestartTime.TotalMilliseconds,
        r.PauseTime.TotalMilliseconds, r.UnloadTime.TotalMilliseconds, r.ObjectsRebuilt, r.ReferencesPassed,
        r.DroppedFields, r.DroppedUnits, r.Warnings, r.OldVersionUnloaded, at, r.Mechanism.ToString(), r.NewProcessId)
    {
        SharedLibraries = r.SharedLibraries,
        LibrariesReleased = r.LibrariesReleased,
    };
}

/// <summary>The compatibility report of a new version against the running one (see <c>molt check</c>).</summary>
/// <param name="Compatible">Whether the update would go ahead.</param>
/// <param name="Lines">The report, one finding a line.</param>
public sealed record CheckSummary(bool Compatible, IReadOnlyList<string> Lines)
{
    /// <summary>The report's findings as data, in the order of <see cref="Lines"/> (empty from a program that sends none).</summary>
    public IReadOnlyList<CheckFinding> Findings { get; init; } = [];

    /// <summary>The trial transfer of the running state that the check made, or null when it made none (the types already refuse the update).</summary>
    public CheckTrial? Trial { get; init; }
}

/// <summary>
/// The check's trial transfer: the running state copied into the checked version's types, read-only, while the program served
/// (no pause, no unit parked), then discarded. It runs the copiers and the new version's transformers, not its [AfterTransfer]
/// steps nor its [StateCheck]s.
/// </summary>
/// <param name="Outcome">Whether every value crossed.</param>
/// <param name="ObjectsRebuilt">Objects rebuilt as the new version's types (in the last attempt).</param>
/// <param name="ReferencesPassed">References to framework objects that would pass to the new version as they are.</param>
/// <param name="Milliseconds">How long the last attempt took: a hint of an update's transfer time, measured without the pause
/// (with the program running beside it).</param>
/// <param name="Attempts">How many attempts it took (a collection that changed under the trial makes it try again).</param>
public sealed record CheckTrial(CheckTrialOutcome Outcome, long ObjectsRebuilt, long ReferencesPassed, double Milliseconds, int Attempts);

/// <summary>How a check's trial transfer ended.</summary>
public enum CheckTrialOutcome
{
    /// <summary>Every value crossed.</summary>
    Carried,
    /// <summary>A value cannot cross: the update would be rolled back at transfer.</summary>
    Refused,
    /// <summary>The state kept changing under the trial (a collection modified while it was read): no conclusion.</summary>
    StateChanging,
}

/// <summary>Constants of the control protocol.</summary>
public static class ControlProtocol
{
    /// <summary>The protocol version this build speaks.</summary>
    public const int Version = 1;

    /// <summary>The largest request a program accepts, in bytes: a larger one closes the connection.</summary>
    public const int MaxFrameBytes = 1 << 20;

    /// <summary>
    /// The largest reply a client accepts, in bytes. Replies grow with the program (a check lists every changed type and
    /// field, of its libraries too); requests do not, and a program reads them from whoever connects.
    /// </summary>
    public const int MaxReplyBytes = 64 << 20;
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(ControlRequest))]
[JsonSerializable(typeof(ControlReply))]
[JsonSerializable(typeof(EndpointInfo))]
[JsonSerializable(typeof(ProgramStatus))]
internal sealed partial class ControlJson : JsonSerializerContext;
