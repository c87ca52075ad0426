using System.CommandLine;
using Molt.Hosting.Control;

namespace Molt.Cli.Commands;

/// <summary>
/// <c>molt rollback &lt;name&gt; [--timeout T] [--process]</c>: updates the program back to the version it ran before its last
/// committed update; same output and exit codes as <c>molt update</c>.
/// </summary>
internal static class RollbackCommand
{
    public static Command Create()
    {
        var name = CommandSupport.NameArgument();
        var timeout = CommandSupport.TimeoutOption();
        var json = CommandSupport.JsonOption();
        var process = new Option<bool>("--process") { Description = "Roll back across processes: the previous version starts in a new process, as 'update --process' does." };
        var command = new Command("rollback", "Update a running program back to the version it ran before its last committed update. Exit codes as for 'update'.")
        {
            name, timeout, json, process,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var asJson = parse.GetValue(json);
            return CommandSupport.GuardAsync(async () =>
            {
                var programName = parse.GetRequiredValue(name);
                await using var client = await MoltControlClient.ConnectAsync(programName, cancellationToken).ConfigureAwait(false);
                return await UpdateFlow.RunAsync($"Rolling {programName} back to its previous version", asJson,
                    progress => client.RollbackAsync(new Molt.Hosting.UpdateOptions
                    {
                        QuiesceTimeout = parse.GetValue(timeout), Progress = progress,
                        Mechanism = parse.GetValue(process) ? Molt.Hosting.UpdateMechanism.NewProcess : Molt.Hosting.UpdateMechanism.InProcess,
                    }, cancellationToken)).ConfigureAwait(false);
            }, asJson);
        });
        return command;
    }
}
