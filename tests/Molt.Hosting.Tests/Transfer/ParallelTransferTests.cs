using static Molt.Hosting.Tests.Transfer.TransferTestKit;

namespace Molt.Hosting.Tests.Transfer;

/// <summary>
/// Issue 13's parallel transfer (<see cref="MoltHostOptions.TransferParallelism"/>): a state large enough to be split across
/// threads (10,000 entries, past <c>StateTransfer.ParallelMinimum</c>) updated sequentially and in parallel, with the same
/// result: the same graph (objects reached from several chunks rebuilt once, cycles closed), the same counts, transformers run
/// once per object, [AfterTransfer] steps in their order, and the same failure with the same state path. The generated matrix
/// is replayed in parallel too (<see cref="Matrix.TransferMatrixTests.Matrix_InParallel_EveryUpdateEndsAsTheSequentialOne"/>).
/// </summary>
public class ParallelTransferTests
{
    private const int Entries = 10_000;

    // Nodes point across the whole dictionary (so across chunks), all at one shared node, and some at themselves; every tenth
    // holds a set of strings (a hash collection refilled after the transfer, beside the others).
    private static readonly string V1 = Program($$"""
        public class Node { public int Id; public Node Next; public Node Shared; public Node Self; public HashSet<string> Tags; public List<Node> Kids = new(); }
        public static partial class Program
        {
            public static Dictionary<string, Node> Nodes = new();
            public static Node[] Ring;
            static void Init()
            {
                var shared = new Node { Id = -1 };
                Ring = new Node[{{Entries}}];
                for (var i = 0; i < Ring.Length; i++)
                {
                    Ring[i] = new Node { Id = i, Shared = shared, Tags = i % 10 == 0 ? new HashSet<string> { "a" + i, "b" + i } : null };
                }
                for (var i = 0; i < Ring.Length; i++)
                {
                    Ring[i].Next = Ring[(int)((i * 7919L + 13) % Ring.Length)];
                    Ring[i].Self = i % 3 == 0 ? Ring[i] : null;
                    Ring[i].Kids.Add(Ring[(i + Ring.Length / 2) % Ring.Length]);
                    Nodes.Add("k" + i, Ring[i]);
                }
            }
            public static void Hold(int id) => Ring[id].Tags = null;
        }
        """);

    private static string V2(string extra = "") => Program($$"""
        public class Node { public int Id; public Node Next; public Node Shared; public Node Self; public HashSet<string> Tags; public List<Node> Kids = new(); public int Twice; }
        public static partial class Program
        {
            public static Dictionary<string, Node> Nodes = new();
            public static Node[] Ring;
            public static List<string> Steps = new();
            static void Init() { }
            {{extra}}
            public static string Report()
            {
                var shared = Ring[0].Shared;
                var sameShared = Ring.All(n => ReferenceEquals(n.Shared, shared));
                var nextRight = Ring.All(n => ReferenceEquals(n.Next, Ring[(int)((n.Id * 7919L + 13) % Ring.Length)]));
                var selves = Ring.Count(n => ReferenceEquals(n.Self, n));
                var kids = Ring.All(n => n.Kids.Count == 1 && ReferenceEquals(n.Kids[0], Ring[(n.Id + Ring.Length / 2) % Ring.Length]));
                var indexed = Ring.All(n => ReferenceEquals(Nodes["k" + n.Id], n));
                var tags = Ring.Where(n => n.Tags is not null).All(n => n.Tags.Contains("a" + n.Id) && n.Tags.Contains("b" + n.Id) && n.Tags.Count == 2);
                var twice = Ring.Sum(n => (long)n.Twice);
                return $"{Nodes.Count} shared:{sameShared} next:{nextRight} selves:{selves} kids:{kids} indexed:{indexed} tags:{tags} twice:{twice} steps:{string.Join(",", Steps)}";
            }
        }
        """);

    private static async Task<(string? Report, UpdateResult Result)> Update(string name, string v2, int parallelism, Action<MoltHost>? before = null)
    {
        var v1Path = TestPrograms.Build(name, "v1", V1);
        var v2Path = TestPrograms.Build(name, "v2", v2);
        await using var host = await MoltHost.StartAsync(v1Path, options: new MoltHostOptions { TransferParallelism = parallelism });
        before?.Invoke(host);
        var result = await host.UpdateAsync(v2Path);
        return (Report(host), result);
    }

    [Fact]
    public async Task Update_InParallel_RebuildsTheSameGraphWithTheSameCounts()
    {
        var v2 = V2();
        var (sequential, seqResult) = await Update("PT_Graph", v2, parallelism: 1);
        var (parallel, parResult) = await Update("PT_Graph", v2, parallelism: 2);
        AssertCommitted(seqResult);
        AssertCommitted(parResult);
        Assert.Equal($"{Entries} shared:True next:True selves:{(Entries + 2) / 3} kids:True indexed:True tags:True twice:0 steps:", sequential);
        Assert.Equal(sequential, parallel);
        Assert.Equal(seqResult.ObjectsRebuilt, parResult.ObjectsRebuilt);
        Assert.Equal(seqResult.ReferencesPassed, parResult.ReferencesPassed);
    }

    [Fact]
    public async Task Update_InParallel_RunsEachTransformerOncePerObjectAndTheStepsInTheirOrder()
    {
        // A field transformer (program code: the workers run it one at a time) and two after-transfer steps.
        var v2 = V2("""
            public static int Calls;
            [TransformField(typeof(Node), "Twice")]
            static int Twice(OldObject old) { Calls++; return 2 * old.Get<int>("Id"); }
            [AfterTransfer]
            static void First(OldVersion old) => Steps.Add("first:" + Calls);
            [AfterTransfer]
            static void Second(OldVersion old) => Steps.Add("second");
            """);
        var (sequential, seqResult) = await Update("PT_Transformers", v2, parallelism: 1);
        var (parallel, parResult) = await Update("PT_Transformers", v2, parallelism: 2);
        AssertCommitted(seqResult);
        AssertCommitted(parResult);
        // Every node of the ring gets 2 * Id; the transformer also ran for the shared node (Id -1), which is not in the ring.
        Assert.EndsWith($"twice:{(long)Entries * (Entries - 1)} steps:first:{Entries + 1},second", sequential);
        Assert.Equal(sequential, parallel);
        Assert.Equal(seqResult.ObjectsRebuilt, parResult.ObjectsRebuilt);
    }

    [Fact]
    public async Task Update_InParallel_FailsOnTheSameObjectWithTheSameStatePath()
    {
        // A node deep in the ring holds a lambda of the old version, which cannot cross: the update rolls back naming its path.
        var v1 = V1.Replace("public List<Node> Kids = new(); }", "public List<Node> Kids = new(); public object Payload; }", StringComparison.Ordinal)
            .Replace("public static void Hold(int id) => Ring[id].Tags = null;", "public static void Hold(int id) { var n = id; Ring[id].Payload = (Func<int>)(() => n); }", StringComparison.Ordinal);
        var v2 = V2().Replace("public int Twice; }", "public int Twice; public object Payload; }", StringComparison.Ordinal);
        var v1Path = TestPrograms.Build("PT_Failure", "v1", v1);
        var v2Path = TestPrograms.Build("PT_Failure", "v2", v2);
        var failures = new List<UpdateFailedException>();
        foreach (var parallelism in new[] { 1, 2 })
        {
            await using var host = await MoltHost.StartAsync(v1Path, options: new MoltHostOptions { TransferParallelism = parallelism });
            ProgramState.Call(host, "Program", "Hold", 7777);
            var result = await host.UpdateAsync(v2Path);
            failures.Add(AssertRolledBack(host, result, UpdatePhase.Transfer));
        }
        Assert.Contains("delegate to the old version's code", failures[0].Message, StringComparison.Ordinal);
        Assert.NotNull(failures[0].StatePath);
        Assert.Equal(failures[0].Message, failures[1].Message);
        Assert.Equal(failures[0].StatePath, failures[1].StatePath);
    }

    [Fact]
    public void Options_TransferParallelism_BelowOneIsRefused()
    {
        var options = new MoltHostOptions { TransferParallelism = 0 };
        Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
        Assert.Equal(Environment.ProcessorCount, new MoltHostOptions().TransferParallelism);
    }
}
