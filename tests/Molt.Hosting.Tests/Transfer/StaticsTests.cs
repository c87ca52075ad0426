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

    [Fact]
    public async Task Update_StaticsOfARemovedType_ListedInDroppedFields()
    {
        var v1 = Program("""
            public static class Cache { public static int Hits; public static Dictionary<string, string> Items = new(); }
            public static partial class Program
            {
                public static int Kept;
                static void Init() { Cache.Hits = 3; Kept = 1; }
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
        var (host, result) = await StartAndUpdate("ST_RemovedType", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("1", Report(host));
        Assert.Contains("static Cache.Hits", result.DroppedFields);
        Assert.Contains("static Cache.Items", result.DroppedFields);
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
