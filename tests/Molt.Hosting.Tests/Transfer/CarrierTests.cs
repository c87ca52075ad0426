using Molt.Hosting.Control;
using static Molt.Hosting.Tests.Transfer.TransferTestKit;

namespace Molt.Hosting.Tests.Transfer;

/// <summary>
/// Framework objects that carry the old version's code or identity (weak references, weak tables, collections with a
/// comparer of the program's, cancellation sources, lazy values, per-thread values, static delegates): each is carried
/// into the new version as the new version's objects, or the update rolls back with the path to it. Nothing of the old
/// version runs, or stays loaded, after a commit.
/// </summary>
public class CarrierTests
{
    private const string Entry = """
        public class Entry { public string Name; }
        public class Note { public string Text; }
        """;

    /// <summary>Updates v1 to v2 (the same source, VERSION replaced), asserts the commit and the old version's unload, and returns the new version's report.</summary>
    private static async Task<string?> AssertCarried(string name, string source)
    {
        var (host, result) = await StartAndUpdate(name,
            Program(source.Replace("VERSION", "v1", StringComparison.Ordinal)), Program(source.Replace("VERSION", "v2", StringComparison.Ordinal)));
        await using (host)
        {
            AssertCommitted(result);
            return Report(host);
        }
    }

    /// <summary>Updates v1 to v2, expects a rollback at transfer with a path, and checks that the old version still serves as before.</summary>
    private static async Task<UpdateFailedException> AssertRefused(string name, string source)
    {
        await using var host = await MoltHost.StartAsync(TestPrograms.Build(name, "v1", Program(source.Replace("VERSION", "v1", StringComparison.Ordinal))));
        var before = Report(host);
        var result = await host.UpdateAsync(TestPrograms.Build(name, "v2", Program(source.Replace("VERSION", "v2", StringComparison.Ordinal))));
        var failure = AssertRolledBack(host, result, UpdatePhase.Transfer);
        Assert.StartsWith("v1", before, StringComparison.Ordinal);
        Assert.Equal(before, Report(host));
        Assert.NotNull(failure.StatePath);
        Assert.Contains(failure.StatePath, failure.Message, StringComparison.Ordinal);
        return failure;
    }

    [Fact]
    public async Task Update_AFrameworkCollectionThatHoldsItself_IsCheckedOnce_AndPassesAsItIs()
    {
        // Checking what an ArrayList holds reaches the list itself again (Kestrel's feature collection enumerates itself
        // the same way): without a guard the check recursed until the stack overflowed and the host died.
        var report = await AssertCarried("CR_SelfHolding", """
            public static partial class Program
            {
                public static ArrayList Loop;
                public static ArrayList Before;
                static void Init()
                {
                    Loop = new ArrayList { "first" };
                    Loop.Add(Loop);
                    Before = Loop;
                }
                public static string Report() =>
                    $"VERSION {Loop.Count} {Loop[0]} {ReferenceEquals(Loop[1], Loop)} {ReferenceEquals(Loop, Before)}";
            }
            """);
        Assert.Equal("v2 2 first True True", report);
    }

    [Fact]
    public async Task Update_GenericWeakReferenceToAProgramObject_TargetsItsNewObject()
    {
        var report = await AssertCarried("CR_WeakOfT", Entry + """
            public static partial class Program
            {
                public static Entry Held;
                public static WeakReference<Entry> Weak;
                public static WeakReference<object> WeakAny;
                public static WeakReference<Entry> Dead;
                static void Init()
                {
                    Held = new Entry { Name = "alice" };
                    Weak = new WeakReference<Entry>(Held);
                    WeakAny = new WeakReference<object>(Held, trackResurrection: true);
                    Dead = new WeakReference<Entry>(null!);
                }
                public static string Report() =>
                    $"VERSION {(Weak.TryGetTarget(out var e) && ReferenceEquals(e, Held) ? e.Name : "lost")} " +
                    $"{(WeakAny.TryGetTarget(out var a) && ReferenceEquals(a, Held) ? "same" : "lost")} {Dead.TryGetTarget(out _)}";
            }
            """);
        Assert.Equal("v2 alice same False", report);
    }

    [Fact]
    public async Task Update_WeakReferenceToAProgramObject_TargetsItsNewObjectAndKeepsTrackResurrection()
    {
        var report = await AssertCarried("CR_Weak", Entry + """
            public static partial class Program
            {
                public static Entry Held;
                public static WeakReference Weak;
                public static WeakReference Short;
                public static WeakReference ToText;
                static void Init()
                {
                    Held = new Entry { Name = "bob" };
                    Weak = new WeakReference(Held, trackResurrection: true);
                    Short = new WeakReference(Held);
                    ToText = new WeakReference(Held.Name);
                }
                public static string Report() =>
                    $"VERSION {ReferenceEquals(Weak.Target, Held)} {Weak.TrackResurrection} {ReferenceEquals(Short.Target, Held)} {Short.TrackResurrection} {ToText.Target}";
            }
            """);
        Assert.Equal("v2 True True True False bob", report);
    }

    [Fact]
    public async Task Update_ConditionalWeakTableOfProgramObjects_KeepsItsEntriesUnderTheNewKeys()
    {
        var report = await AssertCarried("CR_Cwt", Entry + """
            public static partial class Program
            {
                public static Entry[] Keys;
                public static ConditionalWeakTable<Entry, Note> Notes;
                public static ConditionalWeakTable<object, object> Loose;
                static void Init()
                {
                    Keys = [new Entry { Name = "a" }, new Entry { Name = "b" }];
                    Notes = new();
                    Notes.Add(Keys[0], new Note { Text = "first" });
                    Notes.Add(Keys[1], new Note { Text = "second" });
                    Loose = new();
                    Loose.Add(Keys[1], "loose");
                }
                public static string Report() =>
                    $"VERSION {(Notes.TryGetValue(Keys[0], out var n0) ? n0.Text : "lost")} {(Notes.TryGetValue(Keys[1], out var n1) ? n1.Text : "lost")} " +
                    $"{Notes.Count()} {(Loose.TryGetValue(Keys[1], out var l) ? l : "lost")}";
            }
            """);
        Assert.Equal("v2 first second 2 loose", report);
    }

    [Fact]
    public async Task Update_FrameworkCollectionsWithAComparerOfTheProgram_AreRebuiltWithTheNewComparer()
    {
        var report = await AssertCarried("CR_Comparer", """
            public sealed class CaseBlind : IEqualityComparer<string>, IComparer<string>
            {
                public string Version = "VERSION";
                public bool Equals(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
                public int GetHashCode(string s) => StringComparer.OrdinalIgnoreCase.GetHashCode(s);
                public int Compare(string a, string b) => -string.Compare(a, b, StringComparison.OrdinalIgnoreCase);
            }
            public static partial class Program
            {
                public static Dictionary<string, int> Ages;
                public static HashSet<string> Names;
                public static SortedDictionary<string, int> Sorted;
                public static SortedSet<string> SortedNames;
                public static System.Collections.Concurrent.ConcurrentDictionary<string, int> Shared;
                static void Init()
                {
                    var comparer = new CaseBlind();
                    Ages = new(comparer) { ["alice"] = 30, ["bob"] = 40 };
                    Names = new(comparer) { "alice" };
                    Sorted = new(comparer) { ["a"] = 1, ["b"] = 2 };
                    SortedNames = new(comparer) { "x", "y" };
                    Shared = new(comparer);
                    Shared["carol"] = 50;
                }
                static string Own(object comparer) => comparer is CaseBlind c ? c.Version : "old:" + comparer.GetType().Assembly.GetName().Name;
                public static string Report() =>
                    $"VERSION {Own(Ages.Comparer)} {Ages["ALICE"]} {Ages["Bob"]} {Own(Names.Comparer)} {Names.Contains("ALICE")} " +
                    $"{Own(Sorted.Comparer)} {string.Join(",", Sorted.Keys)} {Own(SortedNames.Comparer)} {string.Join(",", SortedNames)} " +
                    $"{Own(Shared.Comparer)} {Shared["CAROL"]} {ReferenceEquals(Ages.Comparer, Names.Comparer)}";
            }
            """);
        // The comparer is the new version's object (its field copied), shared as before; lookups go through it.
        Assert.Equal("v2 v1 30 40 v1 True v1 b,a v1 y,x v1 50 True", report);
    }

    [Fact]
    public async Task Update_DictionaryWithAComparerMadeFromALambda_RollsBackWithThePath()
    {
        var failure = await AssertRefused("CR_ComparerLambda", """
            public static partial class Program
            {
                public static SortedSet<string> Names;
                static void Init() => Names = new(Comparer<string>.Create((a, b) => -string.CompareOrdinal(a, b))) { "a", "b" };
                public static string Report() => $"VERSION {string.Join(",", Names)}";
            }
            """);
        Assert.Equal("static Program.Names.Comparer._comparison", failure.StatePath);
        Assert.Contains("delegate", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_EqualityComparerMadeFromLambdas_RollsBackWithThePath()
    {
        var failure = await AssertRefused("CR_EqualityLambda", """
            public static partial class Program
            {
                public static Dictionary<string, int> Ages;
                static void Init() => Ages = new(EqualityComparer<string>.Create((a, b) => a.Length == b.Length, s => s.Length)) { ["alice"] = 1 };
                public static string Report() => $"VERSION {Ages["bobby"]}";
            }
            """);
        Assert.StartsWith("static Program.Ages.", failure.StatePath, StringComparison.Ordinal);
        Assert.EndsWith("._equals", failure.StatePath, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_CancellationSourceWithACallbackOfTheOldVersion_RollsBackWithThePath()
    {
        var failure = await AssertRefused("CR_CtsCallback", """
            public static partial class Program
            {
                public static CancellationTokenSource Stop;
                public static int Stopped;
                static void Init() { Stop = new(); Stop.Token.Register(() => Stopped++); }
                public static string Report() => $"VERSION {Stop.IsCancellationRequested}";
            }
            """);
        Assert.Equal("static Program.Stop", failure.StatePath);
        Assert.Contains("callback registered by the old version's code", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_CancellationTokenWhoseSourceHasACallbackOfTheOldVersion_RollsBackWithThePath()
    {
        var failure = await AssertRefused("CR_TokenCallback", """
            public class Job { public string Name; public CancellationToken Stopping; }
            public static partial class Program
            {
                public static Job Current;
                public static int Stopped;
                static void Init()
                {
                    var source = new CancellationTokenSource();
                    source.Token.Register(() => Stopped++);
                    Current = new Job { Name = "j", Stopping = source.Token };
                }
                public static string Report() => $"VERSION {Current.Stopping.IsCancellationRequested}";
            }
            """);
        Assert.Equal("static Program.Current.Stopping._source", failure.StatePath);
        Assert.Contains("callback registered by the old version's code", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_CancellationSourcesWithNoCallbackOrTheFrameworksOnly_PassByReference()
    {
        var source = """
            public static partial class Program
            {
                public static CancellationTokenSource Plain;
                public static CancellationTokenSource Parent;
                public static CancellationTokenSource Child;
                public static CancellationToken ChildToken;
                public static CancellationToken None;
                static void Init()
                {
                    Plain = new();
                    Parent = new();
                    Child = CancellationTokenSource.CreateLinkedTokenSource(Parent.Token); // a framework callback on Parent
                    ChildToken = Child.Token;
                }
                public static CancellationTokenSource GetPlain() => Plain;
                public static string Report() { Parent.Cancel(); return $"VERSION {Plain.IsCancellationRequested} {Child.IsCancellationRequested} {ChildToken.IsCancellationRequested} {None.CanBeCanceled}"; }
            }
            """;
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("CR_CtsPlain", "v1", Program(source.Replace("VERSION", "v1", StringComparison.Ordinal))));
        var plain = ProgramState.Call(host, "Program", "GetPlain");
        var result = await host.UpdateAsync(TestPrograms.Build("CR_CtsPlain", "v2", Program(source.Replace("VERSION", "v2", StringComparison.Ordinal))));
        AssertCommitted(result);
        Assert.Same(plain, ProgramState.Call(host, "Program", "GetPlain"));
        Assert.Equal("v2 False True True False", Report(host));
    }

    [Fact]
    public async Task Update_LazyNotYetEvaluatedWithAFactoryOfTheOldVersion_RollsBackWithThePath()
    {
        var failure = await AssertRefused("CR_LazyPending", """
            public static partial class Program
            {
                public static Lazy<int> Answer;
                static void Init() => Answer = new Lazy<int>(() => 42);
                public static string Report() => $"VERSION {Answer.IsValueCreated}";
            }
            """);
        Assert.Equal("static Program.Answer._factory", failure.StatePath);
        Assert.Contains("factory of a System.Lazy<System.Int32> not yet evaluated", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_EvaluatedLazy_CarriesItsValue()
    {
        var report = await AssertCarried("CR_LazyDone", Entry + """
            public static partial class Program
            {
                public static Lazy<int> Answer;
                public static Lazy<Entry> First;
                public static Entry Held;
                static void Init()
                {
                    Answer = new Lazy<int>(() => 42);
                    _ = Answer.Value;
                    Held = new Entry { Name = "first" };
                    First = new Lazy<Entry>(() => Held);
                    _ = First.Value;
                }
                public static string Report() => $"VERSION {Answer.Value} {First.Value.Name} {ReferenceEquals(First.Value, Held)}";
            }
            """);
        Assert.Equal("v2 42 first True", report);
    }

    [Fact]
    public async Task Update_ThreadLocal_RollsBackWithThePath()
    {
        var failure = await AssertRefused("CR_ThreadLocal", """
            public static partial class Program
            {
                public static ThreadLocal<int> PerThread;
                static void Init() => PerThread = new ThreadLocal<int>();
                public static string Report() => $"VERSION {PerThread.Value}";
            }
            """);
        Assert.Equal("static Program.PerThread", failure.StatePath);
        Assert.Contains("ThreadLocal<T>", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_ThreadLocalAndAsyncLocalStatics_AreWarnedBeforeTheUpdate()
    {
        var v1 = Program("""
            public static partial class Program
            {
                public static ThreadLocal<int> PerThread;
                public static AsyncLocal<string> PerFlow;
                static void Init() { }
            }
            """);
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("CR_CheckLocals", "v1", v1));
        var check = await host.CheckAsync(TestPrograms.Build("CR_CheckLocals", "v2", v1 + "\n// v2"));
        foreach (var (name, what) in new[] { ("PerThread", "ThreadLocal<T>"), ("PerFlow", "AsyncLocal<T>") })
        {
            var finding = Assert.Single(check.Findings, f => f.Kind == CheckFindingKind.CannotCross && f.Subject == "static Program." + name);
            Assert.Equal(CheckSeverity.Warning, finding.Severity);
            Assert.Contains(what, finding.Detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Update_AsyncLocalInAProgramObject_RollsBackWithThePath()
    {
        var failure = await AssertRefused("CR_AsyncLocal", """
            public class Context { public AsyncLocal<string> User = new(); }
            public static partial class Program
            {
                public static Context Current;
                static void Init() => Current = new Context();
                public static string Report() => $"VERSION {Current.User.Value}";
            }
            """);
        Assert.Equal("static Program.Current.User", failure.StatePath);
        Assert.Contains("AsyncLocal<T>", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_StaticDelegateAndEventHoldingNull_CrossAsNull()
    {
        var report = await AssertCarried("CR_NullDelegates", """
            public static partial class Program
            {
                public static Func<int, int> Square;
                public static event Action Changed;
                public static int Kept;
                static void Init() => Kept = 7;
                public static string Report() => $"VERSION {Square is null} {Changed is null} {Kept}";
            }
            """);
        Assert.Equal("v2 True True 7", report);
    }

    [Fact]
    public async Task Update_StaticEventWithAHandlerOfTheOldVersion_RollsBackWithThePath()
    {
        var failure = await AssertRefused("CR_Event", """
            public static partial class Program
            {
                public static event Action Changed;
                public static int Seen;
                static void Init() => Changed += () => Seen++;
                public static string Report() { Changed?.Invoke(); return $"VERSION {Seen > 0}"; }
            }
            """);
        Assert.Equal("static Program.Changed", failure.StatePath);
        Assert.Contains("delegate", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_ImmutableSetsAndDictionariesKeyedByProgramObjects_AreRebuiltWithTheNewKeys()
    {
        var report = await AssertCarried("CR_Immutable", """
            public record Key(string Name);
            public sealed class Backwards : IComparer<Key>, IEqualityComparer<string>
            {
                public int Compare(Key a, Key b) => -string.CompareOrdinal(a.Name, b.Name);
                public bool Equals(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
                public int GetHashCode(string s) => StringComparer.OrdinalIgnoreCase.GetHashCode(s);
            }
            public static partial class Program
            {
                public static System.Collections.Immutable.ImmutableHashSet<Key> Set;
                public static System.Collections.Immutable.ImmutableDictionary<Key, int> Map;
                public static System.Collections.Immutable.ImmutableSortedSet<Key> Sorted;
                public static System.Collections.Immutable.ImmutableSortedDictionary<Key, string> SortedMap;
                public static System.Collections.Immutable.ImmutableDictionary<string, int> ByName;
                static void Init()
                {
                    Set = System.Collections.Immutable.ImmutableHashSet.Create(new Key("a"), new Key("b"));
                    Map = System.Collections.Immutable.ImmutableDictionary<Key, int>.Empty.Add(new Key("a"), 1).Add(new Key("b"), 2);
                    Sorted = System.Collections.Immutable.ImmutableSortedSet.Create(new Backwards(), new Key("a"), new Key("c"), new Key("b"));
                    SortedMap = System.Collections.Immutable.ImmutableSortedDictionary.Create<Key, string>(new Backwards()).Add(new Key("x"), "1").Add(new Key("y"), "2");
                    ByName = System.Collections.Immutable.ImmutableDictionary.Create<string, int>(new Backwards()).Add("alice", 30);
                }
                public static string Report() =>
                    $"VERSION {Set.Contains(new Key("a"))} {Set.Contains(new Key("b"))} {Map[new Key("b")]} {string.Join(",", Sorted.Select(k => k.Name))} " +
                    $"{Sorted.Contains(new Key("c"))} {string.Join(",", SortedMap.Keys.Select(k => k.Name))} {SortedMap[new Key("x")]} " +
                    $"{ByName["ALICE"]} {ByName.KeyComparer is Backwards} {Sorted.KeyComparer is Backwards}";
            }
            """);
        // A record's hash code includes its type, which is another type in the new version: lookups work only if rebuilt.
        Assert.Equal("v2 True True 2 c,b,a True y,x 1 30 True True", report);
    }

    [Fact]
    public async Task Update_PriorityQueuesWithAComparerOfTheProgramOrOfProgramObjects_AreRebuilt()
    {
        var report = await AssertCarried("CR_PriorityQueue", Entry + """
            public sealed class Highest : IComparer<int> { public int Compare(int a, int b) => b.CompareTo(a); }
            public record Rank(int Value) : IComparable<Rank> { public int CompareTo(Rank other) => Value.CompareTo(other.Value); }
            public static partial class Program
            {
                public static PriorityQueue<string, int> Jobs;
                public static PriorityQueue<Entry, Rank> Entries;
                static void Init()
                {
                    Jobs = new(new Highest());
                    Jobs.Enqueue("low", 1); Jobs.Enqueue("high", 9); Jobs.Enqueue("mid", 5);
                    Entries = new();
                    Entries.Enqueue(new Entry { Name = "second" }, new Rank(2)); Entries.Enqueue(new Entry { Name = "first" }, new Rank(1));
                }
                public static string Report() =>
                    $"VERSION {Jobs.Comparer is Highest} {Jobs.Dequeue()},{Jobs.Dequeue()},{Jobs.Dequeue()} {Entries.Dequeue().Name},{Entries.Dequeue().Name}";
            }
            """);
        Assert.Equal("v2 True high,mid,low first,second", report);
    }

    [Fact]
    public async Task Update_FrameworkObjectHoldingAProgramObjectInAnOpenField_RollsBackWithThePath()
    {
        // A SocketAsyncEventArgs would pass by reference, with the old version's object in its UserToken: refused, not leaked.
        var failure = await AssertRefused("CR_OpenSlot", Entry + """
            public static partial class Program
            {
                public static System.Net.Sockets.SocketAsyncEventArgs Args;
                static void Init() => Args = new System.Net.Sockets.SocketAsyncEventArgs { UserToken = new Entry { Name = "token" } };
                public static string Report() => $"VERSION {((Entry)Args.UserToken).Name}";
            }
            """);
        Assert.Equal("static Program.Args._userToken", failure.StatePath);
        Assert.Contains("SocketAsyncEventArgs", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_FrameworkContainersOfCarriers_PassWhenTheirElementsDoAndAreRebuiltWhenNot()
    {
        var source = Entry + """
            public sealed class CaseBlind : IEqualityComparer<string>
            {
                public bool Equals(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
                public int GetHashCode(string s) => StringComparer.OrdinalIgnoreCase.GetHashCode(s);
            }
            public static partial class Program
            {
                public static Entry Held;
                public static Dictionary<string, HashSet<string>> PlainSets;
                public static Dictionary<string, HashSet<string>> ProgramSets;
                public static List<WeakReference> Weak;
                public static Dictionary<string, CancellationTokenSource> Running;
                static void Init()
                {
                    Held = new Entry { Name = "held" };
                    PlainSets = new() { ["a"] = new() { "x" } };
                    ProgramSets = new() { ["a"] = new(new CaseBlind()) { "x" } };
                    Weak = [new WeakReference(Held), new WeakReference("text")];
                    Running = new() { ["job"] = new CancellationTokenSource() };
                }
                public static object GetPlainSets() => PlainSets;
                public static object GetProgramSets() => ProgramSets;
                public static object GetRunning() => Running;
                public static string Report() =>
                    $"VERSION {PlainSets["a"].Contains("x")} {ProgramSets["a"].Contains("X")} {ProgramSets["a"].Comparer is CaseBlind} " +
                    $"{ReferenceEquals(Weak[0].Target, Held)} {Weak[1].Target} {Running["job"].IsCancellationRequested}";
            }
            """;
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("CR_Containers", "v1", Program(source.Replace("VERSION", "v1", StringComparison.Ordinal))));
        var plainSets = ProgramState.Call(host, "Program", "GetPlainSets");
        // Its identity hash code only: holding the old dictionary would hold the old comparer, and the old version with it.
        var programSets = System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(ProgramState.Call(host, "Program", "GetProgramSets"));
        var running = ProgramState.Call(host, "Program", "GetRunning");

        var result = await host.UpdateAsync(TestPrograms.Build("CR_Containers", "v2", Program(source.Replace("VERSION", "v2", StringComparison.Ordinal))));

        AssertCommitted(result);
        Assert.Equal("v2 True True True True text False", Report(host));
        Assert.Same(plainSets, ProgramState.Call(host, "Program", "GetPlainSets"));
        Assert.Same(running, ProgramState.Call(host, "Program", "GetRunning"));
        Assert.NotEqual(programSets, System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(ProgramState.Call(host, "Program", "GetProgramSets")));
    }

    [Fact]
    public async Task Update_DictionaryOfCancellationSourcesOneWithACallbackOfTheOldVersion_RollsBackWithThePath()
    {
        var failure = await AssertRefused("CR_ContainerCts", """
            public static partial class Program
            {
                public static Dictionary<string, CancellationTokenSource> Running;
                static void Init()
                {
                    Running = new() { ["idle"] = new CancellationTokenSource(), ["job"] = new CancellationTokenSource() };
                    Running["job"].Token.Register(() => Console.WriteLine("stopped"));
                }
                public static string Report() => $"VERSION {Running.Count}";
            }
            """);
        Assert.Equal("static Program.Running[\"job\"]", failure.StatePath);
    }

    [Fact]
    public async Task Update_NonGenericCollectionsOfProgramObjects_AreRebuiltOrRefused()
    {
        var report = await AssertCarried("CR_ArrayList", Entry + """
            public static partial class Program
            {
                public static Entry Held;
                public static ArrayList List;
                public static Queue Queue;
                public static Hashtable Plain;
                static void Init()
                {
                    Held = new Entry { Name = "held" };
                    List = new ArrayList { Held, "text", 3 };
                    Queue = new Queue(); Queue.Enqueue(Held);
                    Plain = new Hashtable { ["a"] = 1 };
                }
                public static string Report() =>
                    $"VERSION {ReferenceEquals(List[0], Held)} {List[1]} {List[2]} {ReferenceEquals(Queue.Peek(), Held)} {Plain["a"]}";
            }
            """);
        Assert.Equal("v2 True text 3 True 1", report);

        var failure = await AssertRefused("CR_Hashtable", Entry + """
            public static partial class Program
            {
                public static Hashtable Table;
                static void Init() => Table = new Hashtable { [new Entry { Name = "key" }] = 1 };
                public static string Report() => $"VERSION {Table.Count}";
            }
            """);
        Assert.Equal("static Program.Table", failure.StatePath);
        Assert.Contains("Hashtable", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_SocketsAndTheirEndPoints_StillPassByReference()
    {
        // A Socket has open slots (its end points): checked, and passed as the same object.
        var source = """
            public class Connection { public System.Net.Sockets.Socket Socket; public string Name; }
            public static partial class Program
            {
                public static System.Net.Sockets.Socket Listener;
                public static List<Connection> Connections;
                static void Init()
                {
                    Listener = new(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                    Listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
                    Listener.Listen();
                    Connections = [new Connection { Socket = Listener, Name = "self" }];
                }
                public static object GetListener() => Listener;
                public static string Report() => $"VERSION {ReferenceEquals(Connections[0].Socket, Listener)} {Listener.LocalEndPoint is System.Net.IPEndPoint}";
            }
            """;
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("CR_Socket", "v1", Program(source.Replace("VERSION", "v1", StringComparison.Ordinal))));
        var listener = ProgramState.Call(host, "Program", "GetListener");

        var result = await host.UpdateAsync(TestPrograms.Build("CR_Socket", "v2", Program(source.Replace("VERSION", "v2", StringComparison.Ordinal))));

        AssertCommitted(result);
        Assert.Same(listener, ProgramState.Call(host, "Program", "GetListener"));
        Assert.Equal("v2 True True", Report(host));
        ((IDisposable)listener!).Dispose();
    }
}
