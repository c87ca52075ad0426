namespace Molt;

/// <summary>
/// Opts a static field or static auto-property out of the automatic migration of statics: the new version
/// keeps the value its own initializer gives it. Put it on the new version's member (or the old one's).
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class NotMigratedAttribute : Attribute;
