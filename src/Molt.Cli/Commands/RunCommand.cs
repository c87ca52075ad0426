using System.CommandLine;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Molt.Cli.Output;
using Molt.Hosting;
using Molt.Hosting.Control;

namespace Molt.Cli.Commands;

/// <summary>
/// <c>molt run &lt;program&gt; [--name NAME] [--keep-old-code] [--quiesce-timeout T] [--restart-timeout T] [--stop-timeout T] [-- program args]</c>: runs an updatable program under the Molt host in
/// this process and opens its control endpoint. The program's stdout and stderr are this process's (Molt's own
/// log lines go to stderr); Ctrl-C or SIGTERM stop it cleanly (its units leave their update points, the endpoint
/// is removed) and exit 0; so does the program ending by itself (all its units ended).
/// </summary>
internal static class RunCommand
{
    private static readonly TimeSpan EndedPoll = TimeSpan.FromMilliseconds(250);

    public static Command Create()
    {
        var program = new Argument<string>("program") { Description = "The program: its main assembly (.dll) or its project folder (built in Release)." };
        var name = new Option<string?>("--name", "-n") { Description = "The name to control it by (default: the assembly's name)." };
        var keepOldCode = new Option<bool>("--keep-old-code")
        {
            Description = "Keep each version's code loaded after an update (its memory is never returned) so that the runtime tiers it " +
                "as it does a standalone program's; the old version's state is still released. Default: unload it (code in a collectible context is not tiered).",
        };
        var quiesceTimeout = CommandSupport.DurationOption("--quiesce-timeout",
            "How long the units have to reach an update point at each update, unless 'molt update --timeout' says otherwise (default 5s).");
        var restartTimeout = CommandSupport.DurationOption("--restart-timeout",
            "How long a new version's start-up and units have to reach their first update point before the update rolls back (default 10s).");
        var stopTimeout = CommandSupport.DurationOption("--stop-timeout",
            "How long the units have to end when the program is stopped (default 10s).");
        var programArgs = new Argument<string[]>("program-args") { Description = "Arguments for the program, after '--'.", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("run", "Run an updatable program under the Molt host and open its control endpoint. Ctrl-C or SIGTERM stop it cleanly.")
        {
            program, name, keepOldCode, quiesceTimeout, restartTimeout, stopTimeout, programArgs,
        };
        command.SetAction((parse, cancellationToken) => CommandSupport.GuardAsync(() =>
        {
            var options = new MoltHostOptions { UnloadOldCode = !parse.GetValue(keepOldCode) };
            options.QuiesceTimeout = parse.GetValue(quiesceTimeout) ?? options.QuiesceTimeout;
            options.RestartTimeout = parse.GetValue(restartTimeout) ?? options.RestartTimeout;
            options.StopTimeout = parse.GetValue(stopTimeout) ?? options.StopTimeout;
            return RunAsync(parse.GetRequiredValue(program), parse.GetValue(name), options, parse.GetValue(programArgs) ?? [], cancellationToken);
        }));
        return command;
    }

    private static async Task<int> RunAsync(string program, string? name, MoltHostOptions options, string[] args, CancellationToken cancellationToken)
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

        using var loggerFactory = LoggerFactory.Create(logging => logging
            .SetMinimumLevel(LogLevel.Information)
            .AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
                o.ColorBehavior = Console.IsErrorRedirected ? Microsoft.Extensions.Logging.Console.LoggerColorBehavior.Disabled : Microsoft.Extensions.Logging.Console.LoggerColorBehavior.Default;
            })
            // Molt's log lines go to stderr: stdout is the program's.
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));

        MoltHost host;
        try
        {
            options.LoggerFactory = loggerFactory;
            host = await MoltHost.StartAsync(path, args, options, stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopped while its Main ran: the host has stopped what it started; a stop asked for is a clean exit.
            Render.Note($"'{name}' stopped while starting");
            return ExitCodes.Ok;
        }
        try
        {
            await using var server = MoltControlServer.Start(host, name, loggerFactory);
            Render.Note($"'{name}' is running {host.Version} (process {Environment.ProcessId}); endpoint {server.SocketPath}");
            var reason = await WaitForStopAsync(host, stop.Token).ConfigureAwait(false);
            Render.Note($"'{name}' is stopping: {reason}");
            // The server goes first: no update can start while the program stops, and the endpoint is removed.
        }
        finally
        {
            await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await host.DisposeAsync().ConfigureAwait(false);
        }
        Render.Note($"'{name}' stopped");
        return ExitCodes.Ok;

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true; // A clean stop, not the runtime's immediate exit.
            stop.Cancel();
        }
    }

    /// <summary>Waits for a stop signal, or for the program to end by itself (no unit left, as a standalone program's RunAsync would return).</summary>
    private static async Task<string> WaitForStopAsync(MoltHost host, CancellationToken stop)
    {
        try
        {
            while (host.Units.Count > 0)
            {
                await Task.Delay(EndedPoll, stop).ConfigureAwait(false);
            }
            return "every unit has ended";
        }
        catch (OperationCanceledException)
        {
            return "stop requested";
        }
    }
}
