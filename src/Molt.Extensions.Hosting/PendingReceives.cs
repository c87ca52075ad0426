using System.Net.WebSockets;
using System.Runtime.CompilerServices;

namespace Molt.Extensions.Hosting;

/// <summary>WebSocket receives left pending by a turn that an update cut short, taken over by the next turn (<see cref="ConnectionUnit.ReceiveAsync"/>).</summary>
internal static class PendingReceives
{
    private sealed record Pending(Task<WebSocketReceiveResult> Receive, ArraySegment<byte> Buffer);

    private static readonly ConditionalWeakTable<WebSocket, Pending> Table = [];

    public static async Task<WebSocketReceiveResult> ReceiveAsync(WebSocket socket, ArraySegment<byte> buffer, CancellationToken cancellationToken)
    {
        Pending pending;
        lock (Table)
        {
            if (!Table.TryGetValue(socket, out pending!))
            {
                // Not in the turn's flow: the receive may outlive the version whose unit started it.
                using (ExecutionContext.SuppressFlow())
                {
                    pending = new Pending(socket.ReceiveAsync(buffer, CancellationToken.None), buffer);
                }
                Table.Add(socket, pending);
            }
        }
        var result = await pending.Receive.WaitAsync(cancellationToken).ConfigureAwait(false);
        lock (Table)
        {
            Table.Remove(socket);
        }
        if (pending.Buffer.Array != buffer.Array || pending.Buffer.Offset != buffer.Offset)
        {
            // The receive began into the previous turn's buffer.
            pending.Buffer.AsSpan(0, result.Count).CopyTo(buffer);
        }
        return result;
    }
}
