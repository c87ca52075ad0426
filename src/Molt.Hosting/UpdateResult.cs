using System.Text;

namespace Molt.Hosting;

/// <summary>What an update did: versions, outcome, the time of each phase, what was transferred, and what to look at.</summary>
public sealed class UpdateResult
{
    internal UpdateResult(ProgramVersionInfo from, ProgramVersionInfo to)
    {
        From = from;
        To = to;
    }

    /// <summary>The version that ran before the update.</summary>
    public ProgramVersionInfo From { get; }

    /// <summary>The version the update was to (running now if <see cref="Outcome"/> is <see cref="UpdateOutcome.Committed"/>).</summary>
    public ProgramVersionInfo To { get; }

    /// <summary>How the update ended.</summary>
    public UpdateOutcome Outcome { get; internal set; }

    /// <summary>Why it failed (phase, cause, path to the offending state); null when it committed.</summary>
    public UpdateFailedException? Failure { get; internal set; }

    /// <summary>
    /// Loading, planning and JIT-compiling the new version, before the pause. Each phase's time is what it took until it
    /// ended, or until it failed when it is where the update failed; phases never reached are zero.
    /// </summary>
    public TimeSpan PrepareTime { get; internal set; }

    /// <summary>From the update request until every unit was parked.</summary>
    public TimeSpan QuiesceTime { get; internal set; }

    /// <summary>Transferring and transforming the state, and the state checks.</summary>
    public TimeSpan TransferTime { get; internal set; }

    /// <summary>The new version's start-up until its units reached their first update point.</summary>
    public TimeSpan RestartTime { get; internal set; }

    /// <summary>The pause the program's clients saw: from the update request until the units went on (in either version).</summary>
    public TimeSpan PauseTime { get; internal set; }

    /// <summary>Unloading the old version (after the pause), until it was collected or given up on.</summary>
    public TimeSpan UnloadTime { get; internal set; }

    /// <summary>Objects rebuilt as the new version's types (program types, and framework generics over them).</summary>
    public long ObjectsRebuilt { get; internal set; }

    /// <summary>Through a state stream (issue 11): its size in bytes, else null.</summary>
    internal long? StreamBytes { get; set; }

    /// <summary>Through a state stream: how long writing it took.</summary>
    internal TimeSpan StreamWriteTime { get; set; }

    /// <summary>Through a state stream: how long reading it into the re-loaded old version took.</summary>
    internal TimeSpan StreamReadTime { get; set; }

    /// <summary>Through a state stream: whether the old version loaded anew to read it was proven collected (null: not checked).</summary>
    internal bool? StreamContextUnloaded { get; set; }

    /// <summary>References to framework objects (strings, arrays, sockets...) passed to the new version without a copy.</summary>
    public long ReferencesPassed { get; internal set; }

    /// <summary>
    /// The program's libraries that both versions use as one load (<see cref="MoltHostOptions.ShareLibraries"/>), by name and
    /// version (<c>Kv.State 5.0.0</c>): their objects passed by reference unless they could reach the old version's.
    /// </summary>
    public IReadOnlyList<string> SharedLibraries { get; internal set; } = [];

    /// <summary>
    /// The shared libraries that no version uses any more since this update (the old version's, when the new one ships another
    /// build of them): unloaded, and proven collected with the version when <see cref="OldVersionUnloaded"/> (or
    /// <see cref="FailedVersionUnloaded"/>) is true.
    /// </summary>
    public IReadOnlyList<string> LibrariesReleased { get; internal set; } = [];

    /// <summary>Static fields migrated into the new version.</summary>
    public int StaticsMigrated { get; internal set; }

    /// <summary>Fields of the old version that the new one does not have (<c>Type.field</c>, <c>static Type.field</c>).</summary>
    public IReadOnlyList<string> DroppedFields { get; internal set; } = [];

    /// <summary>Units resumed in the new version, with the update point each resumed from.</summary>
    public IReadOnlyList<string> ResumedUnits { get; internal set; } = [];

    /// <summary>Units of the old version that the new version has no entry for: they were dropped.</summary>
    public IReadOnlyList<string> DroppedUnits { get; internal set; } = [];

    /// <summary>
    /// Whether the old version was collected after the commit: its context, or, when the host keeps old code loaded
    /// (<see cref="MoltHostOptions.UnloadOldCode"/> off), the state its statics held. Null when not checked.
    /// </summary>
    public bool? OldVersionUnloaded { get; internal set; }

    /// <summary>
    /// Whether the version that was refused after loading or rolled back was collected, as <see cref="OldVersionUnloaded"/>
    /// tells of the old version after a commit: a failed update must leave nothing behind. Null when it committed, when the
    /// new version was never loaded, or when not checked.
    /// </summary>
    public bool? FailedVersionUnloaded { get; internal set; }

    /// <summary>Where the update ran: in this process, or by handing the program to a new process.</summary>
    public UpdateMechanism Mechanism { get; internal set; }

    /// <summary>For a process update that committed: the process that serves the program now; else null.</summary>
    public int? NewProcessId { get; internal set; }

    /// <summary>Things the operator should know that did not fail the update (e.g. the old version was not collected).</summary>
    public IReadOnlyList<string> Warnings { get; internal set; } = [];

    /// <summary>Throws the <see cref="Failure"/> unless the update committed.</summary>
    /// <exception cref="UpdateFailedException">The update did not commit.</exception>
    public UpdateResult EnsureCommitted() => Outcome == UpdateOutcome.Committed ? this : throw Failure!;

    /// <inheritdoc/>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append($"{Outcome}: {From} -> {To}");
        if (Mechanism == UpdateMechanism.NewProcess)
        {
            text.Append(NewProcessId is { } pid ? $" (in new process {pid})" : " (in a new process)");
        }
        if (Failure is not null)
        {
            text.Append($"; {Failure.Phase} failed: {Failure.Message}");
            if (Failure.StatePath is not null)
            {
                text.Append($" (at {Failure.StatePath})");
            }
        }
        text.Append($"; prepare {Ms(PrepareTime)}, quiesce {Ms(QuiesceTime)}, transfer {Ms(TransferTime)}, restart {Ms(RestartTime)}, pause {Ms(PauseTime)}, unload {Ms(UnloadTime)}");
        text.Append($"; {ObjectsRebuilt} objects rebuilt, {ReferencesPassed} references passed, {StaticsMigrated} statics");
        if (SharedLibraries.Count > 0)
        {
            text.Append($"; shared libraries: {string.Join(", ", SharedLibraries)}");
        }
        if (LibrariesReleased.Count > 0)
        {
            text.Append($"; libraries released: {string.Join(", ", LibrariesReleased)}");
        }
        if (DroppedFields.Count > 0)
        {
            text.Append($"; dropped fields: {string.Join(", ", DroppedFields)}");
        }
        if (DroppedUnits.Count > 0)
        {
            text.Append($"; dropped units: {string.Join(", ", DroppedUnits)}");
        }
        foreach (var warning in Warnings)
        {
            text.Append($"; warning: {warning}");
        }
        return text.ToString();

        static string Ms(TimeSpan t) => $"{t.TotalMilliseconds:0.0} ms";
    }
}
