using Molt;

namespace Chat;

/// <summary>One line said in a room.</summary>
internal sealed class Message(long id, string nick, string body, DateTimeOffset at)
{
    /// <summary>Numbered in the order said; messages of release 1 got theirs when release 2 came.</summary>
    public long Id { get; set; } = id;

    public string Nick { get; } = nick;

    [RenamedFrom("Text")]
    public string Body { get; } = body;

    /// <summary>When it was said (for messages of release 1: when release 2 came).</summary>
    public DateTimeOffset At { get; } = at;
}
