namespace Molt.Hosting.Tests;

/// <summary>
/// The old version is collected after an update, whatever kind of state crossed: each kind of rebuilt
/// collection once made the new version's loader depend on the old one's (a generic instantiation over
/// both versions' types), so each is checked on its own.
/// </summary>
public class UnloadTests
{
    private const string NoUnits = TestPrograms.Usings + """
        public static class Program
        {
            public static int X;
            public static async Task Main(string[] args) { X++; await Live.RunAsync(); }
        }
        """;
    private const string ThreadUnit = TestPrograms.Usings + """
        public class S { public int N; }
        public static class Program
        {
            public static async Task Main(string[] args) { Live.StartThreadUnit("t", new S(), Run); await Live.RunAsync(); }
            public static void Run(S s) { while (true) { Live.UpdatePoint("p"); s.N++; Thread.Sleep(2); } }
        }
        """;
    private const string TaskUnitNoDelay = TestPrograms.Usings + """
        public class S { public int N; }
        public static class Program
        {
            public static async Task Main(string[] args) { Live.StartUnit("t", new S(), Run); await Live.RunAsync(); }
            public static async Task Run(S s) { while (true) { await Live.UpdatePointAsync("p"); s.N++; await Task.Yield(); } }
        }
        """;

    private const string DelayUnit = TestPrograms.Usings + """
        public class S { public int N; }
        public static class Program
        {
            public static async Task Main(string[] args) { Live.StartUnit("t", new S(), Run); await Live.RunAsync(); }
            public static async Task Run(S s) { while (true) { await Live.UpdatePointAsync("p"); s.N++; try { await Task.Delay(5, Live.UpdateRequested); } catch (OperationCanceledException) { } } }
        }
        """;
    private const string Dict = TestPrograms.Usings + """
        public class C { public int N; }
        public static class Program
        {
            public static Dictionary<string, C> D = new();
            public static async Task Main(string[] args) { if (!Live.IsUpdating) D["a"] = new C(); await Live.RunAsync(); }
        }
        """;

    private const string Arr = TestPrograms.Usings + """
        public class C { public int N; }
        public static class Program
        {
            public static C[] D;
            public static async Task Main(string[] args) { if (!Live.IsUpdating) D = new[] { new C() }; await Live.RunAsync(); }
        }
        """;
    private const string Lst = TestPrograms.Usings + """
        public class C { public int N; }
        public static class Program
        {
            public static List<C> D = new();
            public static async Task Main(string[] args) { if (!Live.IsUpdating) D.Add(new C()); await Live.RunAsync(); }
        }
        """;
    private const string Set = TestPrograms.Usings + """
        public class C { public int N; }
        public static class Program
        {
            public static HashSet<C> D = new();
            public static async Task Main(string[] args) { if (!Live.IsUpdating) D.Add(new C()); await Live.RunAsync(); }
        }
        """;

    [Theory]
    [InlineData("arr")]
    [InlineData("lst")]
    [InlineData("set")]
    [InlineData("delay")]
    [InlineData("dict")]
    [InlineData("nounits")]
    [InlineData("thread")]
    [InlineData("task")]
    public async Task Update_OldVersionIsCollected(string which)
    {
        var src = which switch { "nounits" => NoUnits, "arr" => Arr, "lst" => Lst, "set" => Set, "delay" => DelayUnit, "dict" => Dict, "thread" => ThreadUnit, _ => TaskUnitNoDelay };
        var v1 = TestPrograms.Build("B" + which, "v1", src);
        var v2 = TestPrograms.Build("B" + which, "v2", src + "\n//v2");
        await using var host = await MoltHost.StartAsync(v1);
        var result = await host.UpdateAsync(v2);
        Assert.True(result.OldVersionUnloaded, result.ToString());
    }

    private const string ProcessExitHandler = TestPrograms.Usings + """
        public static class Program
        {
            public static async Task Main(string[] args)
            {
                if (!Live.IsUpdating)
                {
                    AppDomain.CurrentDomain.ProcessExit += OnExit;
                    AppContext.SetData("leaky.settings", new Settings());
                }
                await Live.RunAsync();
            }
            static void OnExit(object sender, EventArgs e) { }
        }
        public class Settings { }
        """;

    [Fact]
    public async Task Update_OldVersionHeldByProcessWideState_WarnsNamingWhatHoldsIt()
    {
        // This test leaks its v1 on purpose, for the life of the test process: that is what it shows.
        var v1 = TestPrograms.Build("Leaky", "v1", ProcessExitHandler);
        var v2 = TestPrograms.Build("Leaky", "v2", ProcessExitHandler + "\n// v2");
        await using var host = await MoltHost.StartAsync(v1);

        var result = await host.UpdateAsync(v2);

        Assert.Equal(UpdateOutcome.Committed, result.Outcome);
        Assert.False(result.OldVersionUnloaded);
        Assert.Contains(result.Warnings, w => w.Contains("ProcessExit", StringComparison.Ordinal) && w.Contains("Program.OnExit", StringComparison.Ordinal));
        Assert.Contains(result.Warnings, w => w.Contains("AppContext.SetData(\"leaky.settings\")", StringComparison.Ordinal) && w.Contains("Settings", StringComparison.Ordinal));
    }
}
