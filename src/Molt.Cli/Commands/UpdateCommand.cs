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
        var process = new Option<bool>("--process")
        {
            Description = "Update across processes: the new version starts in a new process (with its own runtime settings), receives the state, " +
                "the sockets and the open connections, and the old process exits once it serves. Default: in the running process.",
        };
        var environment = new Option<string[]>("--env")
        {
            Description = "With --process: set a variable for the new process, NAME=VALUE (NAME= removes it); repeatable. E.g. --env DOTNET_gcServer=1.",
            AllowMultipleArgumentsPerToken = false,
        };
        var host = new Option<string?>("--host") { Description = "With --process: the Molt host (Molt.Cli.dll) the new process runs; default: the running one's." };
        var command = new Command("update", "Update a running program to a new version, live. Exit 0 committed, 2 rolled back, 3 refused, 4 program unreachable.")
        {
            name, program, timeout, dryRun, json, process, environment, host,
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
                var acrossProcesses = parse.GetValue(process);
                var variables = Variables(parse.GetValue(environment) ?? []);
                if (!acrossProcesses && (variables.Count > 0 || parse.GetValue(host) is not null))
                {
                    throw new UsageException("--env and --host apply to a process update: add --process.");
                }
                return await UpdateFlow.RunAsync($"Updating {programName} to {path}{(acrossProcesses ? " in a new process" : "")}", asJson,
                    progress => client.UpdateAsync(path, new UpdateOptions
                    {
                        QuiesceTimeout = parse.GetValue(timeout), Progress = progress,
                        Mechanism = acrossProcesses ? UpdateMechanism.NewProcess : UpdateMechanism.InProcess,
                        Environment = variables.Count > 0 ? variables : null, HostPath = parse.GetValue(host),
                    }, cancellationToken)).ConfigureAwait(false);
            }, asJson);
        });
        return command;
    }

    /// <summary>NAME=VALUE pairs; NAME= removes the variable.</summary>
    private static Dictionary<string, string?> Variables(IEnumerable<string> pairs)
    {
        var variables = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new UsageException($"--env takes NAME=VALUE (or NAME= to remove it), not '{pair}'.");
            }
            var value = pair[(equals + 1)..];
            variables[pair[..equals]] = value.Length == 0 ? null : value;
        }
        return variables;
    }
}
