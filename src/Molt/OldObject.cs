using System.Globalization;

namespace Molt;

/// <summary>
/// A transformer's read-only view of one object of the old version (or of an old type's static fields).
/// The old version's types are not visible to the new version's code, so fields are read by name.
/// </summary>
public sealed class OldObject
{
    private readonly IOldState _state;
    private readonly Type _type;

    internal OldObject(IOldState state, Type type, object? instance)
    {
        _state = state;
        _type = type;
        Instance = instance;
    }

    /// <summary>The old type's full name.</summary>
    public string TypeName => _type.FullName ?? _type.Name;

    /// <summary>The old object itself, of the old version's type; null for a view of static fields. Do not change it:
    /// on a rollback the old version goes on with it.</summary>
    public object? Instance { get; }

    /// <summary>The old type's field names (auto-properties by property name), base types included.</summary>
    public IReadOnlyList<string> FieldNames => _state.FieldNames(_type, Instance is null);

    /// <summary>Whether the old object has a field (or auto-property) of that name.</summary>
    public bool Has(string field) => FieldNames.Contains(field, StringComparer.Ordinal);

    /// <summary>
    /// Reads a field and returns its value as the new version sees it: an object of a shared type (string,
    /// byte[], a socket...) as it is; an object of the program's types as the new object it becomes.
    /// Numbers convert to a wider <typeparamref name="T"/>.
    /// </summary>
    /// <remarks>In a type or field transformer, an object returned here may not be filled in yet: read old fields through
    /// <see cref="GetOld"/> instead. In an after-transfer step (through <see cref="OldVersion.Statics"/>) it is complete.</remarks>
    /// <exception cref="KeyNotFoundException">The old type has no such field.</exception>
    public T Get<T>(string field)
    {
        var value = _state.NewOf(_state.Read(_type, Instance, field));
        return Convert<T>(value, field);
    }

    /// <summary>A view of the old object that a field refers to, or null when the field is null.</summary>
    /// <exception cref="KeyNotFoundException">The old type has no such field.</exception>
    public OldObject? GetOld(string field)
    {
        var value = _state.Read(_type, Instance, field);
        return value is null ? null : new OldObject(_state, value.GetType(), value);
    }

    /// <summary>The new object that any object of the old version becomes.</summary>
    public T NewOf<T>(object? oldObject) => Convert<T>(_state.NewOf(oldObject), "(object)");

    /// <inheritdoc/>
    public override string ToString() => Instance is null ? $"statics of {TypeName}" : $"old {TypeName}";

    private T Convert<T>(object? value, string field)
    {
        if (value is T typed)
        {
            return typed;
        }
        if (value is null && default(T) is null)
        {
            return default!;
        }
        if (value is IConvertible && (typeof(T).IsPrimitive || typeof(T) == typeof(decimal)))
        {
            return (T)System.Convert.ChangeType(value, typeof(T), CultureInfo.InvariantCulture);
        }
        throw new InvalidCastException(
            $"Field '{field}' of old {TypeName} holds {(value is null ? "null" : "a " + value.GetType().FullName)}, not a {typeof(T).FullName}.");
    }
}
