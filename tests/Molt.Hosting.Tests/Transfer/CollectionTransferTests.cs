using static Molt.Hosting.Tests.Transfer.TransferTestKit;

namespace Molt.Hosting.Tests.Transfer;

/// <summary>Framework collections and generics over the program's types are rebuilt over the new version's types.</summary>
public class CollectionTransferTests
{
    private const string Entry = """
        public class Entry { public string Name; public int N; public Entry() { } public Entry(string name, int n) { Name = name; N = n; } public override string ToString() => Name + N; }
        """;

    /// <summary>A program whose Program class has the given statics, Init body (v1) and Report body (v2).</summary>
    private static (string V1, string V2) Versions(string types, string statics, string init, string report) => (
        Program(types + $$"""
            public static partial class Program
            {
                {{statics}}
                static void Init() { {{init}} }
            }
            """),
        Program(types + $$"""
            public static partial class Program
            {
                {{statics}}
                static void Init() { }
                public static string Report() => {{report}};
            }
            """));

    private static async Task<string?> UpdateAndReport(string name, (string V1, string V2) versions)
    {
        var (host, result) = await StartAndUpdate(name, versions.V1, versions.V2);
        await using var _ = host;
        AssertCommitted(result);
        return Report(host);
    }

    [Fact]
    public async Task Update_ListOfEntries_RebuiltInOrder()
    {
        var report = await UpdateAndReport("CT_List", Versions(Entry,
            "public static List<Entry> Items = new();",
            """Items.Add(new Entry("a", 1)); Items.Add(null); Items.Add(new Entry("c", 3)); Items.RemoveAt(1);""",
            """$"{string.Join(",", Items)} {Items.Count} {Items.Capacity >= 2} {Items.GetType().GetGenericArguments()[0].Assembly == typeof(Program).Assembly}" """));
        Assert.Equal("a1,c3 2 True True", report);
    }

    [Fact]
    public async Task Update_DictionaryOfStringToEntry_RebuiltWithLookups()
    {
        var report = await UpdateAndReport("CT_Dict", Versions(Entry,
            "public static Dictionary<string, Entry> ByName = new(StringComparer.OrdinalIgnoreCase);",
            """for (var i = 0; i < 100; i++) ByName["k" + i] = new Entry("k" + i, i); ByName.Remove("k50");""",
            """$"{ByName.Count} {ByName["K7"]} {ByName.ContainsKey("k50")} {ByName.Comparer == StringComparer.OrdinalIgnoreCase} {ByName.Values.Sum(e => e.N)}" """));
        Assert.Equal($"99 k77 False True {Enumerable.Range(0, 100).Sum() - 50}", report);
    }

    [Fact]
    public async Task Update_DictionaryKeyedByEntry_UsesTheNewEqualsAndGetHashCode()
    {
        // v1's Key has identity equality; v2's compares by Id (and hashes differently): lookups by value work after the update.
        var v1 = Program("""
            public class Key { public int Id; public string Label; }
            public static partial class Program
            {
                public static Dictionary<Key, string> Names = new();
                static void Init() { for (var i = 0; i < 20; i++) Names[new Key { Id = i, Label = "l" + i }] = "n" + i; }
            }
            """);
        var v2 = Program("""
            public class Key
            {
                public int Id; public string Label;
                public override bool Equals(object o) => o is Key k && k.Id == Id;
                public override int GetHashCode() => Id * 7919;
            }
            public static partial class Program
            {
                public static Dictionary<Key, string> Names = new();
                static void Init() { }
                public static string Report() => $"{Names.Count} {Names[new Key { Id = 3 }]} {Names[new Key { Id = 19 }]} {Names.ContainsKey(new Key { Id = 20 })} {Names.Keys.Single(k => k.Id == 5).Label}";
            }
            """);
        var (host, result) = await StartAndUpdate("CT_DictKey", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("20 n3 n19 False l5", Report(host));
    }

    [Fact]
    public async Task Update_KeysEqualInTheNewVersion_RollsBack()
    {
        var v1 = Program("""
            public class Key { public int Id; }
            public static partial class Program
            {
                public static HashSet<Key> Keys = new();
                static void Init() { Keys.Add(new Key { Id = 1 }); Keys.Add(new Key { Id = 1 }); }
                public static string Report() => $"v1 {Keys.Count}";
            }
            """);
        var v2 = Program("""
            public class Key { public int Id; public override bool Equals(object o) => o is Key k && k.Id == Id; public override int GetHashCode() => Id; }
            public static partial class Program
            {
                public static HashSet<Key> Keys = new();
                static void Init() { }
                public static string Report() => $"v2 {Keys.Count}";
            }
            """);
        var (host, result) = await StartAndUpdate("CT_KeyClash", v1, v2);
        await using var _ = host;
        var failure = AssertRolledBack(host, result, UpdatePhase.Transfer);
        Assert.Contains("equal in the new version", failure.Message, StringComparison.Ordinal);
        Assert.Contains("static Program.Keys", failure.StatePath, StringComparison.Ordinal);
        Assert.Equal("v1 2", Report(host));
    }

    [Fact]
    public async Task Update_HashSetOfRecords_RebuiltWithValueLookups()
    {
        var report = await UpdateAndReport("CT_Set", Versions("public record Tag(string Name, int Weight);",
            "public static HashSet<Tag> Tags = new();",
            """Tags.Add(new Tag("a", 1)); Tags.Add(new Tag("b", 2)); Tags.Add(new Tag("a", 1));""",
            """$"{Tags.Count} {Tags.Contains(new Tag("a", 1))} {Tags.Contains(new Tag("b", 2))} {Tags.Contains(new Tag("b", 3))}" """));
        Assert.Equal("2 True True False", report);
    }

    [Fact]
    public async Task Update_ArraysOfEntries_Rebuilt()
    {
        var report = await UpdateAndReport("CT_Array", Versions(Entry + "public struct P { public Entry E; public int X; }",
            "public static Entry[] Items; public static Entry[][] Jagged; public static Entry[,] Grid; public static P[] Ps;",
            """
            Items = new[] { new Entry("a", 1), null, new Entry("c", 3) };
            Jagged = new[] { Items, new[] { Items[0] } };
            Grid = new Entry[2, 2]; Grid[1, 0] = new Entry("g", 10);
            Ps = new[] { new P { E = Items[2], X = 5 } };
            """,
            """$"{Items.Length} {Items[0]} {Items[1] == null} {Items[2]} {ReferenceEquals(Jagged[0], Items)} {ReferenceEquals(Jagged[1][0], Items[0])} {Grid[1, 0]} {Grid[0, 0] == null} {ReferenceEquals(Ps[0].E, Items[2])} {Ps[0].X}" """));
        Assert.Equal("3 a1 True c3 True True g10 True True 5", report);
    }

    [Fact]
    public async Task Update_QueueStackLinkedListAndSortedDictionary_RebuiltInOrder()
    {
        var report = await UpdateAndReport("CT_Queue", Versions(Entry,
            "public static Queue<Entry> Q = new(); public static Stack<Entry> S = new(); public static LinkedList<Entry> L = new(); public static SortedDictionary<string, Entry> Sorted = new(StringComparer.Ordinal);",
            """
            for (var i = 0; i < 5; i++) Q.Enqueue(new Entry("q", i));
            Q.Dequeue(); Q.Enqueue(new Entry("q", 9));
            S.Push(new Entry("s", 1)); S.Push(new Entry("s", 2));
            L.AddLast(new Entry("l", 1)); L.AddFirst(new Entry("l", 0)); L.AddLast(new Entry("l", 2));
            Sorted["b"] = new Entry("b", 2); Sorted["a"] = new Entry("a", 1);
            """,
            """$"{string.Join(",", Q)} {Q.Dequeue()} {string.Join(",", S)} {string.Join(",", L)} {L.Last.Previous.Value} {string.Join(",", Sorted.Keys)} {Sorted["a"]}" """));
        Assert.Equal("q1,q2,q3,q4,q9 q1 s2,s1 l0,l1,l2 l1 a,b a1", report);
    }

    [Fact]
    public async Task Update_NestedGenerics_Rebuilt()
    {
        var report = await UpdateAndReport("CT_Nested", Versions(Entry,
            "public static Dictionary<string, List<Entry>> Groups = new(); public static List<Dictionary<int, Entry[]>> Deep = new();",
            """
            Groups["x"] = new() { new Entry("x", 1), new Entry("x", 2) };
            Groups["y"] = new() { Groups["x"][0] };
            Deep.Add(new() { [1] = new[] { Groups["x"][1] } });
            """,
            """$"{string.Join(",", Groups["x"])} {ReferenceEquals(Groups["y"][0], Groups["x"][0])} {ReferenceEquals(Deep[0][1][0], Groups["x"][1])}" """));
        Assert.Equal("x1,x2 True True", report);
    }

    [Fact]
    public async Task Update_KeyValuePairsAndValueTuples_Rebuilt()
    {
        var report = await UpdateAndReport("CT_Tuples", Versions(Entry,
            "public static List<KeyValuePair<string, Entry>> Pairs = new(); public static (Entry First, int Count) Tuple; public static (Entry, Entry) Both; public static Dictionary<(string, int), Entry> ByTuple = new();",
            """
            var e = new Entry("e", 1);
            Pairs.Add(new("k", e));
            Tuple = (e, 3);
            Both = (e, new Entry("f", 2));
            ByTuple[("t", 1)] = e;
            """,
            """$"{Pairs[0].Key}{Pairs[0].Value} {Tuple.First}{Tuple.Count} {ReferenceEquals(Both.Item1, Tuple.First)} {Both.Item2} {ReferenceEquals(ByTuple[("t", 1)], Pairs[0].Value)}" """));
        Assert.Equal("ke1 e13 True f2 True", report);
    }

    [Fact]
    public async Task Update_ProgramGenericType_Rebuilt()
    {
        const string Types = Entry + """
            public class Node<T> { public T Value; public Node<T> Next; }
            public struct Slot<T> where T : class { public T Item; public int Version; }
            """;
        var report = await UpdateAndReport("CT_Generic", Versions(Types,
            "public static Node<Entry> Head; public static Node<int> Numbers; public static Slot<Entry> S; public static List<Node<string>> Strings = new();",
            """
            Head = new Node<Entry> { Value = new Entry("h", 1), Next = new Node<Entry> { Value = new Entry("t", 2) } };
            Numbers = new Node<int> { Value = 7 };
            S = new Slot<Entry> { Item = Head.Value, Version = 4 };
            Strings.Add(new Node<string> { Value = "s" });
            """,
            """$"{Head.Value} {Head.Next.Value} {Head.Next.Next == null} {Numbers.Value} {ReferenceEquals(S.Item, Head.Value)} {S.Version} {Strings[0].Value}" """));
        Assert.Equal("h1 t2 True 7 True 4 s", report);
    }


    [Fact]
    public async Task Update_DictionaryWithAProgramComparer_RebuiltWithTheNewComparer()
    {
        const string Types = Entry + """
            public class ByName : IEqualityComparer<Entry> { public int Salt; public bool Equals(Entry a, Entry b) => a.Name == b.Name; public int GetHashCode(Entry e) => e.Name.GetHashCode() ^ Salt; }
            """;
        var report = await UpdateAndReport("CT_Comparer", Versions(Types,
            "public static Dictionary<Entry, int> D;",
            """D = new(new ByName { Salt = 3 }); D[new Entry("a", 1)] = 1; D[new Entry("b", 2)] = 2;""",
            """$"{D[new Entry("b", 0)]} {D.Count} {((ByName)D.Comparer).Salt} {D.Comparer.GetType().Assembly == typeof(Program).Assembly}" """));
        Assert.Equal("2 2 3 True", report);
    }

    [Fact]
    public async Task Update_ConcurrentCollections_Rebuilt()
    {
        var report = await UpdateAndReport("CT_Concurrent", Versions(Entry + "public class Session { public int Id; }",
            """
            public static System.Collections.Concurrent.ConcurrentDictionary<string, Entry> ByName = new();
            public static System.Collections.Concurrent.ConcurrentDictionary<Session, int> BySession = new();
            public static System.Collections.Concurrent.ConcurrentQueue<Entry> Queue = new();
            public static List<Session> All = new();
            """,
            """
            ByName["a"] = new Entry("a", 1);
            for (var i = 0; i < 50; i++) { var s = new Session { Id = i }; All.Add(s); BySession[s] = i; }
            Queue.Enqueue(new Entry("q", 1)); Queue.Enqueue(ByName["a"]);
            """,
            """$"{ByName["a"]} {All.Count(s => BySession.TryGetValue(s, out var v) && v == s.Id)} {string.Join(",", Queue)} {ReferenceEquals(Queue.Last(), ByName["a"])}" """));
        Assert.Equal("a1 50 q1,a1 True", report);
    }

    [Fact]
    public async Task Update_ReadOnlyAndImmutableCollectionsOfEntries_Rebuilt()
    {
        var report = await UpdateAndReport("CT_ReadOnly", Versions(Entry,
            """
            public static Dictionary<string, Entry> Inner = new();
            public static IReadOnlyDictionary<string, Entry> View;
            public static IReadOnlyList<Entry> List;
            public static System.Collections.Immutable.ImmutableDictionary<string, Entry> Frozen;
            public static System.Collections.Immutable.ImmutableList<Entry> FrozenList;
            """,
            """
            Inner["a"] = new Entry("a", 1);
            View = new System.Collections.ObjectModel.ReadOnlyDictionary<string, Entry>(Inner);
            List = new List<Entry> { Inner["a"] }.AsReadOnly();
            Frozen = System.Collections.Immutable.ImmutableDictionary<string, Entry>.Empty.Add("f", new Entry("f", 2)).Add("a", Inner["a"]);
            FrozenList = System.Collections.Immutable.ImmutableList.Create(new Entry("l", 3), Inner["a"]);
            """,
            """$"{View["a"]} {ReferenceEquals(View["a"], List[0])} {Frozen["f"]} {ReferenceEquals(Frozen["a"], Inner["a"])} {string.Join(",", FrozenList)} {Inner.TryAdd("b", null) && View.ContainsKey("b")}" """));
        Assert.Equal("a1 True f2 True l3,a1 True", report);
    }

    [Fact]
    public async Task Update_ImmutableSetOfProgramObjects_RebuiltUnderTheNewHashCodes()
    {
        // Its buckets hold the old hash codes (identity hash codes here): it is built again through the new type's builder.
        var source = """
            public class Session { public int Id; }
            public static partial class Program
            {
                public static System.Collections.Immutable.ImmutableHashSet<Session> Active;
                public static Session First;
                static void Init() { First = new Session { Id = 1 }; Active = System.Collections.Immutable.ImmutableHashSet.Create(First, new Session { Id = 2 }); }
                public static string Report() => $"VERSION {Active.Count} {Active.Contains(First)} {Active.Sum(s => s.Id)}";
            }
            """;
        var (host, result) = await StartAndUpdate("CT_ImmutableSet", Program(source.Replace("VERSION", "v1", StringComparison.Ordinal)),
            Program(source.Replace("VERSION", "v2", StringComparison.Ordinal)));
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("v2 2 True 3", Report(host));
    }
}
