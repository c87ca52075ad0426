using System.CommandLine;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Molt.Cli.Output;
using Molt.Hosting;
using Molt.Hosting.Control;
using Molt.Hosting.Processes;
using Molt.Hosting.Updating;

namespace Molt.Cli.Commands;

/// <summary>
/// <c>molt serve</c> (hidden): a program process, started by <c>molt run</c>'s supervisor. It runs the program under the
/// Molt host and opens its control endpoint; or, with <c>--successor</c>, it is the new process of a process update: it
/// receives the program's state, sockets and control endpoint from the old process, and serves once the old one commits.
/// </summary>
internal static class ServeCommand
{
    private static readonly TimeSpan EndedPoll = TimeSpan.FromMilliseconds(250);

    /// <summary>How long a committed new process waits for the old one to exit before it accepts control connections anyway.</summary>
    private static readonly TimeSpan PredecessorExitWait = TimeSpan.FromSeconds(10);

    /// <summary>Exit code of a new process whose update did not commit: it never served.</summary>
    private const int NotServed = 5;

    public static Command Create()
    {
        var options = new ProgramOptions();
        var successor = new Option<bool>("--successor") { Description = "The new process of a process update: take the program over from the old one." };
        var command = new Command("serve", "A program process (started by 'molt run'; not for direct use).") { Hidden = true };
        options.AddTo(command);
        command.Add(successor);
        command.SetAction((parse, cancellationToken) => CommandSupport.GuardAsync(() =>
        {
            var path = Path.GetFullPath(parse.GetRequiredValue(options.Program));
            var name = parse.GetValue(options.Name) ?? Path.GetFileNameWithoutExtension(path);
            return ServeAsync(path, name, options.HostOptions(parse), parse.GetValue(options.ProgramArgs) ?? [], parse.GetValue(successor), cancellationToken);
        }));
        return command;
    }

    private static async Task<int> ServeAsync(string path, string name, MoltHostOptions options, string[] args, bool successor, CancellationToken cancellationToken)
    {
        ProgramProcessStart.DeleteOwnRuntimeConfig();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // Before it serves, a new process leaves stops to the old one (a terminal's Ctrl-C reaches both): the old one rolls
        // back and stops it. Once it serves, a stop is its own.
        var serving = !successor;
        // A stop that reaches a new process before it serves: kept, and carried out if it ends up serving. The supervisor
        // forwards stops to it from the commit on, while it still releases the old version (and a terminal's Ctrl-C reaches
        // every process): dropped, it left the program running after the operator had asked it to stop.
        var stopWhenServing = false;
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var loggerFactory = CliLogging.Create();
        options.LoggerFactory = loggerFactory;
        var logger = loggerFactory.CreateLogger("Molt.Serve");
        using var supervisor = SupervisorLink.FromEnvironment();

        MoltHost host;
        MoltControlServer server;
        HandoffChannel? predecessor = null;
        if (successor)
        {
            predecessor = HandoffChannel.FromEnvironment() ?? throw new UsageException("'serve --successor' runs only as the new process of a process update.");
            var taken = await TakeOverAsync(predecessor, path, name, options, args, logger, v => supervisor?.Serving(v), stop.Token).ConfigureAwait(false);
            if (taken is null)
            {
                predecessor.Dispose();
                return NotServed;
            }
            (host, server) = taken.Value;
            Volatile.Write(ref serving, true);
            if (Volatile.Read(ref stopWhenServing))
            {
                stop.Cancel();
            }
        }
        else
        {
            try
            {
                host = await MoltHost.StartAsync(path, args, options, stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                Render.Note($"'{name}' stopped while starting");
                return ExitCodes.Ok;
            }
            try
            {
                server = MoltControlServer.Start(host, name, loggerFactory);
            }
            catch
            {
                await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
                throw;
            }
        }

        var handedOver = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (supervisor is not null)
        {
            host.Handoff = new ProcessHandoff(supervisor, (newPath, _) => ProgramOptions.ServeArguments(newPath, name, options, args, successor: true))
            {
                ControlListener = () => server.Listener,
                HandedOver = pid =>
                {
                    server.HandOver();
                    handedOver.TrySetResult(pid);
                },
            };
            if (!successor)
            {
                supervisor.Serving(host.Version); // A new process said so as it committed, before the old one could exit.
            }
        }
        Render.Note($"'{name}' is running {host.Version} (process {Environment.ProcessId}, {ProgramProcessStart.DescribeRuntime()}); endpoint {server.SocketPath}");
        if (predecessor is not null)
        {
            // The old process exits once it has replied to the update: then this one answers the program's name.
            await WaitForExitAsync(predecessor).ConfigureAwait(false);
            predecessor.Dispose();
            server.StartAccepting();
        }

        var reason = await WaitForStopAsync(host, handedOver.Task, stop.Token).ConfigureAwait(false);
        if (handedOver.Task.IsCompleted)
        {
            // Committed to a new process: it has the state and the sockets. This process must not close them (a socket
            // closed here with a shutdown would close it there too) nor run the old units on: it sends the update's reply and ends.
            await server.ConnectionsEndedAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            Render.Note($"'{name}' now runs in process {handedOver.Task.Result}; process {Environment.ProcessId} exits");
            Console.Out.Flush();
            Console.Error.Flush();
            Libc._exit(ExitCodes.Ok);
        }
        Render.Note($"'{name}' is stopping: {reason}");
        try
        {
            await server.DisposeAsync().ConfigureAwait(false);
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
            if (Volatile.Read(ref serving))
            {
                stop.Cancel();
            }
            else
            {
                Volatile.Write(ref stopWhenServing, true);
                if (Volatile.Read(ref serving))
                {
                    stop.Cancel(); // It began serving between the two reads.
                }
            }
        }
    }

    /// <summary>The new process's side of a process update: hello, prepare, then the update itself (<see cref="MoltHost"/>'s take-over).</summary>
    private static async Task<(MoltHost Host, MoltControlServer Server)?> TakeOverAsync(
        HandoffChannel channel, string path, string name, MoltHostOptions options, string[] args, ILogger logger, Action<ProgramVersionInfo> committing, CancellationToken stop)
    {
        ProcessNote prepare;
        try
        {
            ProcessNotes.Send(channel, new ProcessNote(HandoffKinds.Hello)
            {
                Protocol = HandoffKinds.Protocol, ProcessId = Environment.ProcessId, Runtime = ProgramProcessStart.DescribeRuntime(),
                HostPath = ProgramProcessStart.CurrentHostPath,
            }, options.RestartTimeout);
            prepare = await ProcessNotes.OffThread(() => ProcessNotes.Receive(channel, options.RestartTimeout)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HandoffException or IOException or TimeoutException)
        {
            Molt.Hosting.Log.PredecessorLost(logger, e.Message);
            return null;
        }
        if (prepare.Kind != HandoffKinds.Prepare)
        {
            Molt.Hosting.Log.PredecessorLost(logger, $"it sent '{prepare.Kind}' where 'prepare' was due");
            return null;
        }
        var (host, _, listener) = await MoltHost.TakeOverAsync(channel, prepare, path, args, options, committing, stop).ConfigureAwait(false);
        if (host is null)
        {
            return null;
        }
        if (listener is null)
        {
            // The old process had no endpoint to hand over (it should have): open one.
            return (host, MoltControlServer.Start(host, name, options.LoggerFactory));
        }
        return (host, MoltControlServer.Adopt(host, name, listener, options.LoggerFactory));
    }

    /// <summary>Waits until the old process has closed its end of the channel (it exited), bounded.</summary>
    private static Task WaitForExitAsync(HandoffChannel channel) => ProcessNotes.OffThread(() =>
    {
        try
        {
            while (true)
            {
                using var _ = channel.Receive(PredecessorExitWait);
            }
        }
        catch (Exception e) when (e is HandoffException or IOException or TimeoutException)
        {
            return 0;
        }
    });

    /// <summary>Waits for a stop signal, a process update that handed the program over, or the program ending by itself.</summary>
    private static async Task<string> WaitForStopAsync(MoltHost host, Task handedOver, CancellationToken stop)
    {
        try
        {
            while (host.Units.Count > 0 && !handedOver.IsCompleted)
            {
                await Task.WhenAny(Task.Delay(EndedPoll, stop), handedOver).ConfigureAwait(false);
                stop.ThrowIfCancellationRequested();
            }
            return handedOver.IsCompleted ? "handed over" : "every unit has ended";
        }
        catch (OperationCanceledException)
        {
            return "stop requested";
        }
    }
}
