namespace Kv;

/// <summary>A key's value: one of Redis's types.</summary>
internal abstract class Value
{
    /// <summary>The type's name, as TYPE answers it.</summary>
    public abstract string TypeName { get; }
}

/// <summary>A string: bytes.</summary>
internal sealed class StringValue(byte[] bytes) : Value
{
    /// <summary>The bytes.</summary>
    public byte[] Bytes = bytes;

    /// <inheritdoc/>
    public override string TypeName => "string";
}

/// <summary>A list of byte strings, pushed and popped at both ends.</summary>
internal sealed class ListValue : Value
{
    /// <summary>The elements, head first.</summary>
    public LinkedList<byte[]> Items = new();

    /// <inheritdoc/>
    public override string TypeName => "list";
}

/// <summary>A hash: fields (Latin-1 strings, like keys) to byte values.</summary>
internal sealed class HashValue : Value
{
    /// <summary>The fields.</summary>
    public Dictionary<string, byte[]> Fields = [];

    /// <inheritdoc/>
    public override string TypeName => "hash";
}

/// <summary>A set of distinct byte strings (Latin-1 strings, like keys).</summary>
internal sealed class SetValue : Value
{
    /// <summary>The members.</summary>
    public HashSet<string> Members = [];

    /// <inheritdoc/>
    public override string TypeName => "set";
}
