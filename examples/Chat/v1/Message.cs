namespace Chat;

/// <summary>One line said in a room.</summary>
internal sealed class Message(string nick, string text)
{
    public string Nick { get; } = nick;

    public string Text { get; } = text;
}
