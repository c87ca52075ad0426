using static Molt.Hosting.Tests.Transfer.TransferTestKit;

namespace Molt.Hosting.Tests.Transfer;

/// <summary>What the default mapping does with no transformer: fields by name, added and removed fields, safe type changes.</summary>
public class DefaultMappingTests
{
    [Fact]
    public async Task Update_AddedFieldWithInitializer_GetsTheInitializerValue()
    {
        var v1 = Program("""
            public class Entry { public string Name; }
            public static partial class Program
            {
                public static List<Entry> Items = new();
                static void Init() { Items.Add(new Entry { Name = "a" }); Items.Add(new Entry { Name = "b" }); }
            }
            """);
        var v2 = Program("""
            public class Entry { public string Name; public int Limit = 10; public List<string> Tags = new() { "new" }; public int Plain; }
            public static partial class Program
            {
                public static List<Entry> Items = new();
                static void Init() { }
                public static string Report() =>
                    $"{string.Join(" ", Items.Select(e => $"{e.Name}:{e.Limit}:{string.Join("+", e.Tags)}:{e.Plain}"))} {ReferenceEquals(Items[0].Tags, Items[1].Tags)}";
            }
            """);
        var (host, result) = await StartAndUpdate("DM_Added", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("a:10:new:0 b:10:new:0 False", Report(host));
        Assert.Empty(result.DroppedFields);
    }

    [Fact]
    public async Task Update_AddedFieldWithOnlyParameterizedConstructor_GetsTheInitializerValue()
    {
        var v1 = Program("""
            public class Entry { public string Name; public Entry(string name) { Name = name; } }
            public static partial class Program
            {
                public static Entry E;
                static void Init() => E = new Entry("a");
            }
            """);
        var v2 = Program("""
            public class Entry { public string Name; public int Limit = 10; public Entry(string name) { Name = name; } }
            public static partial class Program
            {
                public static Entry E;
                static void Init() { }
                public static string Report() => $"{E.Name} {E.Limit}";
            }
            """);
        var (host, result) = await StartAndUpdate("DM_AddedNoCtor", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        // The constructor ran with a default argument (null) for the initializer; the old Name was copied over after.
        Assert.Equal("a 10", Report(host));
        Assert.Empty(result.Warnings);
    }

    [Fact]
    public async Task Update_RemovedField_ListedInDroppedFields()
    {
        var v1 = Program("""
            public class Entry { public string Name; public int Obsolete; public string Note { get; set; } }
            public static partial class Program
            {
                public static Entry E;
                public static int Gone = 1;
                static void Init() => E = new Entry { Name = "a", Obsolete = 5, Note = "n" };
            }
            """);
        var v2 = Program("""
            public class Entry { public string Name; }
            public static partial class Program
            {
                public static Entry E;
                static void Init() { }
                public static string Report() => E.Name;
            }
            """);
        var (host, result) = await StartAndUpdate("DM_Removed", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("a", Report(host));
        Assert.Contains("Entry.Obsolete", result.DroppedFields);
        Assert.Contains("Entry.Note", result.DroppedFields);
        Assert.Contains("static Program.Gone", result.DroppedFields);
        Assert.DoesNotContain("Entry.Name", result.DroppedFields);
    }

    [Fact]
    public async Task Update_WidenedNumbers_KeepValues()
    {
        var v1 = Program("""
            public class Stats { public int Count; public float Ratio; public byte Small; public uint Big; }
            public struct Sample { public int Value; public short Weight; }
            public static partial class Program
            {
                public static Stats S;
                public static Sample One;
                public static int Total;
                public static float Scale;
                static void Init()
                {
                    S = new Stats { Count = int.MaxValue, Ratio = 0.25f, Small = 200, Big = uint.MaxValue };
                    One = new Sample { Value = -7, Weight = -3 };
                    Total = -123456; Scale = 1.5f;
                }
            }
            """);
        var v2 = Program("""
            public class Stats { public long Count; public double Ratio; public int Small; public ulong Big; }
            public struct Sample { public long Value; public double Weight; }
            public static partial class Program
            {
                public static Stats S;
                public static Sample One;
                public static long Total;
                public static double Scale;
                static void Init() { }
                public static string Report() => FormattableString.Invariant($"{S.Count + 1} {S.Ratio} {S.Small} {S.Big} {One.Value} {One.Weight} {Total} {Scale}");
            }
            """);
        var (host, result) = await StartAndUpdate("DM_Widen", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal(FormattableString.Invariant($"{(long)int.MaxValue + 1} 0.25 200 {uint.MaxValue} -7 -3 -123456 1.5"), Report(host));
    }

    [Fact]
    public async Task Update_ValueBecomesNullable_KeepsValue()
    {
        var v1 = Program("""
            public struct Money { public long Cents; }
            public class Item { public int Stock; public Money Price; public DateTime Added; }
            public static partial class Program
            {
                public static Item I;
                public static int Count;
                public static Money Cash;
                static void Init() { I = new Item { Stock = 4, Price = new Money { Cents = 99 }, Added = new DateTime(2020, 5, 6) }; Count = 12; Cash = new Money { Cents = 5 }; }
            }
            """);
        var v2 = Program("""
            public struct Money { public long Cents; }
            public class Item { public int? Stock; public Money? Price; public DateTime? Added; }
            public static partial class Program
            {
                public static Item I;
                public static int? Count;
                public static Money? Cash;
                static void Init() { }
                public static string Report() => $"{I.Stock} {I.Price.Value.Cents} {I.Added.Value:yyyy-MM-dd} {Count} {Cash.Value.Cents}";
            }
            """);
        var (host, result) = await StartAndUpdate("DM_Nullable", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("4 99 2020-05-06 12 5", Report(host));
    }

    [Fact]
    public async Task Update_AutoProperties_MappedByPropertyName()
    {
        var v1 = Program("""
            public class Entry
            {
                public string Name { get; set; }
                public int Count { get; private set; }
                public string Kind { get; init; }
                public int Plain;
                public Entry(int count) { Count = count; }
            }
            public static partial class Program
            {
                public static Entry E;
                static void Init() => E = new Entry(3) { Name = "a", Kind = "k", Plain = 8 };
            }
            """);
        // Count becomes a plain field, Plain becomes an auto-property: both keep their values by name.
        var v2 = Program("""
            public class Entry
            {
                public string Name { get; set; }
                public int Count;
                public string Kind { get; }
                public int Plain { get; set; }
                public Entry(int count) { Count = count; }
            }
            public static partial class Program
            {
                public static Entry E;
                static void Init() { }
                public static string Report() => $"{E.Name} {E.Count} {E.Kind} {E.Plain}";
            }
            """);
        var (host, result) = await StartAndUpdate("DM_AutoProp", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("a 3 k 8", Report(host));
        Assert.Empty(result.DroppedFields);
    }

    [Fact]
    public async Task Update_FieldMovedToBaseClass_KeepsValue()
    {
        var v1 = Program("""
            public class Entry { public string Name; public int Size; }
            public static partial class Program
            {
                public static Entry E;
                static void Init() => E = new Entry { Name = "a", Size = 2 };
            }
            """);
        var v2 = Program("""
            public class Named { public string Name; }
            public class Entry : Named { public int Size; }
            public static partial class Program
            {
                public static Entry E;
                static void Init() { }
                public static string Report() => $"{E.Name} {E.Size}";
            }
            """);
        var (host, result) = await StartAndUpdate("DM_MovedToBase", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("a 2", Report(host));
        Assert.Empty(result.DroppedFields);
    }


    [Fact]
    public async Task Update_FieldRetypedToAnInterfaceOrBaseType_KeepsTheObject()
    {
        var v1 = Program("""
            public class Entry { public string Name; public override string ToString() => Name; }
            public class Holder { public Entry E; public Entry O; public List<Entry> L; }
            public static partial class Program
            {
                public static Holder H;
                static void Init() => H = new Holder { E = new Entry { Name = "e" }, O = new Entry { Name = "o" }, L = new() { new Entry { Name = "l" } } };
            }
            """);
        var v2 = Program("""
            public interface INamed { string Name { get; } }
            public class Entry : INamed { public string Name; string INamed.Name => Name; public override string ToString() => Name; }
            public class Holder { public INamed E; public object O; public IReadOnlyList<Entry> L; }
            public static partial class Program
            {
                public static Holder H;
                static void Init() { }
                public static string Report() => $"{H.E.Name} {H.O} {H.L[0]} {H.L.GetType().Name}";
            }
            """);
        var (host, result) = await StartAndUpdate("DM_Retyped", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("e o l List`1", Report(host));
    }

    [Fact]
    public async Task Update_NewConstructorThrows_ConstructorNeverRunsAndAddedFieldGetsItsInitializer()
    {
        // No constructor runs during a transfer: the added field's initializer is evaluated alone, so a constructor that
        // throws (or counts, or registers) makes no difference to the rebuilt object.
        var v1 = Program("""
            public class Entry { public string Name; }
            public static partial class Program
            {
                public static Entry Current;
                static void Init() => Current = new Entry { Name = "a" };
            }
            """);
        var v2 = Program("""
            public class Entry { public string Name; public int Added = 1; public Entry() => throw new InvalidOperationException("entries need a name"); }
            public static partial class Program
            {
                public static Entry Current;
                static void Init() { }
                public static string Report() => $"v2 {Current.Name} {Current.Added}";
            }
            """);
        var (host, result) = await StartAndUpdate("DM_CtorThrows", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("v2 a 1", Report(host));
        Assert.Empty(result.Warnings);
    }
}
