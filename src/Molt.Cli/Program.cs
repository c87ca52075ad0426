using System.CommandLine;
using Molt.Cli.Commands;

// molt: the operator's command line. Each command lives in Commands/, all rendering in Output/.
var root = new RootCommand("molt: run an updatable .NET program under Molt, then check, update, roll back and inspect it while it runs.")
{
    RunCommand.Create(),
    UpdateCommand.Create(),
    CheckCommand.Create(),
    StatusCommand.Create(),
    ListCommand.Create(),
    RollbackCommand.Create(),
    ServeCommand.Create(),
};

// `molt run` handles Ctrl-C and SIGTERM itself (a clean stop may take longer than System.CommandLine's grace period);
// for the other commands the default applies: the process ends, the program they talk to goes on.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
