using Molt;

namespace Kv;

/// <summary>A key's value and deadline.</summary>
internal sealed class Entry(Value value)
{
    /// <summary>The value: a string, a list or a hash.</summary>
    public Value Value = value;

    /// <summary>When the key expires, in Unix milliseconds; 0 when it does not.</summary>
    public long ExpiresAt;

    /// <summary>
    /// Release 1 held every value as bytes: each becomes a string value, the same byte array, not copied. (From a
    /// later release, on a rollback, the value is already a typed one.)
    /// </summary>
    [TransformField(typeof(Entry), nameof(Value))]
    private static Value FromBytes(OldObject old) => old.Get<object>(nameof(Value)) switch
    {
        byte[] bytes => new StringValue(bytes),
        Value typed => typed,
        var other => throw new InvalidOperationException($"An old value of type {other?.GetType().FullName ?? "null"} has no string form."),
    };
}
