namespace Molt;

/// <summary>
/// Marks a static method of the new version as the transformer for every object of an old type.
/// </summary>
/// <remarks>
/// Two shapes are accepted:
/// <list type="bullet">
/// <item><c>static void M(OldObject old, NewType target)</c>: runs after the default mapping has copied the fields
/// whose names match; it sets what changed (fields split, merged or retyped).</item>
/// <item><c>static NewType M(OldObject old)</c>: builds the new object itself (no default mapping); the result may be
/// of any type assignable to the fields that held the old object, so a type can become another.</item>
/// </list>
/// The old type's objects become objects of the method's new type: a renamed type needs nothing else.
/// </remarks>
/// <param name="oldTypeName">The old type's full name (<c>Namespace.Outer+Inner</c>).</param>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class TransformTypeAttribute(string oldTypeName) : Attribute
{
    /// <summary>The old type's full name.</summary>
    public string OldTypeName { get; } = oldTypeName;
}
