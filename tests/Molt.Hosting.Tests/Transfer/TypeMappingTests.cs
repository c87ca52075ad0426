using static Molt.Hosting.Tests.Transfer.TransferTestKit;

namespace Molt.Hosting.Tests.Transfer;

/// <summary>Objects of every kind of program type are rebuilt as the new version's types, with their values.</summary>
public class TypeMappingTests
{
    [Fact]
    public async Task Update_ClassFields_KeepValues()
    {
        const string Types = """
            public class Account
            {
                public int Id;
                public string Owner;
                private decimal _balance;
                public readonly DateTime Opened;
                public Account Parent;
                public Account(int id, string owner, decimal balance, DateTime opened) { Id = id; Owner = owner; _balance = balance; Opened = opened; }
                public decimal Balance => _balance;
            }
            """;
        var v1 = Program(Types + """
            public static partial class Program
            {
                public static Account Main1;
                static void Init() => Main1 = new Account(7, "ann", 12.5m, new DateTime(2024, 1, 2)) { Parent = new Account(1, "bank", 0m, default) };
            }
            """);
        var v2 = Program(Types + """
            public static partial class Program
            {
                public static Account Main1;
                static void Init() { }
                public static string Report() => $"{Main1.Id} {Main1.Owner} {Main1.Balance} {Main1.Opened:yyyy-MM-dd} {Main1.Parent.Owner} {Main1.Parent.Parent == null}";
            }
            """);
        var (host, result) = await StartAndUpdate("TM_Class", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("7 ann 12.5 2024-01-02 bank True", Report(host));
        Assert.Equal(2, result.ObjectsRebuilt);
    }

    [Fact]
    public async Task Update_Structs_KeepValues()
    {
        const string Types = """
            public struct Point { public int X; public int Y; }
            public struct Tagged { public Point At; public string Label; public Box Ref; }
            public class Box { public int N; }
            """;
        var v1 = Program(Types + """
            public static partial class Program
            {
                public static Point P;
                public static Tagged T;
                public static Point[] Ps;
                static void Init()
                {
                    P = new Point { X = 3, Y = 4 };
                    T = new Tagged { At = new Point { X = 5, Y = 6 }, Label = "t", Ref = new Box { N = 9 } };
                    Ps = new[] { new Point { X = 1 }, new Point { Y = 2 } };
                }
            }
            """);
        var v2 = Program(Types + """
            public static partial class Program
            {
                public static Point P;
                public static Tagged T;
                public static Point[] Ps;
                static void Init() { }
                public static string Report() => $"{P.X},{P.Y} {T.At.X},{T.At.Y} {T.Label} {T.Ref.N} {Ps[0].X},{Ps[1].Y} {T.Ref.GetType().Assembly == typeof(Program).Assembly}";
            }
            """);
        var (host, result) = await StartAndUpdate("TM_Struct", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("3,4 5,6 t 9 1,2 True", Report(host));
    }

    [Fact]
    public async Task Update_RecordClassAndRecordStruct_KeepValuesAndEquality()
    {
        const string Types = """
            public record Person(string Name, int Age);
            public record struct Coord(double Lat, double Lon);
            public record Visit(Person Who, Coord Where);
            """;
        var v1 = Program(Types + """
            public static partial class Program
            {
                public static Person Ann;
                public static Coord Home;
                public static Visit Last;
                static void Init() { Ann = new Person("ann", 31); Home = new Coord(1.5, 2.5); Last = new Visit(Ann, Home); }
            }
            """);
        var v2 = Program(Types + """
            public static partial class Program
            {
                public static Person Ann;
                public static Coord Home;
                public static Visit Last;
                static void Init() { }
                public static string Report() =>
                    $"{Ann} {Home} {Ann == new Person("ann", 31)} {Home == new Coord(1.5, 2.5)} {ReferenceEquals(Last.Who, Ann)} {Last == new Visit(new Person("ann", 31), new Coord(1.5, 2.5))}";
            }
            """);
        var (host, result) = await StartAndUpdate("TM_Record", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("Person { Name = ann, Age = 31 } Coord { Lat = 1.5, Lon = 2.5 } True True True True", Report(host));
    }

    [Fact]
    public async Task Update_UnchangedEnum_KeepsValues()
    {
        const string Types = """
            public enum Level { Low, Mid, High }
            [Flags] public enum Perm : byte { None = 0, Read = 1, Write = 2, Exec = 4 }
            public class Job { public Level Level; public Perm Perm; }
            """;
        var v1 = Program(Types + """
            public static partial class Program
            {
                public static Level L;
                public static Job J;
                public static List<Level> Ls;
                static void Init() { L = Level.High; J = new Job { Level = Level.Mid, Perm = Perm.Read | Perm.Exec }; Ls = new() { Level.Low, Level.High }; }
            }
            """);
        var v2 = Program(Types + """
            public static partial class Program
            {
                public static Level L;
                public static Job J;
                public static List<Level> Ls;
                static void Init() { }
                public static string Report() => $"{L} {J.Level} {J.Perm} {string.Join(",", Ls)}";
            }
            """);
        var (host, result) = await StartAndUpdate("TM_Enum", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("High Mid Read, Exec Low,High", Report(host));
    }

    [Fact]
    public async Task Update_EnumMembersReorderedRenamedAndFlags_MapByNameNeverByNumber()
    {
        var v1 = Program("""
            public enum Color { Red, Green, Blue, Purple = 7 }
            [Flags] public enum Access { None = 0, Read = 1, Write = 2, Exec = 4, ReadWrite = Read | Write }
            public class Pen { public Color Ink; public object Boxed; }
            public static partial class Program
            {
                public static Color A;
                public static Color B;
                public static Pen P;
                public static Color[] All;
                public static List<Color> Listed;
                public static Dictionary<Color, string> Keyed;
                public static Access[] Rights;
                static void Init()
                {
                    A = Color.Green; B = Color.Purple; P = new Pen { Ink = Color.Blue, Boxed = Color.Purple };
                    All = new[] { Color.Red, Color.Green, Color.Blue, Color.Purple };
                    Listed = [Color.Purple, Color.Red];
                    Keyed = new() { [Color.Purple] = "p", [Color.Red] = "r" };
                    Rights = [Access.None, Access.Read, Access.Write | Access.Exec, Access.ReadWrite, Access.ReadWrite | Access.Exec];
                }
            }
            """);
        // Reordered (so every number changed), Purple renamed Violet with another number; the flags renumbered, Exec renamed Run.
        var v2 = Program("""
            public enum Color { Blue, Red, Green, [RenamedFrom("Purple")] Violet = 9 }
            [Flags] public enum Access { None = 0, Write = 1, Read = 8, [RenamedFrom("Exec")] Run = 16, ReadWrite = Read | Write }
            public class Pen { public Color Ink; public object Boxed; }
            public static partial class Program
            {
                public static Color A;
                public static Color B;
                public static Pen P;
                public static Color[] All;
                public static List<Color> Listed;
                public static Dictionary<Color, string> Keyed;
                public static Access[] Rights;
                static void Init() { }
                public static string Report() =>
                    $"{A} {B} {P.Ink} {P.Boxed} {string.Join(",", All)} {string.Join(",", Listed)} " +
                    $"{string.Join(",", Keyed.OrderBy(k => k.Value).Select(k => $"{k.Key}={k.Value}"))} {string.Join(";", Rights.Select(r => (int)r))}";
            }
            """);
        var (host, result) = await StartAndUpdate("TM_EnumReorder", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("Green Violet Blue Violet Red,Green,Blue,Violet Violet,Red Violet=p,Red=r 0;8;17;9;25", Report(host));
    }

    [Fact]
    public async Task Update_EnumValueWithNoMemberInTheNewVersion_RollsBackWithItsPath()
    {
        var v1 = Program("""
            public enum Color { Red, Green, Purple }
            public class Pen { public Color Ink; }
            public static partial class Program
            {
                public static Pen[] Pens;
                static void Init() => Pens = [new Pen { Ink = Color.Red }, new Pen { Ink = Color.Purple }];
            }
            """);
        var v2 = Program("""
            public enum Color { Red, Green }
            public class Pen { public Color Ink; }
            public static partial class Program
            {
                public static Pen[] Pens;
                static void Init() { }
            }
            """);
        var (host, result) = await StartAndUpdate("TM_EnumRemoved", v1, v2);
        await using var _ = host;
        var failure = AssertRolledBack(host, result, UpdatePhase.Transfer);
        Assert.Contains("Purple has no member", failure.Message, StringComparison.Ordinal);
        Assert.Contains("static Program.Pens[1].Ink", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_EnumValueWithNoMemberCoveredByATypeTransformer_CommitsWithTheTransformersValue_AndTheCheckSaysSo()
    {
        var v1 = Program("""
            public enum Color { Red, Green, Purple }
            public static partial class Program
            {
                public static Color[] Inks;
                static void Init() => Inks = [Color.Red, Color.Purple, Color.Green];
            }
            """);
        var v2 = Program("""
            public enum Color { Red, Green, Violet }
            public static partial class Program
            {
                public static Color[] Inks;
                static void Init() { }
                // Purple is gone: it becomes Violet; every other value keeps its name.
                [TransformType("Color")]
                static Color Recolor(OldObject old) => old.Instance.ToString() == "Purple" ? Color.Violet : Enum.Parse<Color>(old.Instance.ToString()!);
                public static string Report() => string.Join(",", Inks);
            }
            """);
        var v1Path = TestPrograms.Build("TM_EnumTransformed", "v1", v1);
        var v2Path = TestPrograms.Build("TM_EnumTransformed", "v2", v2);
        await using var host = await MoltHost.StartAsync(v1Path);

        var check = await host.CheckAsync(v2Path);
        var result = await host.UpdateAsync(v2Path);

        Assert.True(check.Compatible, string.Join("\n", check.Lines));
        Assert.Contains(check.Lines, l => l.Contains("Color", StringComparison.Ordinal) && l.Contains("Recolor", StringComparison.Ordinal));
        AssertCommitted(result);
        Assert.Equal("Red,Violet,Green", Report(host));
    }

    [Fact]
    public async Task Update_NullableValues_KeepValuesAndNulls()
    {
        const string Types = """
            public struct Money { public long Cents; public string Currency; }
            public class Item { public int? Stock; public Money? Price; public Money? NoPrice; }
            """;
        var v1 = Program(Types + """
            public static partial class Program
            {
                public static int? Some;
                public static int? None;
                public static Money? Cash;
                public static Item It;
                public static List<Money?> Prices;
                static void Init()
                {
                    Some = 5; None = null; Cash = new Money { Cents = 250, Currency = "EUR" };
                    It = new Item { Stock = 3, Price = new Money { Cents = 99, Currency = "USD" } };
                    Prices = new() { null, new Money { Cents = 1, Currency = "GBP" } };
                }
            }
            """);
        var v2 = Program(Types + """
            public static partial class Program
            {
                public static int? Some;
                public static int? None;
                public static Money? Cash;
                public static Item It;
                public static List<Money?> Prices;
                static void Init() { }
                public static string Report() =>
                    $"{Some} {None.HasValue} {Cash.Value.Cents}{Cash.Value.Currency} {It.Stock} {It.Price.Value.Cents}{It.Price.Value.Currency} {It.NoPrice.HasValue} " +
                    $"{Prices[0].HasValue} {Prices[1].Value.Currency}";
            }
            """);
        var (host, result) = await StartAndUpdate("TM_Nullable", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("5 False 250EUR 3 99USD False False GBP", Report(host));
    }

    [Fact]
    public async Task Update_BaseTypedFieldHoldingDerived_KeepsDerivedTypeAndBaseFields()
    {
        const string Types = """
            public abstract class Animal { public string Name; protected int Legs; private string _secret = "s"; public string Describe() => $"{Name}/{Legs}/{_secret}/{Kind()}"; protected abstract string Kind(); }
            public class Dog : Animal { public bool Good; public Dog(string name) { Name = name; Legs = 4; } protected override string Kind() => "dog:" + Good; }
            public class Bird : Animal { public double Wingspan; public Bird() { Legs = 2; } protected override string Kind() => "bird:" + Wingspan; }
            """;
        var v1 = Program(Types + """
            public static partial class Program
            {
                public static Animal Pet;
                public static List<Animal> Zoo;
                static void Init() { Pet = new Dog("rex") { Good = true }; Zoo = new() { Pet, new Bird { Name = "tweety", Wingspan = 0.3 } }; }
            }
            """);
        var v2 = Program(Types + """
            public static partial class Program
            {
                public static Animal Pet;
                public static List<Animal> Zoo;
                static void Init() { }
                public static string Report() => $"{Pet.GetType().Name} {Pet.Describe()} {string.Join(" ", Zoo.Select(a => a.Describe()))} {ReferenceEquals(Pet, Zoo[0])}";
            }
            """);
        var (host, result) = await StartAndUpdate("TM_Inherit", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("Dog rex/4/s/dog:True rex/4/s/dog:True tweety/2/s/bird:0.3 True", Report(host));
    }

    [Fact]
    public async Task Update_InterfaceTypedFields_RebuildImplementations()
    {
        const string Types = """
            public interface IShape { double Area(); }
            public class Square : IShape { public double Side; public double Area() => Side * Side; }
            public struct Circle : IShape { public double R; public double Area() => Math.Round(3 * R * R, 2); }
            public class Drawing { public IShape Main; public IList<IShape> All; public IReadOnlyDictionary<string, IShape> ByName; }
            """;
        var v1 = Program(Types + """
            public static partial class Program
            {
                public static IShape Shape;
                public static Drawing D;
                static void Init()
                {
                    Shape = new Square { Side = 2 };
                    D = new Drawing { Main = new Circle { R = 1 }, All = new List<IShape> { Shape, new Circle { R = 2 } }, ByName = new Dictionary<string, IShape> { ["sq"] = Shape } };
                }
            }
            """);
        var v2 = Program(Types + """
            public static partial class Program
            {
                public static IShape Shape;
                public static Drawing D;
                static void Init() { }
                public static string Report() =>
                    $"{Shape.Area()} {D.Main.GetType().Name}:{D.Main.Area()} {string.Join(",", D.All.Select(s => s.Area()))} {ReferenceEquals(D.ByName["sq"], Shape)} {D.All.GetType().Name}";
            }
            """);
        var (host, result) = await StartAndUpdate("TM_Interface", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("4 Circle:3 4,12 True List`1", Report(host));
    }

    [Fact]
    public async Task Update_ObjectTypedFields_RebuildProgramObjectsAndKeepOthers()
    {
        const string Types = """
            public class Entry { public string Key; public int Value; }
            public struct Pair { public int A; public int B; }
            """;
        var v1 = Program(Types + """
            public static partial class Program
            {
                public static object Obj;
                public static object Boxed;
                public static object BoxedStruct;
                public static object Text;
                public static object[] Mixed;
                public static List<object> Bag;
                static void Init()
                {
                    Obj = new Entry { Key = "k", Value = 1 };
                    Boxed = 42;
                    BoxedStruct = new Pair { A = 1, B = 2 };
                    Text = "hello";
                    Mixed = new object[] { Obj, 3.5, null, new Entry { Key = "m", Value = 2 } };
                    Bag = new() { Obj, BoxedStruct, 'c' };
                }
            }
            """);
        var v2 = Program(Types + """
            public static partial class Program
            {
                public static object Obj;
                public static object Boxed;
                public static object BoxedStruct;
                public static object Text;
                public static object[] Mixed;
                public static List<object> Bag;
                static void Init() { }
                public static string Report()
                {
                    var e = (Entry)Obj;
                    var p = (Pair)BoxedStruct;
                    return $"{e.Key}{e.Value} {(int)Boxed} {p.A}{p.B} {Text} {ReferenceEquals(Mixed[0], Obj)} {Mixed[1]} {Mixed[2] == null} {((Entry)Mixed[3]).Key} " +
                        $"{ReferenceEquals(Bag[0], Obj)} {Bag[1] is Pair} {Bag[2]}";
                }
            }
            """);
        var (host, result) = await StartAndUpdate("TM_Object", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("k1 42 12 hello True 3.5 True m True True c", Report(host));
    }


    [Fact]
    public async Task Update_TypeObjectsOfProgramTypes_BecomeTheNewTypes()
    {
        const string Types = """
            public class Entry { public string Name; }
            public class Handler { public Type Handles; }
            """;
        var v1 = Program(Types + """
            public static partial class Program
            {
                public static Type Kind;
                public static Dictionary<Type, string> Names = new();
                public static Type Framework;
                public static Handler H;
                static void Init()
                {
                    Kind = typeof(Entry); Names[typeof(Entry)] = "entry"; Names[typeof(List<Entry>)] = "list"; Names[typeof(int)] = "int";
                    Framework = typeof(string); H = new Handler { Handles = typeof(Entry[]) };
                }
            }
            """);
        var v2 = Program(Types + """
            public static partial class Program
            {
                public static Type Kind;
                public static Dictionary<Type, string> Names = new();
                public static Type Framework;
                public static Handler H;
                static void Init() { }
                public static string Report() =>
                    $"{Kind == typeof(Entry)} {Names.GetValueOrDefault(typeof(Entry))} {Names.GetValueOrDefault(typeof(List<Entry>))} {Names[typeof(int)]} {Framework == typeof(string)} {H.Handles == typeof(Entry[])}";
            }
            """);
        var (host, result) = await StartAndUpdate("TM_TypeObjects", v1, v2);
        await using var _ = host;
        AssertCommitted(result); // An old Type object passed as it is would also keep the old version loaded.
        Assert.Equal("True entry list int True True", Report(host));
    }
}
