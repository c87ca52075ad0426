using Microsoft.Extensions.Logging;

namespace Molt.Hosting;

/// <summary>Every log event of the host, with its id, in one place.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Started {Version} from {Path}")]
    public static partial void Started(ILogger logger, ProgramVersionInfo version, string path);

    [LoggerMessage(2, LogLevel.Information, "Updating {From} to {Path}")]
    public static partial void UpdateRequested(ILogger logger, ProgramVersionInfo from, string path);

    [LoggerMessage(3, LogLevel.Information, "Update phase {Phase} done in {Milliseconds:0.0} ms")]
    public static partial void PhaseDone(ILogger logger, UpdatePhase phase, double milliseconds);

    [LoggerMessage(4, LogLevel.Information, "Update committed: {Result}")]
    public static partial void Committed(ILogger logger, UpdateResult result);

    [LoggerMessage(5, LogLevel.Warning, "Update not applied, the old version goes on: {Result}")]
    public static partial void NotCommitted(ILogger logger, UpdateResult result);

    [LoggerMessage(6, LogLevel.Error, "Unit '{Unit}' failed")]
    public static partial void UnitFaulted(ILogger logger, string unit, Exception error);

    [LoggerMessage(7, LogLevel.Warning, "{Warning}")]
    public static partial void UpdateWarning(ILogger logger, string warning);

    [LoggerMessage(8, LogLevel.Information, "Stopping {Version}")]
    public static partial void Stopping(ILogger logger, ProgramVersionInfo version);

    [LoggerMessage(9, LogLevel.Warning, "Units did not end within {Timeout}; they are abandoned")]
    public static partial void StopTimedOut(ILogger logger, TimeSpan timeout);

    [LoggerMessage(10, LogLevel.Warning, "Control endpoint '{Name}': refused a connection from user {UserId} (process {ProcessId}): only the same user or root may control a program")]
    public static partial void ControlRefused(ILogger logger, string name, uint userId, int processId);

    [LoggerMessage(13, LogLevel.Error, "{Warning}")]
    public static partial void SharedStateChanged(ILogger logger, string warning);

    [LoggerMessage(12, LogLevel.Warning, "Compatibility check: {Finding}")]
    public static partial void CheckWarning(ILogger logger, string finding);

    [LoggerMessage(11, LogLevel.Warning, "Control endpoint '{Name}': malformed request from process {ProcessId}: {Problem}")]
    public static partial void ControlBadFrame(ILogger logger, string name, int processId, string problem);

    [LoggerMessage(40, LogLevel.Warning, "Control endpoint '{Name}': refused a connection whose peer credentials could not be read")]
    public static partial void ControlPeerUnreadable(ILogger logger, string name, Exception error);

    [LoggerMessage(41, LogLevel.Error, "Control endpoint '{Name}': the '{Command}' request failed")]
    public static partial void ControlRequestFailed(ILogger logger, string name, string? command, Exception error);

    [LoggerMessage(42, LogLevel.Warning, "Control endpoint '{Name}': a connection failed")]
    public static partial void ControlConnectionFailed(ILogger logger, string name, Exception error);

    [LoggerMessage(43, LogLevel.Information, "Control endpoint '{Name}': closed a connection from process {ProcessId} that sent no complete request within {Timeout}")]
    public static partial void ControlIdle(ILogger logger, string name, int processId, TimeSpan timeout);

    [LoggerMessage(44, LogLevel.Warning, "Control endpoint '{Name}': accepting a connection failed")]
    public static partial void ControlAcceptFailed(ILogger logger, string name, Exception error);

    [LoggerMessage(45, LogLevel.Warning, "Control endpoint '{Name}': its description could not be rewritten for the version now running ({Problem}); molt list shows the version before")]
    public static partial void ControlDescriptionNotWritten(ILogger logger, string name, string problem);

    [LoggerMessage(60, LogLevel.Warning, "Hand-off channel: refused a connection from process {ProcessId} of user {UserId}: only process {ExpectedProcessId} of user {OwnerUserId} may connect")]
    public static partial void HandoffPeerRefused(ILogger logger, int processId, uint userId, int expectedProcessId, uint ownerUserId);

    [LoggerMessage(61, LogLevel.Warning, "Hand-off channel: refused a connection whose peer credentials could not be read")]
    public static partial void HandoffPeerUnreadable(ILogger logger, Exception error);

    [LoggerMessage(62, LogLevel.Information, "Hand-off channel: process {ProcessId} connected after {Milliseconds:0.0} ms")]
    public static partial void HandoffAccepted(ILogger logger, int processId, double milliseconds);

    // The supervisor of program processes, and process updates (100-119).

    [LoggerMessage(100, LogLevel.Information, "Forwarding the stop to process {ProcessId}, which serves the program")]
    public static partial void SupervisorForwardsStop(ILogger logger, int processId);

    [LoggerMessage(101, LogLevel.Warning, "Process {ProcessId} sent a note the supervisor does not know: '{Kind}'")]
    public static partial void SupervisorUnknownNote(ILogger logger, int processId, string kind);

    [LoggerMessage(102, LogLevel.Information, "Started process {ProcessId} for an update of process {Requester}")]
    public static partial void SupervisorStartedSuccessor(ILogger logger, int processId, int requester);

    [LoggerMessage(103, LogLevel.Warning, "A new program process could not be started: {Reason}")]
    public static partial void SupervisorStartFailed(ILogger logger, string reason);

    [LoggerMessage(104, LogLevel.Information, "Process {ProcessId} serves the program ({Version})")]
    public static partial void SupervisorServing(ILogger logger, int processId, string version);

    [LoggerMessage(105, LogLevel.Information, "Process {ProcessId}, started for an update, exited with code {ExitCode} without serving")]
    public static partial void SupervisorSuccessorExited(ILogger logger, int processId, int exitCode);

    [LoggerMessage(106, LogLevel.Information, "Process {ProcessId}, which served the program, exited with code {ExitCode}")]
    public static partial void SupervisorProgramEnded(ILogger logger, int processId, int exitCode);

    [LoggerMessage(107, LogLevel.Warning, "systemd was not notified: {Reason}")]
    public static partial void SupervisorNotifyFailed(ILogger logger, string reason);

    [LoggerMessage(108, LogLevel.Information, "Process update: new process {ProcessId} started ({Runtime})")]
    public static partial void SuccessorStarted(ILogger logger, int processId, string runtime);

    [LoggerMessage(109, LogLevel.Information, "Process update committed: process {ProcessId} serves the program; this process exits")]
    public static partial void HandedOver(ILogger logger, int processId);

    [LoggerMessage(110, LogLevel.Warning, "Process update: the new process {ProcessId} is stopped ({Reason})")]
    public static partial void SuccessorStopped(ILogger logger, int processId, string reason);

    [LoggerMessage(111, LogLevel.Warning, "The old process was lost before the update committed: this process exits without serving ({Reason})")]
    public static partial void PredecessorLost(ILogger logger, string reason);

    [LoggerMessage(112, LogLevel.Warning, "The supervisor (molt run) is gone: the program stops, as it would have had the supervisor been stopped")]
    public static partial void SupervisorLost(ILogger logger);
}
