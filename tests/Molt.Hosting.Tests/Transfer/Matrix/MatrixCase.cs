namespace Molt.Hosting.Tests.Transfer.Matrix;

/// <summary>The kind of the type whose value a case holds (the old type's kind).</summary>
internal enum TypeKind
{
    Class,
    Struct,
    RecordClass,
    RecordStruct,
    Enum,
    FlagsEnum,
    Interface,
    AbstractBase,
    GenericInstantiation,
    Array,
    Nullable,
}

/// <summary>The places that hold a program's state; every rule must hold the same in each.</summary>
internal enum HolderKind
{
    Static,
    StaticReadonly,
    InstanceField,
    StructField,
    ArrayElement,
    List,
    DictionaryValue,
    DictionaryKey,
    HashSet,
    Boxed,
    UnitState,
    GenericStatic,
}

/// <summary>
/// One change of one kind of type, independent of where the value is held: the case's types in both versions
/// (declared in the case's own namespace, written <c>$NS$</c> where a full name is needed), the holders' declared
/// type in each version, the value v1 puts there, and how it reads in v1 and, when the rule carries it, in v2
/// (<see cref="ReportExtra"/>: a C# expression whose text the report appends, e.g. a count of constructor calls, and
/// <see cref="ReportExtraShown"/>: how it reads, the same in both versions).
/// </summary>
internal sealed record Scenario(
    TypeKind Kind,
    string Change,
    TransferRule Rule,
    string V1Types,
    string V2Types,
    string V1Declared,
    string V2Declared,
    string V1Value,
    string V1Shown,
    string? V2Shown,
    IReadOnlySet<HolderKind> Holders,
    string? NotFixed = null,
    string ReportExtra = "",
    string ReportExtraShown = "")
{
    /// <summary>A scenario that changes the holders' declared type itself: only fields can hold such a value.</summary>
    public static readonly IReadOnlySet<HolderKind> FieldHolders =
        new HashSet<HolderKind> { HolderKind.Static, HolderKind.StaticReadonly, HolderKind.InstanceField, HolderKind.StructField };

    /// <summary>Only an <c>object</c> field: for a value whose type the new version no longer has.</summary>
    public static readonly IReadOnlySet<HolderKind> ObjectHolder = new HashSet<HolderKind> { HolderKind.Boxed };

    /// <summary>Whether the holders' declared type itself changes (only fields hold the value then).</summary>
    public bool ChangesDeclaredType => ReferenceEquals(Holders, FieldHolders);

    /// <summary>Every holder but the <c>object</c> field: those whose declared type is the case's type.</summary>
    public static readonly IReadOnlySet<HolderKind> TypedHolders = Enum.GetValues<HolderKind>().Where(h => h != HolderKind.Boxed).ToHashSet();

    /// <summary>Every holder.</summary>
    public static readonly IReadOnlySet<HolderKind> AllHolders = Enum.GetValues<HolderKind>().ToHashSet();
}

/// <summary>A scenario's value in one holder: one case of the matrix, with its own namespace (<c>C0042</c>) in the generated program.</summary>
internal sealed record MatrixCase(int Number, Scenario Scenario, HolderKind Holder)
{
    public string Id => $"C{Number:0000}";

    public string Description => $"{Scenario.Kind}: {Scenario.Change}, held in {Holder}";

    public ExpectedOutcome Expected => Scenario.Rule.Outcome;

    /// <summary>What the case's report reads in v1 (and after a refusal or rollback).</summary>
    public string V1Report => Scenario.V1Shown + Suffix + Scenario.ReportExtraShown;

    /// <summary>What the case's report must read after the commit (when the rule carries the value).</summary>
    public string? V2Report => Scenario.V2Shown is null ? null : Scenario.V2Shown + Suffix + Scenario.ReportExtraShown;

    /// <summary>Keyed holders also report whether a lookup of the carried key finds it (the collection was re-keyed).</summary>
    private string Suffix => Holder switch
    {
        HolderKind.DictionaryKey => "#1",
        HolderKind.HashSet => "#in",
        _ => "",
    };

    /// <summary>
    /// What the failure's path or message must name besides the case's namespace: the holder, when the update fails
    /// because of the value in it, or because the holder's own declared type changed.
    /// </summary>
    public string? PathFragment => Expected switch
    {
        ExpectedOutcome.RolledBackAtTransfer => Holder switch
        {
            HolderKind.Static => "H.Static",
            HolderKind.StaticReadonly => "H.StaticReadonly",
            HolderKind.InstanceField => "H.Inst",
            HolderKind.StructField => "H.StructBox",
            HolderKind.ArrayElement => "H.Arr",
            HolderKind.List => "H.List",
            HolderKind.DictionaryValue => "H.DictValue",
            HolderKind.DictionaryKey => "H.DictKey",
            HolderKind.HashSet => "H.Set",
            HolderKind.Boxed => "H.Boxed",
            HolderKind.UnitState => Id + ".unit",
            _ => "Pool",
        },
        ExpectedOutcome.RefusedAtPrepare when Scenario.ChangesDeclaredType => Holder switch
        {
            HolderKind.Static => "H.Static",
            HolderKind.StaticReadonly => "H.StaticReadonly",
            HolderKind.InstanceField => "HBox.F",
            _ => "HStruct.F",
        },
        _ => null,
    };
}
