namespace Molt.Hosting.Tests.Transfer.Matrix;

/// <summary>What an update does with a case of the matrix.</summary>
internal enum ExpectedOutcome
{
    /// <summary>The update commits and the value reads as the rule says.</summary>
    Committed,
    /// <summary>The update is refused while preparing, with the path to the change or its holder.</summary>
    RefusedAtPrepare,
    /// <summary>The update fails at transfer and rolls back, with the path to the holder; the old values stay.</summary>
    RolledBackAtTransfer,
}

/// <summary>One rule of the state transfer (a row of the docs' table): a change, and what the new value is or why the update is refused.</summary>
/// <param name="Change">The change, in words.</param>
/// <param name="Outcome">What the update does.</param>
/// <param name="Result">The new value, or why it is refused.</param>
internal sealed record TransferRule(string Change, ExpectedOutcome Outcome, string Result)
{
    /// <summary>The outcome in the table's words.</summary>
    public string OutcomeText => Outcome switch
    {
        ExpectedOutcome.Committed => "carried",
        ExpectedOutcome.RefusedAtPrepare => "refused at prepare",
        _ => "rolled back at transfer",
    };
}

/// <summary>
/// The rules of RULES.md (issue 10), each written once: the matrix's generator gives every case the rule of its change,
/// and the expected outcome of the case is the rule's. docs/programming-model.md shows them as a table (checked by a test).
/// </summary>
internal static class TransferRules
{
    public static readonly TransferRule FieldAddedWithInitializer = new(
        "field or auto-property added with an initializer", ExpectedOutcome.Committed,
        "its declared initializer, evaluated alone once per rebuilt object; no constructor runs");

    public static readonly TransferRule InitializerThrows = new(
        "field added with an initializer that throws", ExpectedOutcome.RolledBackAtTransfer, "the initializer's exception, with the path to the object");

    public static readonly TransferRule InitializerUnreadable = new(
        "field added with an initializer that C# computes into locals first (a `switch` expression)", ExpectedOutcome.RefusedAtPrepare,
        "it cannot be evaluated apart from the constructor (compute it with `[TransformField]`)");

    public static readonly TransferRule FieldAddedWithoutInitializer = new(
        "field added without an initializer", ExpectedOutcome.Committed, "default (0, null, false)");

    public static readonly TransferRule PositionalParameterAdded = new(
        "positional record parameter added (with or without a default value)", ExpectedOutcome.Committed,
        "default (0, null, false): no constructor runs");

    public static readonly TransferRule FieldRemoved = new(
        "field removed", ExpectedOutcome.Committed, "dropped (listed in `UpdateResult.DroppedFields`)");

    public static readonly TransferRule FieldRenamed = new(
        "field or auto-property renamed with `[RenamedFrom(\"old\")]`", ExpectedOutcome.Committed, "the old field's value");

    public static readonly TransferRule Widening = new(
        "field retyped by a lossless widening (`int` → `long`, `int` → `double`)", ExpectedOutcome.Committed, "the value, converted");

    public static readonly TransferRule Narrowing = new(
        "field retyped by a narrowing (`long` → `int`, `double` → `float`)", ExpectedOutcome.RefusedAtPrepare, "a value may not fit");

    public static readonly TransferRule ToObject = new(
        "field retyped to `object`", ExpectedOutcome.Committed, "the value, boxed (or the rebuilt object)");

    public static readonly TransferRule FromObject = new(
        "field retyped from `object` (or an interface, or a base class) to a specific type", ExpectedOutcome.RefusedAtPrepare,
        "the old field may hold anything");

    public static readonly TransferRule ToBaseType = new(
        "field retyped to a base class or an interface of the mapped type", ExpectedOutcome.Committed, "the rebuilt object");

    public static readonly TransferRule ToUnrelatedType = new(
        "field retyped to an unrelated type (program type ↔ program type, number ↔ program type)", ExpectedOutcome.RefusedAtPrepare,
        "no default mapping");

    public static readonly TransferRule ToNullable = new(
        "field retyped from `T` to `T?`", ExpectedOutcome.Committed, "the value, wrapped");

    public static readonly TransferRule FromNullable = new(
        "field retyped from `T?` to `T`", ExpectedOutcome.RefusedAtPrepare, "a null has no value");

    public static readonly TransferRule EnumInteger = new(
        "field retyped from an enum to an integer or back", ExpectedOutcome.RefusedAtPrepare, "no default mapping");

    public static readonly TransferRule TypeRenamed = new(
        "type renamed with `[RenamedFrom(\"Old.Full.Name\")]`", ExpectedOutcome.Committed, "every field copied by name");

    public static readonly TransferRule ClassToStruct = new(
        "class becomes a struct", ExpectedOutcome.Committed,
        "each object becomes a struct value with its fields (identity is not kept; null becomes default)");

    public static readonly TransferRule StructToClass = new(
        "struct becomes a class", ExpectedOutcome.Committed, "each value becomes a new object with its fields");

    public static readonly TransferRule RecordAndPlain = new(
        "record class ↔ class, record struct ↔ struct", ExpectedOutcome.Committed, "fields copied by name (auto-properties by property name)");

    public static readonly TransferRule BaseTypeChanged = new(
        "base type changed, or a field moved between the type and its base", ExpectedOutcome.Committed,
        "fields matched by name over the whole hierarchy");

    public static readonly TransferRule TypeRemoved = new(
        "type removed, a value of it held (in an `object` field)", ExpectedOutcome.RolledBackAtTransfer,
        "no type to rebuild it as (unless renamed or transformed)");

    public static readonly TransferRule BecomesAbstract = new(
        "class becomes abstract", ExpectedOutcome.RefusedAtPrepare, "its objects cannot be built (unless a `[TransformType]` factory)");

    public static readonly TransferRule BecomesConcrete = new(
        "abstract class becomes concrete", ExpectedOutcome.Committed, "every field copied by name");

    public static readonly TransferRule NoLongerDerived = new(
        "a class no longer derives from (or implements) the declared type of a field holding it", ExpectedOutcome.RolledBackAtTransfer,
        "the new field cannot hold the object");

    public static readonly TransferRule InterfaceToClass = new(
        "interface becomes a class (or any other kind), a holder declared as it", ExpectedOutcome.RefusedAtPrepare, "no default mapping");

    public static readonly TransferRule EnumToOtherKind = new(
        "enum becomes a class or struct (or the reverse), a holder declared as it", ExpectedOutcome.RefusedAtPrepare, "no default mapping");

    public static readonly TransferRule EnumValueToOtherKind = new(
        "enum becomes a class or struct, a value of it held in an `object` field", ExpectedOutcome.RolledBackAtTransfer, "no default mapping");

    public static readonly TransferRule EnumByName = new(
        "enum members added, reordered, renumbered, or its underlying type changed", ExpectedOutcome.Committed,
        "the member of the same name, never the same number");

    public static readonly TransferRule EnumMemberRenamed = new(
        "enum member renamed with `[RenamedFrom(\"Old\")]`", ExpectedOutcome.Committed, "the renamed member");

    public static readonly TransferRule EnumMemberRemovedUnused = new(
        "enum member removed, no value of it held", ExpectedOutcome.Committed, "the other values by name");

    public static readonly TransferRule EnumValueWithoutMember = new(
        "enum value held whose member is removed, or that has no name in the old enum", ExpectedOutcome.RolledBackAtTransfer,
        "no member to map it to (unless a `[TransformType]` factory)");

    public static readonly TransferRule FlagsByName = new(
        "`[Flags]` members renumbered, added or renamed", ExpectedOutcome.Committed,
        "each set bit mapped by its member's name, OR-ed; 0 stays 0");

    public static readonly TransferRule GenericByArguments = new(
        "generic type or its argument changed", ExpectedOutcome.Committed, "mapped through its definition and arguments (`Box<Old>` → `Box<New>`)");

    public static readonly TransferRule GenericConstraintUnfit = new(
        "generic type's new constraints do not fit its argument (a value held in an `object` field)", ExpectedOutcome.RolledBackAtTransfer,
        "no such instantiation in the new version");

    public static readonly TransferRule ArrayByElement = new(
        "array's element type changed", ExpectedOutcome.Committed, "each element mapped; rank kept");

    public static readonly TransferRule ArrayRankChanged = new(
        "array's rank changed", ExpectedOutcome.RefusedAtPrepare, "no default mapping");

    public static readonly TransferRule NullableOfChanged = new(
        "`T?` whose `T` changed, or holding null", ExpectedOutcome.Committed, "the value mapped as a `T`; null stays null");

    /// <summary>Every rule, in the order of the docs' table (declared after the rules: static fields initialize in order).</summary>
    public static readonly IReadOnlyList<TransferRule> All =
    [
        FieldAddedWithInitializer,
        InitializerThrows,
        InitializerUnreadable,
        FieldAddedWithoutInitializer,
        PositionalParameterAdded,
        FieldRemoved,
        FieldRenamed,
        Widening,
        Narrowing,
        ToObject,
        FromObject,
        ToBaseType,
        ToUnrelatedType,
        ToNullable,
        FromNullable,
        EnumInteger,
        TypeRenamed,
        ClassToStruct,
        StructToClass,
        RecordAndPlain,
        TypeRemoved,
        BaseTypeChanged,
        BecomesAbstract,
        BecomesConcrete,
        NoLongerDerived,
        InterfaceToClass,
        EnumToOtherKind,
        EnumValueToOtherKind,
        EnumByName,
        EnumMemberRenamed,
        EnumMemberRemovedUnused,
        EnumValueWithoutMember,
        FlagsByName,
        GenericByArguments,
        GenericConstraintUnfit,
        ArrayByElement,
        ArrayRankChanged,
        NullableOfChanged,
    ];
}
