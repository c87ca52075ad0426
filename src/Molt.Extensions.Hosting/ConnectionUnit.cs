using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;
using Molt.Extensions.Hosting;

namespace Molt;

/// <summary>
/// Hands a long-lived connection (a server-sent events stream, a WebSocket) to a unit that serves it one turn at a time,
/// so that a live update moves it to the new version's code without closing it.
/// </summary>
/// <remarks>
/// A turn handles one message: it waits (with the token it is given) for something to send or receive, and does it.
/// The update point is between two turns. At an update the token fires, the turn ends with an
/// <see cref="OperationCanceledException"/>, the state crosses like any unit's, and the new version's method of the same
/// type and name serves the next turns on the same connection. The state holds the connection's stream or
/// <c>WebSocket</c>, never the <see cref="HttpContext"/> or its request and response objects: they belong to the request,
/// which ends when the connection is handed to the unit. Run on its own (<c>dotnet run</c>), the turns run here until one
/// returns <see langword="false"/> or the client goes away.
/// </remarks>
public static class ConnectionUnit
{
    /// <summary>Serves a connection by turns until a turn returns <see langword="false"/> or the client goes away.</summary>
    /// <typeparam name="TState">The connection's state: it crosses updates.</typeparam>
    /// <param name="context">The request whose connection the unit takes.</param>
    /// <param name="state">The connection's state.</param>
    /// <param name="turn">A static, named method (not a lambda): one turn; <see langword="false"/> ends the connection.</param>
    /// <returns>A task for the endpoint to return.</returns>
    public static Task RunAsync<TState>(HttpContext context, TState state, Func<TState, CancellationToken, Task<bool>> turn)
        where TState : class
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(turn);
        return Connections.RunAsync(context, state, turn.Method);
    }

    /// <summary>
    /// Receives a WebSocket message into <paramref name="buffer"/> in a way that an update does not cut: cancelling a
    /// WebSocket's receive aborts the socket, so when <paramref name="cancellationToken"/> fires (an update), the receive
    /// stays pending and the next call for the same socket — the new version's turn — takes it over.
    /// </summary>
    /// <param name="socket">The connection's WebSocket.</param>
    /// <param name="buffer">Where the message goes (the same array across an update: arrays of bytes pass as they are).</param>
    /// <param name="cancellationToken">The turn's token.</param>
    /// <returns>The receive's result.</returns>
    public static Task<WebSocketReceiveResult> ReceiveAsync(WebSocket socket, ArraySegment<byte> buffer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(socket);
        return PendingReceives.ReceiveAsync(socket, buffer, cancellationToken);
    }
}
