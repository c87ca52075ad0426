namespace Kv;

/// <summary>A key's value, deadline and access statistics.</summary>
internal sealed class Entry(Value value)
{
    /// <summary>The value: a string, a list or a hash.</summary>
    public Value Value = value;

    /// <summary>When the key expires, in Unix milliseconds; 0 when it does not.</summary>
    public long Deadline;

    /// <summary>
    /// When the key was last read or written, in Unix milliseconds (OBJECT IDLETIME). A key that comes from an
    /// earlier release, which kept no such time, counts as accessed at the update.
    /// </summary>
    public long LastAccess = Clock.NowMs;

    /// <summary>How many times the key was read or written (OBJECT FREQ); keys from an earlier release start at 0.</summary>
    public long AccessCount;

    /// <summary>Records an access by a command.</summary>
    public void Touch(long now)
    {
        LastAccess = now;
        AccessCount++;
    }
}
