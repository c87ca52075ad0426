using static Molt.Hosting.Tests.Transfer.TransferTestKit;

namespace Molt.Hosting.Tests.Transfer;

/// <summary>Every static field of the program is migrated, readonly ones included, unless the new version opts it out.</summary>
public class StaticsTests
{
    [Fact]
    public async Task Update_StaticReadonlyFields_Migrated()
    {
        const string Types = """
            public class Entry { public string Name; }
            public static class Registry
            {
                public static readonly Guid InstanceId = Guid.NewGuid();
                public static readonly int Seed = Environment.TickCount & 0xFFFF;
                public static readonly List<Entry> Entries = new();
                public static readonly Entry Default = new Entry { Name = "VERSION default" };
            }
            """;
        var v1 = Program(Types.Replace("VERSION", "v1", StringComparison.Ordinal) + """
            public static partial class Program
            {
                static void Init() { Registry.Entries.Add(new Entry { Name = "e1" }); Registry.Entries.Add(Registry.Default); }
                public static string Report() => $"{Registry.InstanceId} {Registry.Seed} {string.Join(",", Registry.Entries.Select(e => e.Name))} {Registry.Default.Name} {ReferenceEquals(Registry.Entries[1], Registry.Default)}";
            }
            """);
        var v2 = Program(Types.Replace("VERSION", "v2", StringComparison.Ordinal) + """
            public static partial class Program
            {
                static void Init() { }
                public static string Report() => $"{Registry.InstanceId} {Registry.Seed} {string.Join(",", Registry.Entries.Select(e => e.Name))} {Registry.Default.Name} {ReferenceEquals(Registry.Entries[1], Registry.Default)}";
            }
            """);
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("ST_Readonly", "v1", v1));
        var before = Report(host);

        var result = await host.UpdateAsync(TestPrograms.Build("ST_Readonly", "v2", v2));

        AssertCommitted(result);
        Assert.EndsWith("e1,v1 default v1 default True", before, StringComparison.Ordinal);
        Assert.Equal(before, Report(host));
        Assert.Equal(4, result.StaticsMigrated);
    }

    [Fact]
    public async Task Update_NotMigratedStatics_KeepTheNewInitializers()
    {
        var v1 = Program("""
            public static partial class Program
            {
                public static string Banner = "v1 banner";
                public static string BuildLabel { get; set; } = "v1 build";
                public static int Kept;
                static void Init() { Banner = "changed"; BuildLabel = "changed"; Kept = 9; }
            }
            """);
        var v2 = Program("""
            public static partial class Program
            {
                [NotMigrated] public static string Banner = "v2 banner";
                [NotMigrated] public static string BuildLabel { get; set; } = "v2 build";
                public static int Kept;
                static void Init() { }
                public static string Report() => $"{Banner} | {BuildLabel} | {Kept}";
            }
            """);
        var (host, result) = await StartAndUpdate("ST_NotMigrated", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("v2 banner | v2 build | 9", Report(host));
        Assert.DoesNotContain(result.DroppedFields, f => f.Contains("Banner", StringComparison.Ordinal) || f.Contains("BuildLabel", StringComparison.Ordinal));
    }

    // A removed type takes its statics with it; a removed generic type, the statics of each instantiation the code named.
    [Theory]
    [InlineData("Cache", "Cache.Hits = 3;", new[] { "static Cache.Hits", "static Cache.Items" })]
    [InlineData("Pool", "Pool<int>.Rented = 3;", new[] { "static Pool<System.Int32>.Rented", "static Pool<System.Int32>.Items" })]
    public async Task Update_StaticsOfARemovedType_ListedInDroppedFields(string type, string init, string[] dropped)
    {
        var types = type == "Cache" ? "public static class Cache { public static int Hits; public static Dictionary<string, string> Items = new(); }" : GenericPool;
        var v1 = Program(types + $$"""

            public static partial class Program
            {
                public static int Kept;
                static void Init() { {{init}} Kept = 1; }
            }
            """);
        var v2 = Program("""
            public static partial class Program
            {
                public static int Kept;
                static void Init() { }
                public static string Report() => $"{Kept}";
            }
            """);
        var (host, result) = await StartAndUpdate($"ST_Removed{type}", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("1", Report(host));
        Assert.All(dropped, d => Assert.Contains(d, result.DroppedFields));
    }

    // A generic type's statics belong to each instantiation: Pool<int> and Pool<Entry> hold state of their own.
    private const string GenericPool = """
        public class Entry { public string Name; }
        public static class Pool<T> { public static List<T> Items = new(); public static int Rented; }
        public class Counter<T> { public static long Count; }
        """;

    [Fact]
    public async Task Update_StaticsOfGenericInstantiationsTheCodeNames_Migrated()
    {
        var v1 = Program(GenericPool + """
            public static partial class Program
            {
                static void Init() { Pool<int>.Items.Add(7); Pool<int>.Rented = 2; Pool<Entry>.Items.Add(new Entry { Name = "e1" }); Counter<string>.Count = 5; }
                public static string Report() => $"{string.Join(",", Pool<int>.Items)} {Pool<int>.Rented} {string.Join(",", Pool<Entry>.Items.Select(e => e.Name))} {Counter<string>.Count}";
            }
            """);
        var v2 = Program(GenericPool.Replace("public string Name;", "public string Name; public int Uses = 1;", StringComparison.Ordinal) + """
            public static partial class Program
            {
                static void Init() { }
                public static string Report() => $"{string.Join(",", Pool<int>.Items)} {Pool<int>.Rented} {string.Join(",", Pool<Entry>.Items.Select(e => $"{e.Name}:{e.Uses}"))} {Counter<string>.Count} {Counter<long>.Count}";
            }
            """);
        var (host, result) = await StartAndUpdate("ST_Generic", v1, v2);
        await using var _ = host;

        AssertCommitted(result);
        // Pool<Entry>'s entry was rebuilt as v2's Entry (its new field initialized); Counter<long>, new in v2, starts at 0.
        Assert.Equal("7 2 e1:1 5 0", Report(host));
    }

    // Pool<Entry>, Registry<Entry[]>, Pool<Entry[]> and Pool<string> appear only inside generic code, over its type
    // parameters: in the generic type Cache<T> (as Cache<Entry>), and in the generic methods Store.Put<T>, Count<T> and
    // Join<T> (as Put<string>, Put<Entry[]>, Count<Entry[]> and Join<string>).
    private const string GenericInside = """
        public class Entry { public string Name; }
        public static class Pool<T> { public static List<T> Items = new(); }
        public static class Registry<T> { public static int Count; public static void Touch() => Count++; }
        public static class Store
        {
            public static void Put<T>(T item) => Pool<T>.Items.Add(item);
            public static int Count<T>() => Pool<T>.Items.Count;
            public static string Join<T>() => string.Join(",", Pool<T>.Items);
        }
        public class Cache<T>
        {
            public void Add(T item, string label) { Pool<T>.Items.Add(item); Registry<T[]>.Touch(); Store.Put(label); Store.Put(new[] { item }); }
            public static string Names(Func<T, string> name) => string.Join(",", Pool<T>.Items.Select(name)) + " " + Registry<T[]>.Count + " " + Store.Count<T[]>();
        }
        """;

    [Fact]
    public async Task Update_StaticsOfGenericInstantiationsFormedInsideGenericCode_Migrated()
    {
        var v1 = Program(GenericInside + """
            public static partial class Program
            {
                static void Init() { var cache = new Cache<Entry>(); cache.Add(new Entry { Name = "a" }, "x"); cache.Add(new Entry { Name = "b" }, "y"); }
                public static string Report() => Cache<Entry>.Names(e => e.Name) + " " + Store.Join<string>();
            }
            """);
        var v2 = Program(GenericInside + """
            public static partial class Program
            {
                static void Init() { }
                public static string Report() => Cache<Entry>.Names(e => e.Name) + " " + Store.Join<string>();
            }
            """);
        var (host, result) = await StartAndUpdate("ST_GenericInside", v1, v2);
        await using var _ = host;

        AssertCommitted(result);
        Assert.Equal("a,b 2 2 x,y", Report(host));
    }

    [Fact]
    public async Task Update_StaticAutoProperties_Migrated()
    {
        const string Types = """
            public class Entry { public string Name; }
            namespace App { public class Settings { public static int Port { get; set; } public static Entry Current { get; private set; } public static void Set(Entry e) => Current = e; } }
            """;
        var v1 = Program(Types + """
            public static partial class Program
            {
                public static int Count { get; set; }
                public static List<Entry> Recent { get; } = new();
                static void Init() { Count = 4; Recent.Add(new Entry { Name = "r" }); App.Settings.Port = 8080; App.Settings.Set(Recent[0]); }
            }
            """);
        var v2 = Program(Types + """
            public static partial class Program
            {
                public static int Count { get; set; }
                public static List<Entry> Recent { get; } = new();
                static void Init() { }
                public static string Report() => $"{Count} {Recent[0].Name} {App.Settings.Port} {ReferenceEquals(App.Settings.Current, Recent[0])}";
            }
            """);
        var (host, result) = await StartAndUpdate("ST_AutoProps", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("4 r 8080 True", Report(host));
    }

    [Fact]
    public async Task Update_StaticsOfNestedTypesAndStructs_Migrated()
    {
        const string Types = """
            public class Outer { public static class Inner { public static string Value; } }
            public struct Settings { public static int Level; public int Instance; }
            """;
        var v1 = Program(Types + """
            public static partial class Program
            {
                static void Init() { Outer.Inner.Value = "inner"; Settings.Level = 3; }
            }
            """);
        var v2 = Program(Types + """
            public static partial class Program
            {
                static void Init() { }
                public static string Report() => $"{Outer.Inner.Value} {Settings.Level}";
            }
            """);
        var (host, result) = await StartAndUpdate("ST_Nested", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("inner 3", Report(host));
    }
}
