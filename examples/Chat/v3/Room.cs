namespace Chat;

/// <summary>A chat room: who is in it, what it is about, and everything said in it.</summary>
internal sealed class Room
{
    public required string Name { get; init; }

    public string Topic { get; set; } = "(no topic)";

    public List<Message> History { get; } = [];

    public HashSet<Connection> Members { get; } = [];
}
