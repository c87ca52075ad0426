using static Molt.Hosting.Tests.Transfer.TransferTestKit;

namespace Molt.Hosting.Tests.Transfer;

/// <summary>The object graph keeps its shape: an object reached twice is rebuilt once, cycles close, deep structures do not recurse.</summary>
public class IdentityTests
{
    [Fact]
    public async Task Update_ObjectReachedTwice_RebuiltOnce()
    {
        const string Types = """
            public class Entry { public string Name; }
            public class Holder { public Entry Ref; public object AsObject; }
            """;
        var v1 = Program(Types + """
            public static partial class Program
            {
                public static Entry A;
                public static Entry B;
                public static Holder H;
                public static List<Entry> Twice;
                static void Init() { A = new Entry { Name = "shared" }; B = A; H = new Holder { Ref = A, AsObject = A }; Twice = new() { A, A }; }
            }
            """);
        var v2 = Program(Types + """
            public static partial class Program
            {
                public static Entry A;
                public static Entry B;
                public static Holder H;
                public static List<Entry> Twice;
                static void Init() { }
                public static string Report() =>
                    $"{ReferenceEquals(A, B)} {ReferenceEquals(H.Ref, A)} {ReferenceEquals(H.AsObject, A)} {ReferenceEquals(Twice[0], A)} {ReferenceEquals(Twice[1], A)} {A.Name}";
            }
            """);
        var (host, result) = await StartAndUpdate("ID_Shared", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("True True True True True shared", Report(host));
        Assert.Equal(4, result.ObjectsRebuilt); // The entry (once), the holder, the list and its array.
    }

    [Fact]
    public async Task Update_CircularDoublyLinkedList_KeepsItsCycles()
    {
        const string Types = """
            public class Node { public int Value; public Node Prev; public Node Next; }
            """;
        var v1 = Program(Types + """
            public static partial class Program
            {
                public static Node Ring;
                static void Init()
                {
                    Ring = new Node { Value = 0 };
                    Ring.Next = Ring.Prev = Ring;
                    for (var i = 1; i < 10; i++)
                    {
                        var n = new Node { Value = i, Prev = Ring.Prev, Next = Ring };
                        Ring.Prev.Next = n;
                        Ring.Prev = n;
                    }
                }
            }
            """);
        var v2 = Program(Types + """
            public static partial class Program
            {
                public static Node Ring;
                static void Init() { }
                public static string Report()
                {
                    var forward = new List<int>();
                    var n = Ring;
                    do { forward.Add(n.Value); n = n.Next; } while (n != Ring && forward.Count < 100);
                    var back = new List<int>();
                    n = Ring.Prev;
                    do { back.Add(n.Value); n = n.Prev; } while (n != Ring.Prev && back.Count < 100);
                    var consistent = true;
                    n = Ring;
                    do { consistent &= ReferenceEquals(n.Next.Prev, n); n = n.Next; } while (n != Ring);
                    return $"{string.Join(",", forward)} | {string.Join(",", back)} | {consistent}";
                }
            }
            """);
        var (host, result) = await StartAndUpdate("ID_Ring", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("0,1,2,3,4,5,6,7,8,9 | 9,8,7,6,5,4,3,2,1,0 | True", Report(host));
        Assert.Equal(10, result.ObjectsRebuilt);
    }

    [Fact]
    public async Task Update_GraphWithCycles_KeepsItsShape()
    {
        const string Types = """
            public class Vertex { public string Name; public List<Vertex> Edges = new(); public Dictionary<string, Vertex> Named = new(); public Vertex Self; }
            """;
        var v1 = Program(Types + """
            public static partial class Program
            {
                public static Vertex Root;
                static void Init()
                {
                    var a = new Vertex { Name = "a" }; var b = new Vertex { Name = "b" }; var c = new Vertex { Name = "c" };
                    a.Edges.Add(b); b.Edges.Add(c); c.Edges.Add(a); c.Edges.Add(b);
                    a.Self = a; b.Named["back"] = a; c.Named["me"] = c;
                    Root = a;
                }
            }
            """);
        var v2 = Program(Types + """
            public static partial class Program
            {
                public static Vertex Root;
                static void Init() { }
                public static string Report()
                {
                    var a = Root; var b = a.Edges[0]; var c = b.Edges[0];
                    return $"{a.Name}{b.Name}{c.Name} {ReferenceEquals(c.Edges[0], a)} {ReferenceEquals(c.Edges[1], b)} {ReferenceEquals(a.Self, a)} " +
                        $"{ReferenceEquals(b.Named["back"], a)} {ReferenceEquals(c.Named["me"], c)}";
                }
            }
            """);
        var (host, result) = await StartAndUpdate("ID_Graph", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("abc True True True True True", Report(host));
    }

    [Fact]
    public async Task Update_LinkedListOf200000Nodes_TransfersWithoutRecursion()
    {
        const string Types = """
            public class Link { public int Value; public Link Next; }
            """;
        var v1 = Program(Types + """
            public static partial class Program
            {
                public static Link Head;
                static void Init()
                {
                    for (var i = 199_999; i >= 0; i--) Head = new Link { Value = i, Next = Head };
                }
            }
            """);
        var v2 = Program(Types + """
            public static partial class Program
            {
                public static Link Head;
                static void Init() { }
                public static string Report()
                {
                    long count = 0, sum = 0; var ordered = true;
                    for (var n = Head; n != null; n = n.Next) { ordered &= n.Value == count; count++; sum += n.Value; }
                    return $"{count} {sum} {ordered}";
                }
            }
            """);
        var (host, result) = await StartAndUpdate("ID_Long", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal($"200000 {199_999L * 200_000 / 2} True", Report(host));
        Assert.Equal(200_000, result.ObjectsRebuilt);
    }

    [Fact]
    public async Task Update_IdentityKeyedSetAndDictionary_RebuiltSoLookupsWork()
    {
        // Session has no Equals: its hash code is its identity, which the rebuilt object does not share.
        const string Types = """
            public class Session { public int Id; }
            """;
        var v1 = Program(Types + """
            public static partial class Program
            {
                public static List<Session> All = new();
                public static Dictionary<Session, string> Users = new();
                public static HashSet<Session> Active = new();
                public static Dictionary<object, int> ByObject = new();
                static void Init()
                {
                    for (var i = 0; i < 1000; i++)
                    {
                        var s = new Session { Id = i };
                        All.Add(s);
                        Users[s] = "u" + i;
                        if (i % 2 == 0) Active.Add(s);
                        ByObject[s] = i;
                    }
                }
            }
            """);
        var v2 = Program(Types + """
            public static partial class Program
            {
                public static List<Session> All = new();
                public static Dictionary<Session, string> Users = new();
                public static HashSet<Session> Active = new();
                public static Dictionary<object, int> ByObject = new();
                static void Init() { }
                public static string Report()
                {
                    int found = 0, active = 0, byObject = 0;
                    foreach (var s in All)
                    {
                        if (Users.TryGetValue(s, out var u) && u == "u" + s.Id) found++;
                        if (Active.Contains(s)) active++;
                        if (ByObject.TryGetValue(s, out var i) && i == s.Id) byObject++;
                    }
                    return $"{found} {active} {byObject} {Users.ContainsKey(new Session { Id = 1 })}";
                }
            }
            """);
        var (host, result) = await StartAndUpdate("ID_IdentityKeys", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("1000 500 1000 False", Report(host));
    }


    [Fact]
    public async Task Update_ProgramTypesDerivedFromDictionaryAndHashSet_RebuiltSoLookupsWork()
    {
        const string Types = """
            public class Session { public int Id; }
            public class SessionMap : Dictionary<Session, string> { public string Tag; }
            public class SessionSet : HashSet<Session> { public int Limit = 5; }
            public class NameSet : HashSet<string> { public NameSet() : base(StringComparer.OrdinalIgnoreCase) { } }
            """;
        var v1 = Program(Types + """
            public static partial class Program
            {
                public static SessionMap Map = new();
                public static SessionSet Set = new();
                public static NameSet Names = new();
                public static List<Session> All = new();
                static void Init()
                {
                    Map.Tag = "t"; Set.Limit = 100; Names.Add("Ann");
                    for (var i = 0; i < 100; i++) { var s = new Session { Id = i }; All.Add(s); Map[s] = "u" + i; Set.Add(s); }
                }
            }
            """);
        var v2 = Program(Types + """
            public static partial class Program
            {
                public static SessionMap Map = new();
                public static SessionSet Set = new();
                public static NameSet Names = new();
                public static List<Session> All = new();
                static void Init() { }
                public static string Report() =>
                    $"{Map.Tag} {Set.Limit} {All.Count(s => Map.TryGetValue(s, out var v) && v == "u" + s.Id)} {All.Count(Set.Contains)} {Map.Count} {Set.Count} {Names.Contains("ANN")}";
            }
            """);
        var (host, result) = await StartAndUpdate("ID_DerivedCollections", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("t 100 100 100 100 100 True", Report(host));
    }

    [Fact]
    public async Task Update_UnitStateSharedWithAStatic_StaysOneObject()
    {
        var source = TestPrograms.Usings + """
            public class Work { public int Rounds; }
            public static class Program
            {
                public static Work Shared;
                public static Work SeenByUnit;
                public static async Task Main(string[] args)
                {
                    if (!Live.IsUpdating) Shared = new Work { Rounds = 100 };
                    Live.StartUnit("worker", Shared, Run);
                    await Live.RunAsync();
                }
                public static async Task Run(Work w)
                {
                    SeenByUnit = w;
                    for (var i = 0; i < 1_000_000; i++)
                    {
                        await Live.UpdatePointAsync("loop");
                        w.Rounds++;
                        try { await Task.Delay(5, Live.UpdateRequested); } catch (OperationCanceledException) { }
                    }
                }
                public static string Report() => $"{ReferenceEquals(Shared, SeenByUnit)} {Shared.Rounds >= 100} VERSION";
            }
            """;
        var (host, result) = await StartAndUpdate("ID_UnitShared", source.Replace("VERSION", "v1", StringComparison.Ordinal), source.Replace("VERSION", "v2", StringComparison.Ordinal));
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("True True v2", Report(host));
        Assert.Contains("worker (from 'loop')", result.ResumedUnits);
    }
}
