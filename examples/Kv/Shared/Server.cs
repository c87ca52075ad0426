using System.Net.Sockets;
using Molt;

namespace Kv;

/// <summary>The units that serve clients and expire keys.</summary>
internal static class Server
{
    private static int connectedClients;

    /// <summary>How many clients are connected (INFO).</summary>
    public static int ConnectedClients => Volatile.Read(ref connectedClients);

    /// <summary>Counts a client in; its unit counts it out when it goes.</summary>
    public static void Connected(Connection connection) => Interlocked.Increment(ref connectedClients);

    /// <summary>
    /// The unit of one client: executes every whole command received, sends all their replies at once, then
    /// receives more. Between two batches, nothing is half done: the place to update. A client blocked in a pop waits
    /// in steps that each end at the same update point, so that its wait crosses an update as part of its state.
    /// </summary>
    public static async Task Serve(Connection connection)
    {
        try
        {
            while (true)
            {
                await Live.UpdatePointAsync("command");
                if (connection.Blocked is not null)
                {
                    // Blocked in a pop: wait a step (for a push, the deadline, or an update), then come back by the update point.
                    if (!await Blocking.WaitAsync(connection))
                    {
                        return;
                    }
                    if (connection.Blocked is not null)
                    {
                        continue;
                    }
                }
                if (connection.ReceivedCount > 0 || connection.Output.Count > 0)
                {
                    var keepOpen = connection.ReceivedCount == 0 || Commands.ExecuteAll(connection);
                    if (connection.Output.Count > 0)
                    {
                        await connection.Socket.SendAsync(connection.Output.Pending, SocketFlags.None);
                        connection.Output.Clear();
                    }
                    if (!keepOpen)
                    {
                        return;
                    }
                    if (connection.Blocked is not null)
                    {
                        continue;
                    }
                }
                if (!connection.MakeRoom())
                {
                    connection.Output.Error("ERR Protocol error: command too big");
                    await connection.Socket.SendAsync(connection.Output.Pending, SocketFlags.None);
                    return;
                }
                int received;
                try
                {
                    received = await connection.Socket.ReceiveAsync(connection.FreeSpace, SocketFlags.None, Live.UpdateRequested);
                }
                catch (OperationCanceledException)
                {
                    continue; // An update was requested; no byte was lost.
                }
                if (received == 0)
                {
                    return;
                }
                connection.ReceivedCount += received;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The client reset the connection.
        }
        finally
        {
            // Reached when the client goes or the program stops; an update retires this unit without running it.
            if (connection.Blocked is not null || connection.Watched is not null)
            {
                lock (Store.Gate)
                {
                    Blocking.Forget(connection);
                    Transactions.UnwatchAll(connection);
                }
            }
            Interlocked.Decrement(ref connectedClients);
            connection.Socket.Dispose();
        }
    }

    /// <summary>The expire unit: every 100 ms, removes keys whose deadline has passed (a bounded amount of work a round).</summary>
    public static async Task ExpireKeys(ExpiryState state)
    {
        while (true)
        {
            await Live.UpdatePointAsync("expire");
            lock (Store.Gate)
            {
                Store.ExpireCycle(Clock.NowMs);
            }
            state.Rounds++;
            try
            {
                await Task.Delay(100, Live.UpdateRequested);
            }
            catch (OperationCanceledException)
            {
                // An update was requested: park at the update point.
            }
        }
    }
}
