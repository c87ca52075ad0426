using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Molt;

namespace Kv;

/// <summary>
/// A Redis-compatible (RESP2) key-value server that Molt can update live: one unit accepts clients, one unit per
/// client serves its commands, one unit removes expired keys. Run it on its own
/// (<c>dotnet run -- --port 6390</c>) or under the Molt host.
/// </summary>
public static class Program
{
    /// <summary>The port the server listens on: the one bound when it was started with port 0.</summary>
    public static int Port { get; private set; }

    private static long lastConnectionId;

    /// <summary>Starts the server: <c>--port N</c> (default 0, any free port).</summary>
    public static async Task Main(string[] args)
    {
        // Started by an update, the listener, the keyspace and the connections are already here and the units resume by themselves.
        if (!Live.IsUpdating)
        {
            var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, ParsePort(args)));
            listener.Listen(512);
            Port = ((IPEndPoint)listener.LocalEndPoint!).Port;
            Console.WriteLine($"listening on 127.0.0.1:{Port}");
            Live.StartUnit("accept", listener, Accept);
            Live.StartUnit("expire", new ExpiryState(), Server.ExpireKeys);
        }
        await Live.RunAsync();
    }

    /// <summary>The accept unit: starts one unit per client.</summary>
    private static async Task Accept(Socket listener)
    {
        try
        {
            while (true)
            {
                await Live.UpdatePointAsync("accept");
                Socket client;
                try
                {
                    client = await listener.AcceptAsync(Live.UpdateRequested);
                }
                catch (OperationCanceledException)
                {
                    continue; // An update was requested: the pending client waits in the backlog.
                }
                catch (SocketException)
                {
                    continue; // A client that went before it was accepted.
                }
                client.NoDelay = true; // Replies are small and a client waits for each batch.
                var connection = new Connection(Interlocked.Increment(ref lastConnectionId), client);
                Server.Connected(connection);
                Live.StartUnit($"conn-{connection.Id}", connection, Server.Serve);
            }
        }
        finally
        {
            // Reached when the program stops; an update retires this unit without running it.
            listener.Dispose();
        }
    }

    private static int ParsePort(string[] args)
    {
        var at = Array.IndexOf(args, "--port");
        return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : 0;
    }
}

/// <summary>The state of the expire unit: how many rounds it has run (shown by INFO).</summary>
internal sealed class ExpiryState
{
    public long Rounds;
}
