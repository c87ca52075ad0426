using static Molt.Hosting.Tests.Transfer.TransferTestKit;

namespace Molt.Hosting.Tests.Transfer;

/// <summary>
/// State that runs the old version's code (delegates, tasks, threads, timers) cannot cross an update: the
/// update rolls back, names the path to it, and the old version goes on with its state intact.
/// </summary>
public class CannotCrossTests
{
    /// <summary>Updates v1 to v2 (same source with the marker changed), expects a rollback in Transfer, and checks the old version still serves.</summary>
    private static async Task<UpdateFailedException> AssertCannotCross(string name, string source)
    {
        var v1 = Program(source.Replace("VERSION", "v1", StringComparison.Ordinal));
        var v2 = Program(source.Replace("VERSION", "v2", StringComparison.Ordinal));
        await using var host = await MoltHost.StartAsync(TestPrograms.Build(name, "v1", v1));
        var before = Report(host);
        var result = await host.UpdateAsync(TestPrograms.Build(name, "v2", v2));
        var failure = AssertRolledBack(host, result, UpdatePhase.Transfer);
        Assert.StartsWith("v1 ", before, StringComparison.Ordinal);
        Assert.Equal(before, Report(host));
        Assert.NotNull(failure.StatePath);
        Assert.Contains(failure.StatePath, failure.Message, StringComparison.Ordinal);
        return failure;
    }

    [Fact]
    public async Task Update_StaticListOfLambdas_RollsBackWithThePath()
    {
        var failure = await AssertCannotCross("CC_Lambdas", """
            public static partial class Program
            {
                public static List<Action> handlers = new();
                public static int Calls;
                static void Init() { handlers.Add(() => Calls++); handlers.Add(() => Calls += 10); }
                public static string Report() { foreach (var h in handlers) h(); return $"VERSION {handlers.Count}"; }
            }
            """);
        Assert.Contains("static Program.handlers", failure.StatePath, StringComparison.Ordinal);
        Assert.Contains("delegate", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_LambdaInAGenericTypesStatics_RollsBackWithThePath()
    {
        var failure = await AssertCannotCross("CC_GenericLambdas", """
            public static class Handlers<T> { public static List<Func<T, T>> All = new(); }
            public static partial class Program
            {
                static void Init() => Handlers<int>.All.Add(x => x + 1);
                public static string Report() => $"VERSION {Handlers<int>.All[0](1)}";
            }
            """);
        Assert.StartsWith("static Handlers<System.Int32>.All", failure.StatePath, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_StaticFuncField_RollsBackWithThePath()
    {
        var failure = await AssertCannotCross("CC_Func", """
            public static partial class Program
            {
                public static Func<int, int> Square;
                static void Init() => Square = x => x * x;
                public static string Report() => $"VERSION {Square(7)}";
            }
            """);
        Assert.Equal("static Program.Square", failure.StatePath);
    }

    [Fact]
    public async Task Update_ObjectHoldingATask_RollsBackWithThePath()
    {
        var failure = await AssertCannotCross("CC_Task", """
            public class Job { public string Name; public Task Pending; }
            public static partial class Program
            {
                public static Dictionary<string, Job> Jobs = new();
                static void Init() => Jobs["build"] = new Job { Name = "build", Pending = new TaskCompletionSource().Task };
                public static string Report() => $"VERSION {Jobs["build"].Name} {Jobs["build"].Pending.IsCompleted}";
            }
            """);
        Assert.Contains("static Program.Jobs", failure.StatePath, StringComparison.Ordinal);
        Assert.Contains("Task", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_ObjectHoldingAThread_RollsBackWithThePath()
    {
        var failure = await AssertCannotCross("CC_Thread", """
            public class Worker { public string Name; public Thread Thread; }
            public static partial class Program
            {
                public static Worker W;
                static void Init() => W = new Worker { Name = "w", Thread = new Thread(() => { }) };
                public static string Report() => $"VERSION {W.Name} {W.Thread.ThreadState}";
            }
            """);
        Assert.Equal("static Program.W.Thread", failure.StatePath);
        Assert.Contains("Thread", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_StaticTimer_RollsBackWithThePath()
    {
        var failure = await AssertCannotCross("CC_Timer", """
            public static partial class Program
            {
                public static Timer Heartbeat;
                public static int Beats;
                static void Init() => Heartbeat = new Timer(_ => Beats++, null, Timeout.Infinite, Timeout.Infinite);
                public static string Report() => $"VERSION {Heartbeat != null}";
            }
            """);
        Assert.Equal("static Program.Heartbeat", failure.StatePath);
        Assert.Contains("timer", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_DelegateInAnInstanceField_RollsBackWithThePath()
    {
        var failure = await AssertCannotCross("CC_Callback", """
            public class Button { public string Label; public EventHandler Clicked; }
            public static partial class Program
            {
                public static List<Button> Buttons = new();
                public static int Clicks;
                static void Init() { Buttons.Add(new Button { Label = "ok" }); Buttons.Add(new Button { Label = "go", Clicked = (s, e) => Clicks++ }); }
                public static string Report() => $"VERSION {Buttons.Count}";
            }
            """);
        Assert.Contains("static Program.Buttons", failure.StatePath, StringComparison.Ordinal);
        Assert.EndsWith(".Clicked", failure.StatePath, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_NotMigratedStaticDelegate_Commits()
    {
        var v1 = Program("""
            public static partial class Program
            {
                public static Func<string> Greet = () => "hello from v1";
                public static List<string> Log = new();
                static void Init() => Log.Add(Greet());
            }
            """);
        var v2 = Program("""
            public static partial class Program
            {
                [NotMigrated] public static Func<string> Greet = () => "hello from v2";
                public static List<string> Log = new();
                static void Init() { }
                public static string Report() => $"{string.Join(",", Log)} / {Greet()}";
            }
            """);
        var (host, result) = await StartAndUpdate("CC_NotMigrated", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("hello from v1 / hello from v2", Report(host));
    }

    [Fact]
    public async Task Update_FrameworkDelegateWithNoProgramCode_PassesByReference()
    {
        var v1 = Program("""
            public static partial class Program
            {
                public static Func<string, string> Upper;
                static void Init() => Upper = (Func<string, string>)Delegate.CreateDelegate(typeof(Func<string, string>), typeof(string).GetMethod("ToUpperInvariant", Type.EmptyTypes));
            }
            """);
        var v2 = Program("""
            public static partial class Program
            {
                public static Func<string, string> Upper;
                static void Init() { }
                public static string Report() => Upper("abc");
            }
            """);
        var (host, result) = await StartAndUpdate("CC_FrameworkDelegate", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("ABC", Report(host));
    }
}
