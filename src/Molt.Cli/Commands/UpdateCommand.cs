using System.CommandLine;
using Molt.Cli.Output;
using Molt.Hosting;
using Molt.Hosting.Control;

namespace Molt.Cli.Commands;

/// <summary>
/// <c>molt update &lt;name&gt; &lt;new program&gt; [--timeout T] [--dry-run]</c>: checks the new version first and
/// refuses when it is incompatible, then updates, showing each phase as it completes and then the result.
/// </summary>
internal static class UpdateCommand
{
    public static Command Create()
    {
        var name = CommandSupport.NameArgument();
        var program = new Argument<string>("new-program") { Description = "The new version: its main assembly (.dll) or its project folder (built in Release)." };
        var timeout = CommandSupport.TimeoutOption();
        var dryRun = new Option<bool>("--dry-run") { Description = "Only check the new version against the running one; apply nothing." };
        var json = CommandSupport.JsonOption();
        var command = new Command("update", "Update a running program to a new version, live. Exit 0 committed, 2 rolled back, 3 refused, 4 program unreachable.")
        {
            name, program, timeout, dryRun, json,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var asJson = parse.GetValue(json);
            return CommandSupport.GuardAsync(async () =>
            {
                var programName = parse.GetRequiredValue(name);
                var path = await ProgramResolver.ResolveAsync(parse.GetRequiredValue(program), cancellationToken).ConfigureAwait(false);
                await using var client = await MoltControlClient.ConnectAsync(programName, cancellationToken).ConfigureAwait(false);

                // The same check as `molt check`, first: an incompatible version is refused before anything pauses.
                var check = await client.CheckAsync(path, cancellationToken).ConfigureAwait(false);
                if (!check.Compatible || parse.GetValue(dryRun))
                {
                    Render.Check(check, asJson);
                    return check.Compatible ? ExitCodes.Ok : ExitCodes.Refused;
                }
                return await UpdateFlow.RunAsync($"Updating {programName} to {path}", asJson,
                    progress => client.UpdateAsync(path, parse.GetValue(timeout), progress, cancellationToken)).ConfigureAwait(false);
            }, asJson);
        });
        return command;
    }
}
