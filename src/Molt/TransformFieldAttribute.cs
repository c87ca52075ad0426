namespace Molt;

/// <summary>
/// Marks a static method of the new version that computes one field (or auto-property) of a new type from
/// the old object: <c>static TField M(OldObject old)</c>. It overrides the default mapping of that field.
/// </summary>
/// <param name="type">The new version's type that declares the field.</param>
/// <param name="fieldName">The field's or auto-property's name in the new version.</param>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class TransformFieldAttribute(Type type, string fieldName) : Attribute
{
    /// <summary>The new version's type that declares the field.</summary>
    public Type Type { get; } = type;

    /// <summary>The field's or auto-property's name in the new version.</summary>
    public string FieldName { get; } = fieldName;
}
