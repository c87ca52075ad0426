using Molt;

namespace Chat;

/// <summary>One line said in a room.</summary>
internal sealed class Message(long id, string nick, string text, DateTimeOffset at)
{
    /// <summary>Numbered in the order said; messages of release 1 get theirs when the update comes (<see cref="ChatServer"/>).</summary>
    public long Id { get; set; } = id;

    public string Nick { get; } = nick;

    public string Text { get; } = text;

    public DateTimeOffset At { get; } = at;

    /// <summary>Release 1 kept no time: its messages are dated by the update.</summary>
    [TransformField(typeof(Message), nameof(At))]
    private static DateTimeOffset DateOldMessage(OldObject old) => DateTimeOffset.UtcNow;
}
