using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.AspNetCore.Http;

namespace Molt.Extensions.Hosting;

/// <summary>Long-lived connections handed to units (<see cref="ConnectionUnit"/>).</summary>
internal static class Connections
{
    private static readonly ConcurrentDictionary<(ProgramSession, string), HandOff> Open = new();
    private static int s_count;

    /// <summary>Marks a request whose connection a unit took: the server ends the response when the unit ends.</summary>
    internal sealed class HandOff(HttpContext context, CancellationToken clientGone)
    {
        /// <summary>The request's context, which a WebSocket's stream keeps (to abort the connection) after the request's end.</summary>
        public HttpContext Context { get; } = context;

        private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationToken ClientGone { get; } = clientGone;

        public Task Ended => _ended.Task;

        public void End() => _ended.TrySetResult();
    }

    public static Task RunAsync(HttpContext context, object state, MethodInfo turn)
    {
        var entry = UnitEntry.ForTurns(turn);
        if (Live.CurrentScope.Value is not { Session.IsHosted: true, Unit: null } scope)
        {
            return RunHereAsync(context.RequestAborted, state, turn);
        }
        var name = $"connection-{Interlocked.Increment(ref s_count)}";
        var handOff = new HandOff(context, context.RequestAborted);
        Open[(scope.Session, name)] = handOff;
        context.Features.Set(handOff);
        try
        {
            scope.Session.StartUnit(name, state, entry, scope);
        }
        catch
        {
            Open.TryRemove((scope.Session, name), out _);
            context.Features.Set<HandOff>(null);
            throw;
        }
        return Task.CompletedTask;
    }

    /// <summary>Standalone: the turns run in the request until one returns false or the client goes away.</summary>
    private static async Task RunHereAsync(CancellationToken clientGone, object state, MethodInfo turn)
    {
        try
        {
            while (!clientGone.IsCancellationRequested)
            {
                if (!await ((Task<bool>)turn.Invoke(null, [state, clientGone])!).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (clientGone.IsCancellationRequested)
        {
            // The client went away.
        }
        catch (TargetInvocationException e) when (e.InnerException is OperationCanceledException && clientGone.IsCancellationRequested)
        {
            // The client went away.
        }
    }

    /// <summary>Whether a unit serves a connection (which a process update cannot take to the new process).</summary>
    public static bool IsOpen(ProgramSession session, string unit) => Open.ContainsKey((session, unit));

    /// <summary>A unit by turns ends when its connection's client goes away.</summary>
    public static CancellationToken EndOf(ProgramSession session, string unit) =>
        Open.TryGetValue((session, unit), out var handOff) ? handOff.ClientGone : CancellationToken.None;

    /// <summary>A unit ended (in any version): if it served a connection, the connection's response ends.</summary>
    public static void UnitEnded(ProgramSession session, string unit)
    {
        if (Open.TryRemove((session, unit), out var handOff))
        {
            handOff.End();
        }
    }
}
