namespace Molt;

/// <summary>The transfer engine's side of <see cref="OldObject"/> and <see cref="OldVersion"/>: reads the old version's state.</summary>
internal interface IOldState
{
    /// <summary>The field names of an old type (auto-properties by property name), base types included.</summary>
    IReadOnlyList<string> FieldNames(Type oldType, bool statics);

    /// <summary>Reads a field of an old object (or a static of an old type when <paramref name="instance"/> is null), as it is.</summary>
    /// <exception cref="KeyNotFoundException">No such field.</exception>
    object? Read(Type oldType, object? instance, string field);

    /// <summary>The old version's type of the given full name, or null.</summary>
    Type? FindOldType(string fullName);

    /// <summary>The new object that an old object becomes (the object itself when it passes by reference).</summary>
    object? NewOf(object? old);
}
