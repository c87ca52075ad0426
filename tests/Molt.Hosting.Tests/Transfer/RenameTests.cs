using static Molt.Hosting.Tests.Transfer.TransferTestKit;

namespace Molt.Hosting.Tests.Transfer;

/// <summary>[RenamedFrom] carries state across a rename of a field, an auto-property, a static or a type.</summary>
public class RenameTests
{
    [Fact]
    public async Task Update_RenamedField_KeepsValue()
    {
        var v1 = Program("""
            public class Entry { public string Name; public int Cnt; }
            public static partial class Program
            {
                public static Entry E;
                static void Init() => E = new Entry { Name = "a", Cnt = 4 };
            }
            """);
        var v2 = Program("""
            public class Entry { public string Name; [RenamedFrom("Cnt")] public int Count; }
            public static partial class Program
            {
                public static Entry E;
                static void Init() { }
                public static string Report() => $"{E.Name} {E.Count}";
            }
            """);
        var (host, result) = await StartAndUpdate("RN_Field", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("a 4", Report(host));
        Assert.Empty(result.DroppedFields);
    }

    [Fact]
    public async Task Update_RenamedAutoProperty_KeepsValue()
    {
        var v1 = Program("""
            public class Entry { public string Title { get; set; } public int Hits { get; private set; } public void Hit() => Hits++; }
            public static partial class Program
            {
                public static Entry E;
                static void Init() { E = new Entry { Title = "t" }; E.Hit(); E.Hit(); }
            }
            """);
        var v2 = Program("""
            public class Entry { [RenamedFrom("Title")] public string Heading { get; set; } [RenamedFrom("Hits")] public long Views { get; private set; } }
            public static partial class Program
            {
                public static Entry E;
                static void Init() { }
                public static string Report() => $"{E.Heading} {E.Views}";
            }
            """);
        var (host, result) = await StartAndUpdate("RN_Prop", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("t 2", Report(host));
        Assert.Empty(result.DroppedFields);
    }

    [Fact]
    public async Task Update_RenamedStaticField_KeepsValue()
    {
        var v1 = Program("""
            public static partial class Program
            {
                public static int requests;
                public static string Motd { get; set; }
                static void Init() { requests = 17; Motd = "hi"; }
            }
            """);
        var v2 = Program("""
            public static partial class Program
            {
                [RenamedFrom("requests")] public static int RequestCount;
                [RenamedFrom("Motd")] public static string Banner { get; set; }
                static void Init() { }
                public static string Report() => $"{RequestCount} {Banner}";
            }
            """);
        var (host, result) = await StartAndUpdate("RN_Static", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("17 hi", Report(host));
        Assert.Empty(result.DroppedFields);
    }

    [Fact]
    public async Task Update_RenamedClass_KeepsObjectsAndStatics()
    {
        var v1 = Program("""
            namespace Shop
            {
                public class Customer { public string Name; public Customer Referrer; public static int Created; }
                public class Outer { public class Inner { public int N; } }
            }
            public static partial class Program
            {
                public static List<Shop.Customer> Customers = new();
                public static Shop.Customer Vip;
                public static Shop.Outer.Inner In;
                static void Init()
                {
                    Customers.Add(new Shop.Customer { Name = "ann" });
                    Customers.Add(new Shop.Customer { Name = "bob", Referrer = Customers[0] });
                    Vip = Customers[1];
                    Shop.Customer.Created = 2;
                    In = new Shop.Outer.Inner { N = 3 };
                }
            }
            """);
        var v2 = Program("""
            namespace Shop
            {
                [RenamedFrom("Shop.Customer")] public class Client { public string Name; public Client Referrer; public static int Created; }
                public class Outer { [RenamedFrom("Shop.Outer+Inner")] public class Nested { public int N; } }
            }
            public static partial class Program
            {
                public static List<Shop.Client> Customers = new();
                public static Shop.Client Vip;
                public static Shop.Outer.Nested In;
                static void Init() { }
                public static string Report() =>
                    $"{string.Join(",", Customers.Select(c => c.Name))} {ReferenceEquals(Vip, Customers[1])} {ReferenceEquals(Vip.Referrer, Customers[0])} {Shop.Client.Created} {In.N}";
            }
            """);
        var (host, result) = await StartAndUpdate("RN_Class", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("ann,bob True True 2 3", Report(host));
        Assert.Empty(result.DroppedFields);
    }

    [Fact]
    public async Task Rollback_AfterRenames_ReadsTheRenamesBackwards()
    {
        // v2 renames a field, an auto-property and a type; v1 cannot know of that. Going back to v1, the values
        // must land in v1's fields of the former names, not be dropped while v1's fields keep their initial values.
        var v1 = Program("""
            public class Entry { public string Name; public long ExpiresAt = -1; public int Hits { get; set; } }
            public class Box { public int Size; }
            public static partial class Program
            {
                public static Entry E;
                public static Box B;
                static void Init() => (E, B) = (new Entry { Name = "a", ExpiresAt = 5, Hits = 3 }, new Box { Size = 8 });
                public static string Report() => $"{E.Name} {E.ExpiresAt} {E.Hits} {B.Size}";
            }
            """);
        var v2 = Program("""
            public class Entry { public string Name; [RenamedFrom("ExpiresAt")] public long Deadline = -1; [RenamedFrom("Hits")] public int Count { get; set; } public int Added = 1; }
            [RenamedFrom("Box")] public class Crate { public int Size; }
            public static partial class Program
            {
                public static Entry E;
                [RenamedFrom("B")] public static Crate C;
                static void Init() { }
                public static void Change() { E.Deadline = 6; E.Count = 4; C.Size = 9; }
                public static string Report() => $"{E.Name} {E.Deadline} {E.Count} {C.Size}";
            }
            """);
        var (host, result) = await StartAndUpdate("RN_Back", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("a 5 3 8", Report(host));
        Report(host, "Change");

        var back = await host.RollbackAsync();

        AssertCommitted(back);
        Assert.Equal("a 6 4 9", Report(host));
        Assert.Equal(["Entry.Added"], back.DroppedFields);
    }

    [Fact]
    public async Task Update_RenamedFromLeftInPlace_InTheNextVersionAndBack_KeepsValues()
    {
        // v2 renamed ExpiresAt to Deadline and Box to Crate; v3 keeps the attributes, as code does. From v2 to v3 and
        // back, the old version has no field ExpiresAt and no type Box: the field and type of the same name are the ones.
        var v2 = Program("""
            public class Entry { [RenamedFrom("ExpiresAt")] public long Deadline = -1; }
            [RenamedFrom("Box")] public class Crate { public int Size; }
            public static partial class Program
            {
                public static Entry E;
                public static Crate C;
                static void Init() => (E, C) = (new Entry { Deadline = 7 }, new Crate { Size = 8 });
                public static string Report() => $"{E.Deadline} {C.Size}";
            }
            """);
        var v3 = Program("""
            public class Entry { [RenamedFrom("ExpiresAt")] public long Deadline = -1; public int Hits = 1; }
            [RenamedFrom("Box")] public class Crate { public int Size; }
            public static partial class Program
            {
                public static Entry E;
                public static Crate C;
                static void Init() { }
                public static string Report() => $"{E.Deadline} {C.Size} {E.Hits}";
            }
            """);
        var (host, result) = await StartAndUpdate("RN_Kept", v2, v3);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("7 8 1", Report(host));
        Assert.Empty(result.DroppedFields);

        var back = await host.RollbackAsync();

        AssertCommitted(back);
        Assert.Equal("7 8", Report(host));
        Assert.Equal(["Entry.Hits"], back.DroppedFields);
    }
}
