namespace Molt;

/// <summary>
/// Marks a static method of the new version that checks an invariant over the migrated state before the
/// update commits: <c>static void M()</c> that throws when the state is wrong, or <c>static bool M()</c> that
/// returns false. A failed check rolls the update back; the old version goes on untouched.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class StateCheckAttribute : Attribute
{
    /// <summary>What the check asserts, for the operator's error message (defaults to the method's name).</summary>
    public string? Description { get; init; }
}
