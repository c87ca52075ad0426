namespace Molt.Hosting.Loading;

/// <summary>
/// A version that has been retired, weakly held: what tells when it is gone. When its code unloads, that is its
/// context being collected; when its code stays loaded, the objects of its own types that its statics held.
/// </summary>
/// <param name="Context">Its context; alive for ever when <paramref name="CodeUnloads"/> is false.</param>
/// <param name="CodeUnloads">Whether its context is collectible.</param>
/// <param name="State">The objects its static fields held before they were cleared, each with the field's name.</param>
/// <param name="Libraries">The shared libraries that no version uses any more since it retired: they must go too.</param>
internal sealed record RetiredVersion(WeakReference Context, bool CodeUnloads, IReadOnlyList<(string Field, WeakReference Object)> State,
    IReadOnlyList<ReleasedLibrary> Libraries)
{
    /// <summary>Whether the version is gone: its context collected, or (code kept) every object its statics held; and every library it released.</summary>
    public bool IsReleased => VersionReleased && Libraries.All(l => l.IsReleased);

    /// <summary>Whether the version itself is gone, whatever became of the libraries it released.</summary>
    public bool VersionReleased => CodeUnloads ? !Context.IsAlive : State.All(s => !s.Object.IsAlive);

    /// <summary>The libraries released with it that are still loaded.</summary>
    public IEnumerable<string> LibrariesStillLoaded => Libraries.Where(l => !l.IsReleased).Select(l => l.Description);

    /// <summary>The static fields whose objects are still alive (code kept loaded only).</summary>
    public IEnumerable<string> StillHeld => CodeUnloads ? [] : State.Where(s => s.Object.IsAlive).Select(s => s.Field);
}
