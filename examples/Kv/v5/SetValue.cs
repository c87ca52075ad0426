namespace Kv;

/// <summary>A set of distinct byte strings (Latin-1 strings, like keys).</summary>
internal sealed class SetValue : Value
{
    /// <summary>The members.</summary>
    public HashSet<string> Members = [];

    /// <inheritdoc/>
    public override string TypeName => "set";
}
