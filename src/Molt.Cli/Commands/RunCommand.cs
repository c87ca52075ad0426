using System.CommandLine;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Molt.Cli.Output;
using Molt.Hosting.Control;
using Molt.Hosting.Processes;

namespace Molt.Cli.Commands;

/// <summary>
/// <c>molt run &lt;program&gt; [--name NAME] [--keep-old-code] [--no-shared-libraries] [--quiesce-timeout T] [--restart-timeout T] [--stop-timeout T] [-- program args]</c>:
/// runs an updatable program and opens its control endpoint. This process stays as the program's supervisor: the program
/// runs in a process of its own (<c>molt serve</c>), started with the program's runtime settings, which a process update
/// replaces by another. The program's stdout and stderr are this process's (Molt's own log lines go to stderr); Ctrl-C or
/// SIGTERM stop whichever process serves, cleanly, and this one exits with its exit code (0 for a clean stop, or the
/// program ending by itself).
/// </summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var options = new ProgramOptions();
        var command = new Command("run", "Run an updatable program under the Molt host and open its control endpoint. Ctrl-C or SIGTERM stop it cleanly.");
        options.AddTo(command);
        command.SetAction((parse, cancellationToken) => CommandSupport.GuardAsync(() =>
            RunAsync(parse.GetRequiredValue(options.Program), parse.GetValue(options.Name), options.HostOptions(parse), parse.GetValue(options.ProgramArgs) ?? [], cancellationToken)));
        return command;
    }

    private static async Task<int> RunAsync(string program, string? name, Molt.Hosting.MoltHostOptions options, string[] args, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

        var path = await ProgramResolver.ResolveAsync(program, stop.Token).ConfigureAwait(false);
        name ??= Path.GetFileNameWithoutExtension(path);
        // A bad or taken name is a usage error before the program starts (its Main may bind ports, open files).
        ControlEndpoints.SocketPath(name);
        if (ControlEndpoints.List().FirstOrDefault(e => e.Name == name) is { } running)
        {
            throw new UsageException($"A program named '{name}' is running already (process {running.ProcessId}); choose another --name.");
        }
        if (stop.IsCancellationRequested)
        {
            return ExitCodes.Ok;
        }
        using var loggerFactory = CliLogging.Create();
        var (fileName, arguments, runtimeConfig) = ProgramProcessStart.Build(
            ProgramProcessStart.CurrentHostPath, path, ProgramOptions.ServeArguments(path, name, options, args, successor: false), ControlEndpoints.Directory);
        using var supervisor = new ProgramSupervisor(loggerFactory.CreateLogger("Molt.Supervisor"));
        return await supervisor.RunAsync(fileName, arguments, runtimeConfig, stop.Token).ConfigureAwait(false);

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true; // A clean stop of the program, not the runtime's immediate exit.
            stop.Cancel();
        }
    }
}
