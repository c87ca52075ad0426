namespace Kv;

/// <summary>A key's value and deadline.</summary>
internal sealed class Entry
{
    /// <summary>The value: bytes (release 1 has strings only).</summary>
    public byte[] Value = [];

    /// <summary>When the key expires, in Unix milliseconds; 0 when it does not.</summary>
    public long ExpiresAt;
}
