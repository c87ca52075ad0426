using System.CommandLine;
using Molt.Cli.Output;
using Molt.Hosting.Control;

namespace Molt.Cli.Commands;

/// <summary><c>molt check &lt;name&gt; &lt;new program&gt;</c>: the compatibility report; exit 0 compatible, 3 not.</summary>
internal static class CheckCommand
{
    public static Command Create()
    {
        var name = CommandSupport.NameArgument();
        var program = new Argument<string>("new-program") { Description = "The new version: its main assembly (.dll) or its project folder (built in Release)." };
        var json = CommandSupport.JsonOption();
        var command = new Command("check", "Check a new version against the running one without applying anything. Exit 0 when compatible, 3 when the update would be refused.")
        {
            name, program, json,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var asJson = parse.GetValue(json);
            return CommandSupport.GuardAsync(async () =>
            {
                var path = await ProgramResolver.ResolveAsync(parse.GetRequiredValue(program), cancellationToken).ConfigureAwait(false);
                await using var client = await MoltControlClient.ConnectAsync(parse.GetRequiredValue(name), cancellationToken).ConfigureAwait(false);
                var check = await client.CheckAsync(path, cancellationToken).ConfigureAwait(false);
                Render.Check(check, asJson);
                return check.Compatible ? ExitCodes.Ok : ExitCodes.Refused;
            }, asJson);
        });
        return command;
    }
}
