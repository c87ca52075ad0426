using static Molt.Hosting.Tests.Transfer.TransferTestKit;

namespace Molt.Hosting.Tests.Transfer;

/// <summary>
/// A type whose kind changed between versions: a class and a struct convert either way by copying fields (a struct has no
/// identity, so every reference to one old object becomes a copy, and a null reference the struct's default); an enum, an
/// interface and a class have nothing in common to copy, so the update is refused before any pause.
/// </summary>
public class KindChangeTests
{
    private const string Holders = """
        public class Holder { public Point Field; public object Boxed; }
        public static partial class Program
        {
            public static Point Single;
            public static Point Missing;
            public static Point Twice1;
            public static Point Twice2;
            public static Point[] Array;
            public static List<Point> Listed;
            public static Dictionary<string, Point> ByName;
            public static Holder Held;
        }
        """;

    private const string Init = """
        public static partial class Program
        {
            static void Init()
            {
                Single = Make(1);
                Missing = default;
                var shared = Make(2);
                Twice1 = shared; Twice2 = shared;
                Array = [Make(3), Make(4)];
                Listed = [Make(5)];
                ByName = new() { ["six"] = Make(6) };
                Held = new Holder { Field = Make(7), Boxed = Make(8) };
            }
        }
        """;

    private const string Report = """
        public static partial class Program
        {
            static void Init() { }
            public static string Report()
            {
                Twice1.X = 20; // a struct: changing one copy leaves the other as it was; a class: both see it
                return $"{Single.X},{Single.Y} {Show(Missing)} {Twice2.X} {Array[0].X},{Array[1].X} {Listed[0].X} {ByName["six"].X} " +
                    $"{Held.Field.X} {((Point)Held.Boxed).X} {Held.Boxed.GetType().IsValueType}";
            }
        }
        """;

    [Fact]
    public async Task Update_ClassBecomesStruct_EveryHolderKeepsItsValues_IdentityNotKept_NullBecomesDefault()
    {
        var v1 = Program(Holders.Replace("public static Point Missing;", "public static Point Missing;", StringComparison.Ordinal) + Init + """
            public class Point { public int X; public int Y; }
            public static partial class Program { static Point Make(int x) => new Point { X = x, Y = -x }; }
            """);
        var v2 = Program(Holders + Report + """
            public struct Point { public int X; public int Y; }
            public static partial class Program { static string Show(Point p) => $"{p.X},{p.Y}"; }
            """);
        var (host, result) = await StartAndUpdate("KC_ClassToStruct", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        // Twice2 stays 2 after Twice1 changed: two copies. The null Missing became default (0,0).
        Assert.Equal("1,-1 0,0 2 3,4 5 6 7 8 True", TransferTestKit.Report(host));
    }

    [Fact]
    public async Task Update_StructBecomesClass_EveryHolderKeepsItsValues()
    {
        var v1 = Program(Holders + Init + """
            public struct Point { public int X; public int Y; }
            public static partial class Program { static Point Make(int x) => new Point { X = x, Y = -x }; }
            """);
        var v2 = Program(Holders + Report + """
            public class Point { public int X; public int Y; }
            public static partial class Program { static string Show(Point p) => p is null ? "null" : $"{p.X},{p.Y}"; }
            """);
        var (host, result) = await StartAndUpdate("KC_StructToClass", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        // Each value became an object of its own: Twice1 and Twice2 are two objects, so Twice2 stays 2. Missing was a value (0,0).
        Assert.Equal("1,-1 0,0 2 3,4 5 6 7 8 False", TransferTestKit.Report(host));
    }

    [Fact]
    public async Task Update_RecordClassBecomesRecordStruct_AndBack_KeepsValues()
    {
        var v1 = Program("""
            public record Money(long Cents, string Currency);
            public static partial class Program
            {
                public static Money Price;
                public static Money[] Prices;
                static void Init() { Price = new Money(1250, "EUR"); Prices = [new Money(1, "USD"), null]; }
            }
            """);
        var v2 = Program("""
            public readonly record struct Money(long Cents, string Currency);
            public static partial class Program
            {
                public static Money Price;
                public static Money[] Prices;
                static void Init() { }
                public static string Report() => $"{Price} {Prices[0]} {Prices[1].Currency ?? "none"}";
            }
            """);
        var (host, result) = await StartAndUpdate("KC_Record", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("Money { Cents = 1250, Currency = EUR } Money { Cents = 1, Currency = USD } none", Report(host));

        var back = await host.UpdateAsync(TestPrograms.Build("KC_Record", "v3", v1.Replace("static void Init() { Price", "public static string Report() => $\"{Price} {Prices[0]} {Prices[1]?.Currency}\";\n static void Init() { if (Price is null) Price", StringComparison.Ordinal)));
        AssertCommitted(back);
        Assert.Equal("Money { Cents = 1250, Currency = EUR } Money { Cents = 1, Currency = USD } ", Report(host));
    }

    [Theory]
    [InlineData("public enum Shape { Round }", "public class Shape { public int Sides; }", "an enum and is now a class")]
    [InlineData("public class Shape { public int Sides; }", "public enum Shape { Round }", "a class and is now an enum")]
    [InlineData("public class Shape { public int Sides; }", "public interface Shape { }", "a class and is now an interface")]
    public async Task Update_KindChangeWithNothingToCopy_IsRefusedAtPrepareNamingTheField(string oldShape, string newShape, string why)
    {
        const string Uses = """
            public class Drawing { public Shape Main; }
            public static partial class Program
            {
                public static Drawing Current;
                static void Init() { Current = new Drawing(); }
            }
            """;
        var v1 = Program(oldShape + "\n" + Uses);
        var v2 = Program(newShape + "\n" + Uses);
        var (host, result) = await StartAndUpdate("KC_Refused" + Math.Abs(why.GetHashCode(StringComparison.Ordinal)), v1, v2);
        await using var _ = host;
        Assert.True(result.Outcome == UpdateOutcome.Refused, result.ToString());
        Assert.Contains("Drawing.Main changed from Shape to Shape", result.Failure!.Message, StringComparison.Ordinal);
        Assert.Contains(why, result.Failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_ClassBecomesStructReachingItselfThroughObject_RollsBackInsteadOfOverflowingTheStack()
    {
        var v1 = Program("""
            public class Node { public object Next; }
            public static partial class Program
            {
                public static Node Loop;
                static void Init() { Loop = new Node(); Loop.Next = Loop; }
            }
            """);
        var v2 = Program("""
            public struct Node { public object Next; }
            public static partial class Program
            {
                public static Node Loop;
                static void Init() { }
            }
            """);
        var (host, result) = await StartAndUpdate("KC_Loop", v1, v2);
        await using var _ = host;
        var failure = AssertRolledBack(host, result, UpdatePhase.Transfer);
        Assert.Contains("reaches itself", failure.Message, StringComparison.Ordinal);
    }
}
