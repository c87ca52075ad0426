using Xunit.Abstractions;
using Molt.Hosting.Control;
using static Molt.Hosting.Tests.Transfer.TransferTestKit;

namespace Molt.Hosting.Tests.Checking;

/// <summary>
/// The check's trial transfer: the types may allow an update that the values held right then do not (a delegate in a static,
/// a static event with a handler, a Lazy not yet evaluated, an immutable set of program objects, an enum value whose member is
/// gone). The check tries the transfer of the running state, read-only, and its verdict is what the update then does: NOT
/// compatible with the path to the holder when the update is rolled back at transfer, compatible when it commits.
/// </summary>
public class TrialTransferCheckTests(ITestOutputHelper output)
{
    private static string Text(CheckSummary summary) => string.Join("\n", summary.Lines);

    /// <summary>
    /// v1 holds a value that cannot cross; the check says NOT compatible with its path and the update is rolled back at transfer
    /// with the same path. Then <c>Program.Release()</c> lets go of it: the check says compatible and the update commits.
    /// </summary>
    private static async Task AssertHeldThenReleased(string name, string v1, string v2, string path, string? afterRelease = null)
    {
        var v1Path = TestPrograms.Build(name, "v1", v1);
        var v2Path = TestPrograms.Build(name, "v2", v2);
        await using var host = await MoltHost.StartAsync(v1Path);

        var held = await host.CheckAsync(v2Path);
        Assert.False(held.Compatible, Text(held));
        var refused = Assert.Single(held.Findings, f => f.Kind == CheckFindingKind.StateRefused);
        Assert.Equal(CheckSeverity.Incompatible, refused.Severity);
        Assert.Equal(path, refused.Path);
        Assert.Equal(CheckTrialOutcome.Refused, held.Trial?.Outcome);
        Assert.Contains("would be rolled back at transfer", held.Lines[^1], StringComparison.Ordinal);
        var failed = await host.UpdateAsync(v2Path);
        Assert.Equal(path, AssertRolledBack(host, failed, UpdatePhase.Transfer).StatePath);

        ProgramState.Call(host, "Program", "Release");
        var released = await host.CheckAsync(v2Path);
        Assert.True(released.Compatible, Text(released));
        Assert.Equal(CheckTrialOutcome.Carried, released.Trial?.Outcome);
        Assert.DoesNotContain(released.Findings, f => f.Kind == CheckFindingKind.StateRefused);
        var result = await host.UpdateAsync(v2Path);
        AssertCommitted(result);
        if (afterRelease is not null)
        {
            Assert.Equal(afterRelease, Report(host));
        }
    }

    [Fact]
    public async Task Check_DelegateInAStatic_NotCompatibleWithItsPath_NullCrosses()
    {
        const string Source = """
            public static partial class Program
            {
                public static Func<int, int> Twice;
                static void Init() => Twice = x => 2 * x;
                public static void Release() => Twice = null;
                public static string Report() => Twice is null ? "null" : "set";
            }
            """;
        await AssertHeldThenReleased("TC_Delegate", Program(Source), Program(Source + "\n// v2"), "static Program.Twice", "null");
    }

    [Fact]
    public async Task Check_StaticEventWithAHandler_NotCompatibleWithItsPath_NoHandlerCrosses()
    {
        const string Source = """
            public static partial class Program
            {
                public static event Action Changed;
                static void Init() => Changed += OnChanged;
                static void OnChanged() { }
                public static void Release() => Changed = null;
                public static string Report() => Changed is null ? "none" : "some";
            }
            """;
        await AssertHeldThenReleased("TC_Event", Program(Source), Program(Source + "\n// v2"), "static Program.Changed", "none");
    }

    [Fact]
    public async Task Check_LazyNotYetEvaluated_NotCompatibleWithItsPath_EvaluatedCrosses()
    {
        const string Source = """
            public class Settings { public int Port; }
            public static partial class Program
            {
                public static Lazy<Settings> Current;
                static void Init() => Current = new Lazy<Settings>(() => new Settings { Port = 6379 });
                public static void Release() => _ = Current.Value.Port;
                public static string Report() => $"{Current.IsValueCreated} {Current.Value.Port}";
            }
            """;
        // The holder is the Lazy's factory, a lambda of the old version.
        var v1 = Program(Source);
        await AssertHeldThenReleased("TC_Lazy", v1, Program(Source + "\n// v2"), "static Program.Current._factory", "True 6379");
    }

    [Fact]
    public async Task Check_ThreadLocalHeld_NotCompatibleWithItsPath_NullCrosses()
    {
        const string Source = """
            public class Session { public int Id; }
            public static partial class Program
            {
                public static ThreadLocal<Session> Active;
                static void Init() => Active = new ThreadLocal<Session>(() => new Session { Id = 1 });
                public static void Release() => Active = null;
                public static string Report() => Active is null ? "null" : "set";
            }
            """;
        await AssertHeldThenReleased("TC_ThreadLocal", Program(Source), Program(Source + "\n// v2"), "static Program.Active", "null");
    }

    [Fact]
    public async Task Check_EnumValueWhoseMemberWasRemoved_NotCompatibleWhileHeld_CompatibleWhenNotHeld()
    {
        var v1 = Program("""
            public enum Color { Red, Green, Purple }
            public class Pen { public Color Ink; }
            public static partial class Program
            {
                public static Pen P;
                public static List<Color> Used = new();
                static void Init() { P = new Pen { Ink = Color.Purple }; Used.Add(Color.Green); }
                public static void Release() => P.Ink = Color.Red;
            }
            """);
        var v2 = Program("""
            public enum Color { Green = 5, Red = 7 }
            public class Pen { public Color Ink; }
            public static partial class Program
            {
                public static Pen P;
                public static List<Color> Used = new();
                static void Init() { }
                public static string Report() => $"{P.Ink} {(int)P.Ink} {string.Join(",", Used)}";
            }
            """);
        var v2Path = TestPrograms.Build("TC_Enum", "v2", v2);
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("TC_Enum", "v1", v1));

        var held = await host.CheckAsync(v2Path);
        output.WriteLine(Text(held));
        Assert.False(held.Compatible, Text(held));
        var removed = Assert.Single(held.Findings, f => f.Kind == CheckFindingKind.EnumMemberRemoved);
        Assert.Equal(("Color.Purple", true), (removed.Subject, removed.Held));
        // The numbers of the members that remain change: each is listed with the member it maps to, by name.
        Assert.Equal("Color.Red = 7", Assert.Single(held.Findings, f => f.Kind == CheckFindingKind.EnumMemberRenumbered && f.Subject == "Color.Red").Value);
        Assert.Equal("Color.Green = 5", Assert.Single(held.Findings, f => f.Kind == CheckFindingKind.EnumMemberRenumbered && f.Subject == "Color.Green").Value);
        var refused = Assert.Single(held.Findings, f => f.Kind == CheckFindingKind.StateRefused);
        Assert.Equal("static Program.P.Ink", refused.Path);
        Assert.Contains("Purple", refused.Detail, StringComparison.Ordinal);
        Assert.Equal("static Program.P.Ink", AssertRolledBack(host, await host.UpdateAsync(v2Path), UpdatePhase.Transfer).StatePath);

        ProgramState.Call(host, "Program", "Release");
        var released = await host.CheckAsync(v2Path);
        Assert.True(released.Compatible, Text(released));
        Assert.False(Assert.Single(released.Findings, f => f.Kind == CheckFindingKind.EnumMemberRemoved).Held);
        AssertCommitted(await host.UpdateAsync(v2Path));
        Assert.Equal("Red 7 Green", Report(host));
    }

    [Fact]
    public async Task Check_EnumMemberRenamed_ReportedWithTheMemberItMapsTo_AndCarried()
    {
        var v1 = Program("""
            public enum Level { Low, High }
            public static partial class Program
            {
                public static Level L;
                static void Init() => L = Level.High;
            }
            """);
        var v2 = Program("""
            public enum Level { Low, [RenamedFrom("High")] Top }
            public static partial class Program
            {
                public static Level L;
                static void Init() { }
                public static string Report() => L.ToString();
            }
            """);
        var v2Path = TestPrograms.Build("TC_EnumRename", "v2", v2);
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("TC_EnumRename", "v1", v1));

        var check = await host.CheckAsync(v2Path);

        Assert.True(check.Compatible, Text(check));
        Assert.Equal("Level.Top = 1", Assert.Single(check.Findings, f => f.Kind == CheckFindingKind.EnumMemberRenamed && f.Subject == "Level.High").Value);
        Assert.DoesNotContain(check.Findings, f => f.Kind is CheckFindingKind.EnumMemberRemoved or CheckFindingKind.EnumMemberRenumbered);
        AssertCommitted(await host.UpdateAsync(v2Path));
        Assert.Equal("Top", Report(host));
    }

    [Fact]
    public async Task Check_FlagsEnumRenumbered_EachBitMapsByName()
    {
        var v1 = Program("""
            [Flags] public enum Perm { None = 0, Read = 1, Write = 2, Exec = 4 }
            public static partial class Program
            {
                public static Perm P;
                public static Perm[] All;
                static void Init() { P = Perm.Read | Perm.Exec; All = new[] { Perm.None, Perm.Write, Perm.Read | Perm.Write | Perm.Exec }; }
            }
            """);
        var v2 = Program("""
            [Flags] public enum Perm { None = 0, Exec = 1, Read = 2, Write = 4 }
            public static partial class Program
            {
                public static Perm P;
                public static Perm[] All;
                static void Init() { }
                public static string Report() => $"{(int)P} {string.Join(",", All.Select(a => (int)a))}";
            }
            """);
        var v2Path = TestPrograms.Build("TC_Flags", "v2", v2);
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("TC_Flags", "v1", v1));

        var check = await host.CheckAsync(v2Path);

        Assert.True(check.Compatible, Text(check));
        Assert.Equal(["Perm.Exec", "Perm.Read", "Perm.Write"],
            check.Findings.Where(f => f.Kind == CheckFindingKind.EnumMemberRenumbered).Select(f => f.Subject).Order(StringComparer.Ordinal));
        AssertCommitted(await host.UpdateAsync(v2Path));
        Assert.Equal("3 0,4,7", Report(host));
    }

    [Fact]
    public async Task Check_ClassBecomesStruct_SaysIdentityIsNotKept_AndTheUpdateCommits()
    {
        var v1 = Program("""
            public class Point { public int X; }
            public static partial class Program
            {
                public static Point P, Q, None;
                static void Init() { P = new Point { X = 3 }; Q = P; }
            }
            """);
        var v2 = Program("""
            public struct Point { public int X; }
            public static partial class Program
            {
                public static Point P, Q, None;
                static void Init() { }
                public static string Report() => $"{P.X} {Q.X} {None.X}";
            }
            """);
        var v2Path = TestPrograms.Build("TC_Kind", "v2", v2);
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("TC_Kind", "v1", v1));

        var check = await host.CheckAsync(v2Path);

        Assert.True(check.Compatible, Text(check));
        var kind = Assert.Single(check.Findings, f => f.Kind == CheckFindingKind.KindChanged);
        Assert.Equal(("Point", "struct"), (kind.Subject, kind.Value));
        Assert.Contains("identity not kept", kind.Detail, StringComparison.Ordinal);
        Assert.Contains("null becomes default", kind.Detail, StringComparison.Ordinal);
        AssertCommitted(await host.UpdateAsync(v2Path));
        Assert.Equal("3 3 0", Report(host));
    }

    [Fact]
    public async Task Check_TransformerThatThrows_NotCompatibleWithThePath_AndTheCheckedVersionIsCollected()
    {
        var v1 = Program("""
            public class Item { public string Code = ""; }
            public static partial class Program
            {
                public static List<Item> Items;
                static void Init() => Items = new() { new Item { Code = "a" }, new Item { Code = "" } };
            }
            """);
        var v2 = Program("""
            public class Item { public string Code = ""; public char First; }
            public static partial class Program
            {
                public static List<Item> Items;
                static void Init() { }
                [TransformField(typeof(Item), "First")]
                static char First(OldObject old) => old.Get<string>("Code")[0];
            }
            """);
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("TC_Throws", "v1", v1));

        var check = await host.CheckAsync(TestPrograms.Build("TC_Throws", "v2", v2));

        Assert.False(check.Compatible, Text(check));
        var refused = Assert.Single(check.Findings, f => f.Kind == CheckFindingKind.StateRefused);
        Assert.Equal("static Program.Items[1]", refused.Path);
        Assert.Contains("IndexOutOfRangeException", refused.Detail, StringComparison.Ordinal);
        await AssertCollected(host);
    }

    [Fact]
    public async Task Check_CompatibleTrial_ReportsItsNumbers_AndTheCheckedVersionIsCollected()
    {
        var v1 = Program("""
            public class Item { public int N; }
            public static partial class Program
            {
                public static Dictionary<int, Item> Items;
                public static byte[] Blob = new byte[16];
                static void Init() { Items = new(); for (var i = 0; i < 1000; i++) Items[i] = new Item { N = i }; }
                public static int Count() => Items.Count;
            }
            """);
        var v2 = Program("""
            public class Item { public int N; public int Twice; public string Note; }
            public static partial class Program
            {
                public static Dictionary<int, Item> Items;
                public static byte[] Blob = new byte[16];
                static void Init() { }
                [TransformField(typeof(Item), "Twice")]
                static int Twice(OldObject old) => 2 * old.Get<int>("N");
            }
            """);
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("TC_Numbers", "v1", v1));

        var check = await host.CheckAsync(TestPrograms.Build("TC_Numbers", "v2", v2));

        Assert.True(check.Compatible, Text(check));
        var trial = Assert.IsType<CheckTrial>(check.Trial);
        Assert.Equal(CheckTrialOutcome.Carried, trial.Outcome);
        Assert.Equal(1, trial.Attempts);
        Assert.True(trial.ObjectsRebuilt >= 1001, $"{trial.ObjectsRebuilt} objects rebuilt"); // the dictionary and its 1,000 items
        Assert.True(trial.ReferencesPassed >= 1, $"{trial.ReferencesPassed} references passed"); // the byte[]
        Assert.True(trial.Milliseconds > 0);
        Assert.Contains(check.Lines, l => l.StartsWith("trial transfer of the running state: every value crossed", StringComparison.Ordinal)
            && l.Contains("without the pause", StringComparison.Ordinal) && l.Contains("[AfterTransfer] steps and [StateCheck]s not run", StringComparison.Ordinal));
        Assert.Equal("transformer", Assert.Single(check.Findings, f => f.Kind == CheckFindingKind.FieldComputed && f.Subject == "Item.Twice").Value);
        var note = Assert.Single(check.Findings, f => f.Kind == CheckFindingKind.FieldAdded && f.Subject == "Item.Note");
        Assert.Equal("default", note.Value);
        Assert.EndsWith("gets default (null)", note.Detail, StringComparison.Ordinal);
        // The running version's state is untouched: the trial only read it.
        Assert.Equal(1000, (int)ProgramState.Call(host, "Program", "Count")!);
        await AssertCollected(host);
    }

    [Fact]
    public async Task Check_WhileTheProgramModifiesACollection_ReportsAndDoesNotCrash()
    {
        var v1 = TestPrograms.Usings + """
            public class Item { public int N; }
            public class Writer { public long Rounds; }
            public static class Program
            {
                public static Dictionary<int, Item> Items = new();
                public static Writer W = new();
                public static async Task Main(string[] args)
                {
                    if (!Live.IsUpdating)
                    {
                        for (var i = 0; i < 100_000; i++) Items[i] = new Item { N = i };
                    }
                    Live.StartThreadUnit("writer", W, Write);
                    await Live.RunAsync();
                }
                // Removes and adds keys without a pause: each changes the dictionary's version under any reader.
                public static void Write(Writer w)
                {
                    while (true)
                    {
                        Live.UpdatePoint("write");
                        for (var i = 0; i < 100; i++) { var k = (int)((w.Rounds * 100 + i) % 100_000); Items.Remove(k); Items[k] = new Item { N = k }; }
                        Volatile.Write(ref w.Rounds, w.Rounds + 1);
                    }
                }
                public static long Rounds() => Volatile.Read(ref W.Rounds);
            }
            """;
        var v2 = v1.Replace("public class Item { public int N; }", "public class Item { public int N; public long Stamp; }", StringComparison.Ordinal);
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("TC_Changing", "v1", v1));
        var before = (long)ProgramState.Call(host, "Program", "Rounds")!;

        var check = await host.CheckAsync(TestPrograms.Build("TC_Changing", "v2", v2));

        var trial = Assert.IsType<CheckTrial>(check.Trial);
        output.WriteLine(trial.ToString());
        Assert.True(trial.Outcome is CheckTrialOutcome.StateChanging or CheckTrialOutcome.Carried, Text(check));
        if (trial.Outcome == CheckTrialOutcome.StateChanging)
        {
            // No conclusion from the values: the verdict is the types', with a warning that says why.
            Assert.Equal(Molt.Hosting.Updating.TrialTransfer.MaxAttempts, trial.Attempts);
            Assert.Equal(CheckSeverity.Warning, Assert.Single(check.Findings, f => f.Kind == CheckFindingKind.TrialInconclusive).Severity);
            Assert.Contains("1 warning", check.Lines[^1], StringComparison.Ordinal);
        }
        Assert.True(check.Compatible, Text(check));
        Assert.DoesNotContain(check.Findings, f => f.Kind == CheckFindingKind.StateRefused);
        // The program ran on beside the check.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while ((long)ProgramState.Call(host, "Program", "Rounds")! <= before)
        {
            Assert.True(DateTime.UtcNow < deadline, "the writer stopped");
            await Task.Delay(10);
        }
    }

    internal static async Task AssertCollected(MoltHost host)
    {
        var context = host.LastCheckedContext;
        Assert.NotNull(context);
        for (var i = 0; i < 20 && context.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            await Task.Delay(10 * (i + 1));
        }
        Assert.False(context.IsAlive, "the checked version's context was not collected");
    }
}
