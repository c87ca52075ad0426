namespace Chat;

/// <summary>Everyone connected, and every room by name.</summary>
internal sealed class Lobby
{
    public Dictionary<string, Room> Rooms { get; } = [];

    public HashSet<Connection> Connections { get; } = [];
}
