namespace Molt;

/// <summary>
/// Says that a type, field or auto-property of the new version had another name in the old version, so
/// that its state maps to it. For a type, give the old full name (<c>Namespace.Outer+Inner</c>).
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct | AttributeTargets.Enum | AttributeTargets.Field | AttributeTargets.Property,
    AllowMultiple = false, Inherited = false)]
public sealed class RenamedFromAttribute(string oldName) : Attribute
{
    /// <summary>The old name: a type's full name, or a field's or property's name.</summary>
    public string OldName { get; } = oldName;
}
