namespace Chat;

/// <summary>A chat room: who is in it and everything said in it.</summary>
internal sealed class Room
{
    public required string Name { get; init; }

    public List<Message> History { get; } = [];

    public HashSet<Connection> Members { get; } = [];
}
