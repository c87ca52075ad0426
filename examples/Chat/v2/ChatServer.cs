using System.Net.Sockets;
using Molt;

namespace Chat;

/// <summary>
/// The chat: its rooms, and the unit that serves one client. Commands, one per line:
/// <c>NICK name</c>, <c>JOIN room</c>, <c>SAY text</c>, <c>TOPIC room [text]</c>, <c>HISTORY room</c>, <c>WHO</c>, <c>VERSION</c>, <c>QUIT</c>.
/// </summary>
internal static class ChatServer
{
    /// <summary>Every room, by name. Guarded by <see cref="Gate"/>, like the rooms themselves.</summary>
    private static readonly Dictionary<string, Room> Rooms = [];

    private static readonly Lock Gate = new();

    /// <summary>The last message number given (guarded by <see cref="Gate"/>).</summary>
    private static long lastMessageId;

    /// <summary>The unit of one client: answers its commands until it quits or goes.</summary>
    public static async Task Serve(Connection connection)
    {
        try
        {
            if (Live.ResumedFrom is null)
            {
                await connection.SendAsync($"HELLO {connection.Nick}");
            }
            while (true)
            {
                // Between two commands: nothing half done, the place to update.
                await Live.UpdatePointAsync("command");
                if (connection.TryTakeLine(out var line))
                {
                    if (!await HandleAsync(connection, line))
                    {
                        return;
                    }
                    continue;
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
                connection.Received(received);
            }
        }
        catch (SocketException)
        {
            // The client reset the connection.
        }
        finally
        {
            // Reached when the client goes or the program stops; an update retires this unit without running it.
            Leave(connection);
            connection.Socket.Dispose();
        }
    }

    /// <summary>Answers one command; false when the client quits.</summary>
    private static async Task<bool> HandleAsync(Connection connection, string line)
    {
        var space = line.IndexOf(' ', StringComparison.Ordinal);
        var command = (space < 0 ? line : line[..space]).ToUpperInvariant();
        var argument = space < 0 ? "" : line[(space + 1)..].Trim();
        switch (command)
        {
            case "":
                break;
            case "NICK" when IsName(argument):
                lock (Gate)
                {
                    connection.Nick = argument;
                }
                await connection.SendAsync($"OK NICK {argument}");
                break;
            case "JOIN" when IsName(argument):
                lock (Gate)
                {
                    LeaveLocked(connection);
                    if (!Rooms.TryGetValue(argument, out var room))
                    {
                        room = new Room { Name = argument };
                        Rooms.Add(argument, room);
                    }
                    room.Members.Add(connection);
                    connection.Room = room;
                }
                await connection.SendAsync($"OK JOIN {argument}");
                break;
            case "SAY" when argument.Length > 0:
                await SayAsync(connection, argument);
                break;
            case "TOPIC" when argument.Length > 0:
                await TopicAsync(connection, argument);
                break;
            case "HISTORY" when IsName(argument):
                await connection.SendAsync(History(argument));
                break;
            case "WHO":
                await connection.SendAsync(Who(connection));
                break;
            case "VERSION":
                await connection.SendAsync($"VERSION {typeof(ChatServer).Assembly.GetName().Version!.Major}");
                break;
            case "QUIT":
                await connection.SendAsync("BYE");
                return false;
            default:
                await connection.SendAsync($"ERR cannot {line}");
                break;
        }
        return true;
    }

    private static async Task SayAsync(Connection connection, string text)
    {
        Room? room;
        Connection[] members;
        string nick;
        lock (Gate)
        {
            room = connection.Room;
            nick = connection.Nick;
            if (room is null)
            {
                members = [];
            }
            else
            {
                room.History.Add(new Message(++lastMessageId, nick, text, DateTimeOffset.UtcNow));
                members = [.. room.Members];
            }
        }
        if (room is null)
        {
            await connection.SendAsync("ERR join a room first");
            return;
        }
        var line = $"MSG {room.Name} {nick} {text}";
        foreach (var member in members)
        {
            await member.SendAsync(line);
        }
    }

    /// <summary><c>TOPIC room</c> tells the room's topic; <c>TOPIC room text</c> sets it and tells its members.</summary>
    private static async Task TopicAsync(Connection connection, string argument)
    {
        var space = argument.IndexOf(' ', StringComparison.Ordinal);
        var roomName = space < 0 ? argument : argument[..space];
        var topic = space < 0 ? null : argument[(space + 1)..];
        Connection[] members;
        lock (Gate)
        {
            if (!Rooms.TryGetValue(roomName, out var room))
            {
                members = [];
            }
            else if (topic is null)
            {
                topic = room.Topic;
                members = [connection];
            }
            else
            {
                room.Topic = topic;
                members = [.. room.Members.Append(connection).Distinct()];
            }
        }
        if (members.Length == 0)
        {
            await connection.SendAsync($"ERR no room {roomName}");
            return;
        }
        foreach (var member in members)
        {
            await member.SendAsync($"TOPIC {roomName} {topic}");
        }
    }

    /// <summary>The room's messages, one per line (number, time, nick, text), then END.</summary>
    private static string History(string roomName)
    {
        lock (Gate)
        {
            var messages = Rooms.TryGetValue(roomName, out var room) ? room.History : [];
            return string.Concat(messages.Select(m => $"HIST {m.Id} {m.At:HH:mm:ss} {m.Nick} {m.Text}\n")) + "END";
        }
    }

    private static string Who(Connection connection)
    {
        lock (Gate)
        {
            return connection.Room is { } room
                ? $"WHO {room.Name} {string.Join(' ', room.Members.Select(m => m.Nick).Order(StringComparer.Ordinal))}"
                : "ERR join a room first";
        }
    }

    private static void Leave(Connection connection)
    {
        lock (Gate)
        {
            LeaveLocked(connection);
        }
    }

    private static void LeaveLocked(Connection connection)
    {
        connection.Room?.Members.Remove(connection);
        connection.Room = null;
    }

    /// <summary>Numbers the messages of release 1, room by room in the order said, before anyone can add one.</summary>
    [AfterTransfer]
    private static void NumberOldMessages(OldVersion old)
    {
        foreach (var message in Rooms.Values.SelectMany(r => r.History).Where(m => m.Id == 0))
        {
            message.Id = ++lastMessageId;
        }
    }

    private static bool IsName(string text) => text.Length is > 0 and <= 32 && !text.Any(char.IsWhiteSpace);
}
