using System.CommandLine;
using Molt.Cli.Output;
using Molt.Hosting.Control;

namespace Molt.Cli.Commands;

/// <summary><c>molt status &lt;name&gt; [--json]</c>: version, units, update history, memory of a running program.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var name = CommandSupport.NameArgument();
        var json = CommandSupport.JsonOption();
        var command = new Command("status", "Show a running program's version, units and the update point each was last at, update history, memory and old versions not unloaded.")
        {
            name, json,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var asJson = parse.GetValue(json);
            return CommandSupport.GuardAsync(async () =>
            {
                await using var client = await MoltControlClient.ConnectAsync(parse.GetRequiredValue(name), cancellationToken).ConfigureAwait(false);
                Render.Status(await client.StatusAsync(cancellationToken).ConfigureAwait(false), asJson);
                return ExitCodes.Ok;
            }, asJson);
        });
        return command;
    }
}
