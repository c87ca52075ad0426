namespace Molt.Hosting.Control;

/// <summary>One finding of a compatibility check (see <see cref="CheckSummary"/>).</summary>
/// <param name="Kind">What changed, or what was found.</param>
/// <param name="Subject">What it is about: a type (<c>Ns.Type</c>), a field (<c>Ns.Type.field</c>, <c>static Ns.Type.field</c>),
/// a unit (<c>unit 'name'</c>), or the version.</param>
/// <param name="Coverage">What carries the change across an update.</param>
/// <param name="Severity">Whether it stops the update, may fail it or lose something, or is for information.</param>
/// <param name="Detail">The finding in words, as the report's line says it.</param>
public sealed record CheckFinding(CheckFindingKind Kind, string Subject, CheckCoverage Coverage, CheckSeverity Severity, string Detail)
{
    /// <summary>
    /// The value the new version will have: for an added field, what it gets ("initializer", "default", "transformer");
    /// for an enum member, the new member it maps to (<c>Color.Green = 2</c>). Null when the finding has none.
    /// </summary>
    public string? Value { get; init; }

    /// <summary>Whether the running program's state holds the value or object now (from the check's trial transfer); null when not known.</summary>
    public bool? Held { get; init; }

    /// <summary>The path from a root of the state (a static, a unit's state) to a holder of the value, when the check found one.</summary>
    public string? Path { get; init; }
}

/// <summary>The kinds of findings of a compatibility check.</summary>
public enum CheckFindingKind
{
    /// <summary>The new version has a type that the running one does not.</summary>
    TypeAdded,
    /// <summary>The new version no longer has a type: its objects cannot cross.</summary>
    TypeRemoved,
    /// <summary>A type was renamed ([RenamedFrom], or a [TransformType] that fills a type of another name).</summary>
    TypeRenamed,
    /// <summary>A type's objects are built by a [TransformType] factory.</summary>
    TypeTransformed,
    /// <summary>A type's fields (or an enum's members) changed; its fields' findings follow.</summary>
    TypeChanged,
    /// <summary>A field the running version does not have.</summary>
    FieldAdded,
    /// <summary>A field the new version does not have: its value is dropped.</summary>
    FieldRemoved,
    /// <summary>A field whose type changed.</summary>
    FieldRetyped,
    /// <summary>A field renamed with [RenamedFrom].</summary>
    FieldRenamed,
    /// <summary>A field computed by a [TransformField] method.</summary>
    FieldComputed,
    /// <summary>A migrated field whose declared type cannot cross an update (delegates, tasks, threads, timers, compiler-generated types, reflection objects).</summary>
    CannotCross,
    /// <summary>A migrated static field of an open type (object, an interface, an abstract class): its value is checked only at update time.</summary>
    OpenType,
    /// <summary>A unit whose entry method the new version lacks: it would be dropped.</summary>
    UnitDropped,
    /// <summary>A unit whose entry method the new version has in a shape that cannot resume it.</summary>
    UnitCannotResume,
    /// <summary>A unit whose state object cannot cross (its type is gone, or it is a delegate or a task): the update would fail.</summary>
    UnitStateCannotCross,
    /// <summary>An update point where a unit is now that the new version lacks.</summary>
    UpdatePointMissing,
    /// <summary>An [AfterTransfer] step of the new version, which runs once after the transfer.</summary>
    AfterTransferStep,
    /// <summary>A [StateCheck] of the new version, which runs on the migrated state (a failure rolls the update back).</summary>
    StateCheck,
    /// <summary>The new version cannot be loaded or planned at all (not a program, a transformer of the wrong shape...).</summary>
    Refusal,
    /// <summary>An enum member whose number differs in the new enum: its values map by name, to another number.</summary>
    EnumMemberRenumbered,
    /// <summary>An enum member renamed with [RenamedFrom] on the new member: its values map to it.</summary>
    EnumMemberRenamed,
    /// <summary>An enum member with no member in the new enum: a value of it held by the state fails the update at transfer.</summary>
    EnumMemberRemoved,
    /// <summary>A type whose kind changed (a class that becomes a struct, or a struct that becomes a class).</summary>
    KindChanged,
    /// <summary>A value of the running state that the update would refuse at transfer (found by the check's trial transfer), with its path.</summary>
    StateRefused,
    /// <summary>The check's trial transfer could not complete because the state kept changing under it: the verdict is the types' alone.</summary>
    TrialInconclusive,
    /// <summary>In a hosted application: what the update carries (its singletons, hosted services, handed-off connections).</summary>
    HostedState,
    /// <summary>In a hosted application: a field that holds a framework service, not carried but filled by the new version's container.</summary>
    FrameworkField,
    /// <summary>
    /// A library of the program's own that both versions ship in the same build: loaded once and shared, its objects pass by
    /// reference (those of its types that may hold the old version's objects are rebuilt as the same types).
    /// </summary>
    SharedLibrary,
}

/// <summary>What carries a change across an update.</summary>
public enum CheckCoverage
{
    /// <summary>Nothing needs to carry it (an added type, a unit, a note).</summary>
    NotNeeded,
    /// <summary>The default mapping: same type, a widening, T to T?, a base type, a rename, a dropped or added field.</summary>
    DefaultMapping,
    /// <summary>A transformer of the new version: [TransformField], or a [TransformType] fill or factory.</summary>
    Transformer,
    /// <summary>Nothing covers it.</summary>
    Nothing,
}

/// <summary>How much a finding matters to the update.</summary>
public enum CheckSeverity
{
    /// <summary>For information.</summary>
    Info,
    /// <summary>The update goes ahead, but may lose something (a dropped field or unit) or fail at transfer time if the state holds such a value.</summary>
    Warning,
    /// <summary>The update cannot go ahead: it would be refused.</summary>
    Incompatible,
}
