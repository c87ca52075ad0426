namespace Molt;

/// <summary>A program-level transformer's view of the old version (see <see cref="AfterTransferAttribute"/>).</summary>
public sealed class OldVersion
{
    private readonly IOldState _state;

    internal OldVersion(IOldState state)
    {
        _state = state;
    }

    /// <summary>A view of the static fields of an old type.</summary>
    /// <param name="typeName">The old type's full name.</param>
    /// <exception cref="KeyNotFoundException">The old version has no such type.</exception>
    public OldObject Statics(string typeName)
    {
        var type = _state.FindOldType(typeName) ?? throw new KeyNotFoundException($"The old version has no type '{typeName}'.");
        return new OldObject(_state, type, null);
    }

    /// <summary>The new object that any object of the old version became.</summary>
    public T NewOf<T>(object? oldObject) => (T)_state.NewOf(oldObject)!;
}
