using System.CommandLine;
using Molt.Cli.Output;
using Molt.Hosting.Control;

namespace Molt.Cli.Commands;

/// <summary><c>molt list [--json]</c>: this user's running Molt programs; endpoints of programs that died are removed.</summary>
internal static class ListCommand
{
    public static Command Create()
    {
        var json = CommandSupport.JsonOption();
        var command = new Command("list", "List this user's Molt programs on this machine (endpoints of programs that died are cleaned up).") { json };
        command.SetAction(parse =>
        {
            var asJson = parse.GetValue(json);
            return CommandSupport.GuardAsync(() =>
            {
                Render.List(ControlEndpoints.List(), asJson);
                return Task.FromResult(ExitCodes.Ok);
            }, asJson);
        });
        return command;
    }
}
