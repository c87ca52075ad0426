using System.Diagnostics;
using Molt.Hosting.Loading;
using Molt.Hosting.Transfer;
using Molt.Hosting.Transfer.Stream;
using Xunit;
using Xunit.Abstractions;
using static Molt.Hosting.Tests.Transfer.TransferTestKit;

namespace Molt.Hosting.Tests.Transfer.Stream;

/// <summary>
/// Issue 11's state stream, in one process: the update writes the quiesced old state to a stream, reads it into the old
/// version loaded anew, and transfers from those objects (<see cref="UpdateOptions.ThroughStream"/>).
/// </summary>
public class StateStreamTests(ITestOutputHelper output)
{
    private static readonly UpdateOptions ThroughStream = new() { ThroughStream = true };

    private const string EveryKind = """
        using System.Collections.Concurrent;
        public enum Color { Red, Green = 5 }
        public struct Point { public int X; public double Y; public string Label; }
        public class Node { public string Name; public Node Next; }
        public class Key
        {
            public int Id; public string S;
            public override int GetHashCode() => Id;
            public override bool Equals(object o) => o is Key k && k.Id == Id && k.S == S;
        }
        public class Entry { public string Name; public int Count; public DateTime When; public Guid G; public decimal D; public Color C; public int? Maybe; public int? None; }
        public class Box<T> { public static T Shared; public static int Count; }
        public class Names : Dictionary<string, int> { public string Title; public Names() : base(StringComparer.OrdinalIgnoreCase) { } }
        public static partial class Program
        {
            public static int I; public static long L; public static double D; public static bool B; public static char Ch;
            public static string S; public static string Empty; public static string Null;
            public static int[] Ints; public static string[] Strings; public static object[] Mixed; public static Point[] Points; public static Point P; public static Color C;
            public static List<Entry> Entries; public static Dictionary<string, byte[]> Blobs; public static Dictionary<Key, Entry> ByKey; public static HashSet<string> Set;
            public static Node Ring; public static Entry SharedA, SharedB; public static Dictionary<string, int> Ci; public static SortedDictionary<string, int> Sorted;
            public static ConcurrentDictionary<int, string> Conc; public static SortedSet<int> SortedInts; public static Type T; public static object Boxed; public static Names Derived;
            public static void Init()
            {
                I = -7; L = long.MaxValue; D = 3.25; B = true; Ch = 'é'; S = "héllo"; Empty = "";
                Ints = [1, 2, 3]; Strings = ["a", null, "c"]; Points = [new Point { X = 1, Y = 2.5, Label = "p" }];
                P = new Point { X = 9, Label = "nine" }; C = Color.Green;
                var e = new Entry { Name = "e", Count = 4, When = new DateTime(2026, 11, 30, 1, 2, 3, DateTimeKind.Utc), G = new Guid("0f8fad5b-d9cb-469f-a165-70867728950e"), D = 1.5m, C = Color.Green, Maybe = 3 };
                Entries = [e, e, new Entry { Name = "f" }];
                SharedA = e; SharedB = e;
                Mixed = [1, "two", e, Color.Red, 2.5, null];
                Blobs = new() { ["x"] = [1, 2], ["y"] = [] };
                ByKey = new() { [new Key { Id = 1, S = "a" }] = e, [new Key { Id = 2, S = "b" }] = Entries[2] };
                Set = ["p", "q"];
                Ring = new Node { Name = "r1" }; Ring.Next = new Node { Name = "r2", Next = Ring };
                Ci = new(StringComparer.OrdinalIgnoreCase) { ["Hello"] = 1 };
                Sorted = new() { ["b"] = 2, ["a"] = 1 };
                Conc = new(); Conc[5] = "five";
                SortedInts = [3, 1, 2];
                T = typeof(Entry); Boxed = 42;
                Box<Entry>.Shared = e; Box<Entry>.Count = 2; Box<string>.Shared = "s"; Box<string>.Count = 1;
                Derived = new Names { Title = "names" }; Derived["ABC"] = 3;
            }
            public static string Report() =>
                $"{I} {L} {D} {B} {Ch} {S} [{Empty}] {Null is null} {string.Join(",", Ints)} {string.Join(",", Strings.Select(s => s ?? "-"))} " +
                $"{string.Join(",", Mixed.Select(m => m?.ToString() ?? "-"))} {Points[0].X}/{Points[0].Y}/{Points[0].Label} {P.X}/{P.Label} {C} | " +
                $"{string.Join(",", Entries.Select(x => $"{x.Name}:{x.Count}:{x.When:o}:{x.G}:{x.D}:{x.C}:{x.Maybe}:{x.None is null}"))} " +
                $"shared={ReferenceEquals(Entries[0], Entries[1]) && ReferenceEquals(SharedA, SharedB) && ReferenceEquals(SharedA, Entries[0]) && ReferenceEquals(Mixed[2], SharedA)} | " +
                $"{string.Join(",", Blobs.Select(b => $"{b.Key}={string.Join(".", b.Value)}"))} byKey={ByKey[new Key { Id = 1, S = "a" }].Name}{ByKey[new Key { Id = 2, S = "b" }].Name} " +
                $"set={Set.Contains("p")}{Set.Contains("q")}{Set.Count} ring={ReferenceEquals(Ring.Next.Next, Ring)}{Ring.Next.Name} " +
                $"ci={Ci["HELLO"]}{ReferenceEquals(Ci.Comparer, StringComparer.OrdinalIgnoreCase)} sorted={string.Join(",", Sorted.Keys)} conc={Conc[5]} " +
                $"sortedInts={string.Join(",", SortedInts)} T={T.Name}{T == typeof(Entry)} boxed={Boxed} " +
                $"box={Box<Entry>.Shared?.Name}{ReferenceEquals(Box<Entry>.Shared, SharedA)}{Box<Entry>.Count}{Box<string>.Shared}{Box<string>.Count} " +
                $"derived={Derived.Title}{Derived["abc"]}{Derived.Count}";
        }

        """;

    [Fact]
    public async Task EveryKindOfState_RoundTrips_ThroughTheStream()
    {
        var v1 = Program(EveryKind, ticker: true);
        var v2 = Program(EveryKind + "public static partial class Program { public static int V2; }\n", ticker: true);
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("stream-kinds", "v1", v1));
        var before = Report(host);
        await AssertStillTicking(host);
        var result = await host.UpdateAsync(TestPrograms.Build("stream-kinds", "v2", v2), ThroughStream);
        AssertCommitted(result);
        Assert.Equal(before, Report(host));
        Assert.True(result.StreamBytes > 0);
        Assert.True(result.StreamContextUnloaded, "the re-loaded old version was not collected: " + string.Join("; ", result.Warnings));
        // The unit's state crossed too: the ticker goes on counting from where it was.
        await AssertStillTicking(host);
        output.WriteLine($"{before}\nstream: {result.StreamBytes} bytes, write {result.StreamWriteTime.TotalMilliseconds:0.0} ms, read {result.StreamReadTime.TotalMilliseconds:0.0} ms");
    }

    private const string RawAndText = """
        public enum Small : byte { A = 1, B = 200 }
        public enum Big : long { X = long.MinValue, Y = 5 }
        public struct Pair { public Small S; public string T; }
        public class Holder
        {
            public char C; public Small Sm; public Big Bg; public bool F; public sbyte Sb; public short Sh; public ushort Us; public uint Ui; public ulong Ul;
            public float Fl; public double Db; public Small? MaybeSmall; public Pair P; public object Boxed; public string Name;
        }
        public static partial class Program
        {
            public static List<string> Texts; public static string Huge; public static Holder H; public static Small[] Smalls; public static Big[] Bigs;
            public static Dictionary<int, string> ByInt; public static Dictionary<Big, Holder> ByEnum; public static HashSet<long> Longs; public static HashSet<string> Names;
            public static Dictionary<string, string> SameKeyAndValue; public static Dictionary<char, Small> Chars;
            public static void Init()
            {
                // Every length around the count's size guess, ASCII and not, lone surrogates (not UTF-8: they cross as UTF-16), strings longer than a chunk.
                Texts = ["", "a", new string('x', 63), new string('y', 64), new string('é', 21), new string('é', 22), new string('é', 64), new string('€', 43),
                    "a\uD800b", "\uDC00", "end\uD83D", "😀 emoji", new string('z', 8200), new string('ü', 9000)];
                Huge = new string('h', 700_000) + "é\uD800" + new string('i', 700_000);
                H = new Holder { C = 'ç', Sm = Small.B, Bg = Big.X, F = true, Sb = -5, Sh = -300, Us = 65000, Ui = 4_000_000_000, Ul = ulong.MaxValue, Fl = 1.5f, Db = -2.25,
                    MaybeSmall = Small.A, P = new Pair { S = Small.B, T = "pair" }, Boxed = Big.Y, Name = Texts[3] };
                Smalls = [Small.A, Small.B, (Small)7]; Bigs = [Big.X, Big.Y];
                ByInt = []; for (var i = 0; i < 3000; i++) ByInt[i * 7] = "v" + i;
                ByEnum = new() { [Big.X] = H, [Big.Y] = null };
                Longs = [long.MinValue, 0, long.MaxValue];
                Names = new(StringComparer.OrdinalIgnoreCase) { "Alpha", "beta" };
                SameKeyAndValue = []; for (var i = 0; i < 5000; i++) { var k = "k" + i; SameKeyAndValue[k] = k; }
                Chars = new() { ['a'] = Small.A, ['\u00ff'] = Small.B };
            }
            static string Units(string s) => s.Length + ":" + string.Join(".", s.Take(70).Select(c => ((int)c).ToString("x"))) + ":" + s.Select(c => (int)c).Sum();
            public static string Report() =>
                $"{string.Join("|", Texts.Select(Units))} huge={Units(Huge)} " +
                $"h={H.C}{H.Sm}{H.Bg}{H.F}{H.Sb}{H.Sh}{H.Us}{H.Ui}{H.Ul}{H.Fl}{H.Db}{H.MaybeSmall}{H.P.S}{H.P.T}{H.Boxed}{H.Boxed.GetType().Name} " +
                $"shared={ReferenceEquals(H.Name, Texts[3])} smalls={string.Join(",", Smalls)} bigs={string.Join(",", Bigs)} " +
                $"byInt={ByInt.Count}{ByInt[21]}{ByInt[7 * 2999]}{string.Join(",", ByInt.Keys.Take(5))} byEnum={ReferenceEquals(ByEnum[Big.X], H)}{ByEnum[Big.Y] is null} " +
                $"longs={string.Join(",", Longs)} names={Names.Contains("ALPHA")}{Names.Contains("BETA")}{ReferenceEquals(Names.Comparer, StringComparer.OrdinalIgnoreCase)} " +
                $"same={SameKeyAndValue.Count(p => ReferenceEquals(p.Key, p.Value))} chars={Chars['a']}{Chars['\u00ff']} " +
                $"defaultComparer={ReferenceEquals(SameKeyAndValue.Comparer, EqualityComparer<string>.Default)}";
        }

        """;

    [Fact]
    public async Task RawValuesAndEveryKindOfText_RoundTrip_ThroughTheStream()
    {
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("stream-raw", "v1", Program(RawAndText)));
        var before = Report(host);
        Assert.Contains("same=5000", before);
        Assert.Contains("shared=True", before);
        Assert.Contains("defaultComparer=True", before);
        var result = await host.UpdateAsync(TestPrograms.Build("stream-raw", "v2", Program(RawAndText + "public class V2 { }\n")), ThroughStream);
        AssertCommitted(result);
        Assert.Equal(before, Report(host));
        // More than one 1 MB chunk: the huge string alone is 1.4 MB.
        Assert.True(result.StreamBytes > 1_400_000, $"{result.StreamBytes} bytes");
    }

    [Fact]
    public async Task ALongChain_CrossesWithoutRecursingDeeply_ItsCycleKept()
    {
        // Objects are written inline only so deep; a chain of 200,000 goes on through the FIFO of bodies, and its last node points back to the first.
        const string source = "public class Node { public int V; public Node Next; public object Tag; }\n" +
            "public static partial class Program { public static Node Head; public static void Init() { Head = new Node { V = 0 }; var n = Head; " +
            "for (var i = 1; i < 200_000; i++) { n.Next = new Node { V = i, Tag = i % 1000 == 0 ? (object)(\"t\" + i) : null }; n = n.Next; } n.Next = Head; } " +
            "public static string Report() { long sum = 0; var count = 0; var tags = 0; var n = Head; do { sum += n.V; count++; if (n.Tag is string) tags++; n = n.Next; } while (n != Head && count < 300_000); " +
            "return $\"{count} {sum} {tags}\"; } }\n";
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("stream-chain", "v1", Program(source)));
        var before = Report(host);
        Assert.Equal("200000 19999900000 199", before);
        var result = await host.UpdateAsync(TestPrograms.Build("stream-chain", "v2", Program(source + "public class V2 { }\n")), ThroughStream);
        AssertCommitted(result);
        Assert.Equal(before, Report(host));
    }

    [Fact]
    public async Task Transformers_ReadTheStreamsOldObjects()
    {
        const string v1 = "public class Item { public int Cents; }\npublic static partial class Program { public static List<Item> Items; public static int Total = 0; " +
            "public static void Init() { Items = [new Item { Cents = 150 }, new Item { Cents = 250 }]; Total = 400; } " +
            "public static string Report() => string.Join(\",\", Items.Select(i => i.Cents)) + \" \" + Total; }\n";
        const string v2 = "public class Item { public decimal Euros; }\n" +
            "public static partial class Program { public static List<Item> Items; public static int Grand; static void Init() { } " +
            "[TransformField(typeof(Item), \"Euros\")] static decimal E(OldObject o) => o.Get<int>(\"Cents\") / 100m; " +
            "[AfterTransfer] static void Move(OldVersion old) { Grand = old.Statics(\"Program\").Get<int>(\"Total\"); } " +
            "public static string Report() => string.Join(\",\", Items.Select(i => i.Euros)) + \" \" + Grand; }\n";
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("stream-transformers", "v1", Program(v1)));
        var result = await host.UpdateAsync(TestPrograms.Build("stream-transformers", "v2", Program(v2)), ThroughStream);
        AssertCommitted(result);
        Assert.Equal("1.5,2.5 400", Report(host));
    }

    [Fact]
    public async Task ASocket_CrossesAsTheSameObject()
    {
        const string source = """
            public static partial class Program
            {
                public static Socket Listener; public static Socket Server; public static NetworkStream Stream; public static Socket Client;
                public static void Init()
                {
                    Listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    Listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                    Listener.Listen();
                    Client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    Client.Connect(Listener.LocalEndPoint!);
                    Server = Listener.Accept();
                    Stream = new NetworkStream(Server);
                }
                public static string Report() => $"{Listener.LocalEndPoint} {ReferenceEquals(Stream.Socket, Server)} {RuntimeHelpers.GetHashCode(Server)}";
                public static string Echo()
                {
                    Client.Send(new byte[] { 7 });
                    var b = new byte[1];
                    Stream.ReadExactly(b);
                    return b[0].ToString();
                }
            }

            """;
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("stream-socket", "v1", Program(source)));
        var before = Report(host);
        var result = await host.UpdateAsync(TestPrograms.Build("stream-socket", "v2", Program(source + "public class V2 { }\n")), ThroughStream);
        AssertCommitted(result);
        Assert.Equal(before, Report(host));
        Assert.Equal("7", Report(host, "Echo"));
    }

    [Fact]
    public async Task TheReloadedOldVersion_RunsNoStaticConstructor()
    {
        var variable = $"MOLT_STREAM_CCTOR_{Guid.NewGuid():N}";
        string Source(string name) =>
            "public class Entry { public static int Made; public int A; static Entry() { Environment.SetEnvironmentVariable(\"" + name + "\", " +
            "((int.TryParse(Environment.GetEnvironmentVariable(\"" + name + "\"), out var n) ? n : 0) + 1).ToString()); } }\n" +
            "public static partial class Program { public static List<Entry> Es; public static void Init() { Es = [new Entry { A = 1 }]; Entry.Made = 1; } " +
            "public static string Report() => Es[0].A + \" \" + Entry.Made; }\n";
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("stream-cctor", "v1", Program(Source(variable))));
        Assert.Equal("1", Environment.GetEnvironmentVariable(variable));
        var result = await host.UpdateAsync(TestPrograms.Build("stream-cctor", "v2", Program(Source(variable + "_V2"))), ThroughStream);
        AssertCommitted(result);
        Assert.Equal("1 1", Report(host));
        // The old version's static constructor ran once, in the live old version: not again in the version loaded to read the stream.
        Assert.Equal("1", Environment.GetEnvironmentVariable(variable));
    }

    [Theory]
    [InlineData("public static Func<int> F = () => 1;", "Program.F", "delegate")]
    [InlineData("public static Task Pending = new TaskCompletionSource().Task;", "Program.Pending", "Task")]
    [InlineData("public static List<object> Held = [new Thread(() => { })];", "Program.Held[0]", "Thread")]
    public async Task StateThatCannotCross_IsRefused_WithItsPath(string field, string path, string reason)
    {
        var v1 = Program($"public static partial class Program {{ {field} public static void Init() {{ }} }}\n");
        var v2 = Program($"public static partial class Program {{ {field} public static int V2; public static void Init() {{ }} }}\n");
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("stream-refused", "v1", v1));
        var result = await host.UpdateAsync(TestPrograms.Build("stream-refused", "v2", v2), ThroughStream);
        var failure = AssertRolledBack(host, result, UpdatePhase.Transfer);
        Assert.Contains(path, failure.StatePath ?? "");
        Assert.Contains(reason, failure.Message);
    }

    private const string LayoutV1 = "public class Entry { public int A; public string B; }\n" +
        "public static partial class Program { public static Entry E = new Entry { A = 1, B = \"b\" }; public static List<Entry> Es = [E]; public static void Init() { } }\n";

    [Fact]
    public void AStreamOfAnotherBuild_IsRefused_InWords()
    {
        var v1 = ProgramVersion.Load(TestPrograms.Build("stream-layout", "v1", Program(LayoutV1)), 0, TimeProvider.System);
        var v2 = ProgramVersion.Load(TestPrograms.Build("stream-layout", "v2", Program(LayoutV1.Replace("public int A;", "public long A; public int C;"))), 0, TimeProvider.System);
        try
        {
            var stream = StateWriter.Write(v1, [.. v1.StaticHolders().SelectMany(TypeFacts.StaticFields)], []);
            var build = Assert.Throws<StateStreamException>(() => StateReader.Read(stream, v2));
            Assert.Contains("another build", build.Message);
            var layout = Assert.Throws<StateStreamException>(() => StateReader.Read(stream, v2, checkBuild: false));
            Assert.Contains("Entry has another field layout", layout.Message);
            Assert.Contains("Entry A: System.Int32", layout.Message);
            // The same build reads it.
            var same = ProgramVersion.Load(v1.Info.AssemblyPath, 0, TimeProvider.System, typesOnly: true);
            var reader = StateReader.Read(stream, same);
            Assert.Equal(2, reader.Statics.Count(s => s.Value is not null));
            same.Retire();
        }
        finally
        {
            v1.Retire();
            v2.Retire();
        }
    }

    /// <summary>A throwaway measurement (set MOLT_STREAM_BENCH=1): a Dictionary&lt;string, Entry&gt; of 10k, 100k and 1M, in process and through the stream.</summary>
    [Fact]
    public async Task Measure_StreamVersusInProcess()
    {
        if (Environment.GetEnvironmentVariable("MOLT_STREAM_BENCH") != "1")
        {
            return;
        }
        const string source = "public class Entry { public string Name; public long Hits; public byte[] Data; }\n" +
            "public static partial class Program { public static Dictionary<string, Entry> Map = new(); public static void Init() { } " +
            "public static int Fill(int n) { for (var i = 0; i < n; i++) Map[\"key\" + i] = new Entry { Name = \"n\" + i, Hits = i, Data = new byte[16] }; return Map.Count; } " +
            "public static int Count() => Map.Count; }\n";
        var v1 = TestPrograms.Build("stream-bench", "v1", Program(source));
        var v2 = TestPrograms.Build("stream-bench", "v2", Program(source + "public class V2 { }\n"));
        foreach (var n in new[] { 10_000, 100_000, 1_000_000 })
        {
            foreach (var through in new[] { false, true })
            {
                await using var host = await MoltHost.StartAsync(v1);
                ProgramState.Call(host, "Program", "Fill", n);
                var clock = Stopwatch.StartNew();
                var result = await host.UpdateAsync(v2, new UpdateOptions { ThroughStream = through });
                AssertCommitted(result);
                Assert.Equal(n, ProgramState.Call(host, "Program", "Count"));
                output.WriteLine($"{n} entries, {(through ? "stream" : "in-process")}: transfer {result.TransferTime.TotalMilliseconds:0} ms, pause {result.PauseTime.TotalMilliseconds:0} ms" +
                    (through ? $", stream {result.StreamBytes / 1e6:0.0} MB, write {result.StreamWriteTime.TotalMilliseconds:0} ms, read {result.StreamReadTime.TotalMilliseconds:0} ms" : ""));
            }
        }
    }
}
