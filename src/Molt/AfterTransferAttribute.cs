namespace Molt;

/// <summary>
/// Marks a static method of the new version that runs once, after every object and static has been
/// transferred and before the state checks: <c>static void M(OldVersion old)</c>. For program-wide steps
/// (rebuilding an index, filling a new structure from an old one). Throwing rolls the update back.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class AfterTransferAttribute : Attribute;
