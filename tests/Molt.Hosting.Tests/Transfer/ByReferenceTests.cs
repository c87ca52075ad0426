using static Molt.Hosting.Tests.Transfer.TransferTestKit;

namespace Molt.Hosting.Tests.Transfer;

/// <summary>Objects of framework types that hold nothing of the program reach the new version as the same objects, with no copy.</summary>
public class ByReferenceTests
{
    private const string Types = """
        public class Blob { public byte[] Data; public object Any; public Dictionary<string, byte[]> Files; }
        """;

    [Fact]
    public async Task Update_ByteArrayAndDictionaryOfByteArrays_PassAsTheSameObjects()
    {
        var v1 = Program(Types + """
            public static partial class Program
            {
                public static byte[] Bytes;
                public static Dictionary<string, byte[]> Files;
                public static object BytesAsObject;
                public static Blob Holder;
                public static int BytesHash;
                public static int FilesHash;
                static void Init()
                {
                    Bytes = new byte[] { 1, 2, 3 };
                    Files = new() { ["a"] = Bytes, ["b"] = new byte[] { 9 } };
                    BytesAsObject = Bytes;
                    Holder = new Blob { Data = Bytes, Any = Files, Files = Files };
                    BytesHash = RuntimeHelpers.GetHashCode(Bytes);
                    FilesHash = RuntimeHelpers.GetHashCode(Files);
                }
                public static byte[] GetBytes() => Bytes;
                public static Dictionary<string, byte[]> GetFiles() => Files;
            }
            """);
        var v2 = Program(Types + """
            public static partial class Program
            {
                public static byte[] Bytes;
                public static Dictionary<string, byte[]> Files;
                public static object BytesAsObject;
                public static Blob Holder;
                public static int BytesHash;
                public static int FilesHash;
                static void Init() { }
                public static byte[] GetBytes() => Bytes;
                public static Dictionary<string, byte[]> GetFiles() => Files;
                public static string Report() =>
                    $"{RuntimeHelpers.GetHashCode(Bytes) == BytesHash} {RuntimeHelpers.GetHashCode(Files) == FilesHash} " +
                    $"{ReferenceEquals(BytesAsObject, Bytes)} {ReferenceEquals(Holder.Data, Bytes)} {ReferenceEquals(Holder.Any, Files)} " +
                    $"{ReferenceEquals(Holder.Files, Files)} {ReferenceEquals(Files["a"], Bytes)} {Files["b"][0]}";
            }
            """);
        var v1Path = TestPrograms.Build("BR_Bytes", "v1", v1);
        var v2Path = TestPrograms.Build("BR_Bytes", "v2", v2);
        await using var host = await MoltHost.StartAsync(v1Path);
        var oldBytes = ProgramState.Call(host, "Program", "GetBytes");
        var oldFiles = ProgramState.Call(host, "Program", "GetFiles");

        var result = await host.UpdateAsync(v2Path);

        AssertCommitted(result);
        Assert.Same(oldBytes, ProgramState.Call(host, "Program", "GetBytes"));
        Assert.Same(oldFiles, ProgramState.Call(host, "Program", "GetFiles"));
        Assert.Equal("True True True True True True True 9", Report(host));
        Assert.True(result.ReferencesPassed > 0, result.ToString());
        Assert.Equal(1, result.ObjectsRebuilt); // Only the Blob: the framework objects are not copied.
    }

    [Fact]
    public async Task Update_FrameworkCollectionsOfPlainValues_PassAsTheSameObjects()
    {
        var v1 = Program("""
            public static partial class Program
            {
                public static List<string> Names;
                public static HashSet<int> Ids;
                public static StringBuilder Log;
                public static Dictionary<string, List<int>> Scores;
                static void Init() { Names = new() { "a", "b" }; Ids = new() { 1, 2 }; Log = new StringBuilder("x"); Scores = new() { ["a"] = new() { 1 } }; }
                public static object[] Objects() => new object[] { Names, Ids, Log, Scores, Scores["a"] };
            }
            """);
        var v2 = Program("""
            public static partial class Program
            {
                public static List<string> Names;
                public static HashSet<int> Ids;
                public static StringBuilder Log;
                public static Dictionary<string, List<int>> Scores;
                static void Init() { }
                public static object[] Objects() => new object[] { Names, Ids, Log, Scores, Scores["a"] };
            }
            """);
        var v1Path = TestPrograms.Build("BR_Collections", "v1", v1);
        var v2Path = TestPrograms.Build("BR_Collections", "v2", v2);
        await using var host = await MoltHost.StartAsync(v1Path);
        var before = (object[])ProgramState.Call(host, "Program", "Objects")!;

        var result = await host.UpdateAsync(v2Path);

        AssertCommitted(result);
        var after = (object[])ProgramState.Call(host, "Program", "Objects")!;
        for (var i = 0; i < before.Length; i++)
        {
            Assert.Same(before[i], after[i]);
        }
        Assert.Equal(0, result.ObjectsRebuilt);
    }


    [Fact]
    public async Task Update_ExceptionThrownByOldCode_DoesNotKeepTheOldVersionLoaded()
    {
        var v1 = Program("""
            public static partial class Program
            {
                public static Exception LastError;
                static void Init() { try { throw new InvalidOperationException("boom"); } catch (Exception e) { LastError = e; } }
            }
            """);
        var v2 = Program("""
            public static partial class Program
            {
                public static Exception LastError;
                static void Init() { }
                public static string Report() => $"{LastError.GetType().Name} {LastError.Message} {LastError.StackTrace.Contains("Init")}";
            }
            """);
        var (host, result) = await StartAndUpdate("BR_Exception", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        // The same exception type and message, and the stack trace of where v1 threw it, kept as text.
        Assert.Equal("InvalidOperationException boom True", Report(host));
    }
}
