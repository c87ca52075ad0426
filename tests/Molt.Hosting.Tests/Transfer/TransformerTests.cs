using static Molt.Hosting.Tests.Transfer.TransferTestKit;

namespace Molt.Hosting.Tests.Transfer;

/// <summary>The new version's transformers reshape the state where the default mapping cannot.</summary>
public class TransformerTests
{
    [Fact]
    public async Task Update_FillTransformer_SplitsAField()
    {
        var v1 = Program("""
            public class Person { public string FullName; public int Age; }
            public static partial class Program
            {
                public static List<Person> People = new();
                static void Init() { People.Add(new Person { FullName = "Ada Lovelace", Age = 36 }); People.Add(new Person { FullName = "Alan Turing", Age = 41 }); }
            }
            """);
        var v2 = Program("""
            public class Person { public string First; public string Last; public int Age; }
            public static partial class Program
            {
                public static List<Person> People = new();
                static void Init() { }
                [TransformType("Person")]
                static void Split(OldObject old, Person p)
                {
                    var parts = old.Get<string>("FullName").Split(' ');
                    p.First = parts[0];
                    p.Last = parts[1];
                }
                public static string Report() => string.Join(" ", People.Select(p => $"{p.Last},{p.First}:{p.Age}"));
            }
            """);
        var (host, result) = await StartAndUpdate("TR_Split", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("Lovelace,Ada:36 Turing,Alan:41", Report(host));
        Assert.Contains("Person.FullName", result.DroppedFields);
    }

    [Fact]
    public async Task Update_FillTransformer_MergesFieldsAndRetypesOne()
    {
        var v1 = Program("""
            public class Price { public long Units; public int Cents; public string Currency; public string Note; }
            public static partial class Program
            {
                public static Price P;
                static void Init() => P = new Price { Units = 12, Cents = 5, Currency = "EUR", Note = "3" };
            }
            """);
        // Note changes type (string to int): the fill transformer covers it, so the update is not refused.
        var v2 = Program("""
            public class Price { public decimal Amount; public string Currency; public int Note; }
            public static partial class Program
            {
                public static Price P;
                static void Init() { }
                [TransformType("Price")]
                static void Merge(OldObject old, Price p)
                {
                    p.Amount = old.Get<long>("Units") + old.Get<int>("Cents") / 100m;
                    p.Note = int.Parse(old.Get<string>("Note"));
                }
                public static string Report() => FormattableString.Invariant($"{P.Amount} {P.Currency} {P.Note}");
            }
            """);
        var (host, result) = await StartAndUpdate("TR_Merge", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("12.05 EUR 3", Report(host));
    }

    [Fact]
    public async Task Update_FactoryTransformer_TurnsByteArrayValueObjectsIntoATypedHierarchy()
    {
        var v1 = Program("""
            public class Message { public byte[] Payload; public int Seq; }
            public static partial class Program
            {
                public static List<Message> Inbox = new();
                public static Message Latest;
                static void Init()
                {
                    Inbox.Add(new Message { Payload = new byte[] { 1, (byte)'h', (byte)'i' }, Seq = 1 });
                    Inbox.Add(new Message { Payload = new byte[] { 2, 42 }, Seq = 2 });
                    Latest = Inbox[1];
                }
            }
            """);
        var v2 = Program("""
            public abstract class Message { public int Seq; public abstract string Show(); }
            public sealed class TextMessage : Message { public string Text; public override string Show() => $"text:{Text}#{Seq}"; }
            public sealed class NumberMessage : Message { public int Value; public override string Show() => $"number:{Value}#{Seq}"; }
            public static partial class Program
            {
                public static List<Message> Inbox = new();
                public static Message Latest;
                static void Init() { }
                [TransformType("Message")]
                static Message FromPayload(OldObject old)
                {
                    var payload = old.Get<byte[]>("Payload");
                    var seq = old.Get<int>("Seq");
                    return payload[0] == 1
                        ? new TextMessage { Text = Encoding.ASCII.GetString(payload, 1, payload.Length - 1), Seq = seq }
                        : new NumberMessage { Value = payload[1], Seq = seq };
                }
                public static string Report() => $"{string.Join(" ", Inbox.Select(m => m.Show()))} {ReferenceEquals(Latest, Inbox[1])}";
            }
            """);
        var (host, result) = await StartAndUpdate("TR_Factory", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("text:hi#1 number:42#2 True", Report(host));
    }

    [Fact]
    public async Task Update_FactoryTransformer_TurnsOneTypeIntoAnotherNamedType()
    {
        var v1 = Program("""
            public class Blob { public string Text; }
            public static partial class Program
            {
                public static Blob B;
                public static Dictionary<string, Blob> Docs = new();
                static void Init() { B = new Blob { Text = "a b c" }; Docs["x"] = B; }
            }
            """);
        var v2 = Program("""
            public class Document { public string[] Words; }
            public static partial class Program
            {
                public static Document B;
                public static Dictionary<string, Document> Docs = new();
                static void Init() { }
                [TransformType("Blob")]
                static Document ToDocument(OldObject old) => new Document { Words = old.Get<string>("Text").Split(' ') };
                public static string Report() => $"{string.Join("|", B.Words)} {ReferenceEquals(Docs["x"], B)}";
            }
            """);
        var (host, result) = await StartAndUpdate("TR_FactoryRename", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("a|b|c True", Report(host));
    }

    [Fact]
    public async Task Update_FieldTransformer_ComputesNewFieldsFromOldOnes()
    {
        var v1 = Program("""
            public class Order { public int Qty; public decimal UnitPrice; public string Placed; }
            public static partial class Program
            {
                public static Order O;
                static void Init() => O = new Order { Qty = 3, UnitPrice = 2.5m, Placed = "2024-03-04" };
            }
            """);
        // Total is new and computed; Placed changes type from string to DateTime, covered by its field transformer.
        var v2 = Program("""
            public class Order { public int Qty; public decimal UnitPrice; public decimal Total; public DateTime Placed; }
            public static partial class Program
            {
                public static Order O;
                static void Init() { }
                [TransformField(typeof(Order), "Total")]
                static decimal Total(OldObject old) => old.Get<int>("Qty") * old.Get<decimal>("UnitPrice");
                [TransformField(typeof(Order), "Placed")]
                static DateTime Placed(OldObject old) => DateTime.Parse(old.Get<string>("Placed"), System.Globalization.CultureInfo.InvariantCulture);
                public static string Report() => FormattableString.Invariant($"{O.Qty} {O.UnitPrice} {O.Total} {O.Placed:yyyy/MM/dd}");
            }
            """);
        var (host, result) = await StartAndUpdate("TR_Field", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("3 2.5 7.5 2024/03/04", Report(host));
    }

    [Fact]
    public async Task Update_GetOld_ReadsANestedOldObjectOfARemovedType()
    {
        var v1 = Program("""
            public class Address { public string City; public string Zip; }
            public class Customer { public string Name; public Address Address; }
            public static partial class Program
            {
                public static List<Customer> Customers = new();
                static void Init()
                {
                    Customers.Add(new Customer { Name = "ann", Address = new Address { City = "Oslo", Zip = "0150" } });
                    Customers.Add(new Customer { Name = "bob" });
                }
            }
            """);
        // Address is gone: the customer keeps its city, read from the old address through GetOld.
        var v2 = Program("""
            public class Customer { public string Name; public string City; }
            public static partial class Program
            {
                public static List<Customer> Customers = new();
                static void Init() { }
                [TransformField(typeof(Customer), "City")]
                static string City(OldObject old) => old.GetOld("Address") is { } address ? $"{address.Get<string>("City")} ({address.TypeName}, {address.Has("Zip")})" : "none";
                public static string Report() => string.Join(" ", Customers.Select(c => $"{c.Name}:{c.City}"));
            }
            """);
        var (host, result) = await StartAndUpdate("TR_GetOld", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("ann:Oslo (Address, True) bob:none", Report(host));
        Assert.Contains("Customer.Address", result.DroppedFields);
    }

    [Fact]
    public async Task Update_NewOf_GivesTheRebuiltObject()
    {
        var v1 = Program("""
            public class Player { public string Name; }
            public class Team { public List<Player> Players = new(); public int CaptainIndex; }
            public static partial class Program
            {
                public static Team T;
                static void Init()
                {
                    T = new Team { CaptainIndex = 1 };
                    T.Players.Add(new Player { Name = "a" }); T.Players.Add(new Player { Name = "b" }); T.Players.Add(new Player { Name = "c" });
                }
            }
            """);
        // The captain becomes a reference to the player's new object, the very one in the rebuilt list.
        var v2 = Program("""
            public class Player { public string Name; }
            public class Team { public List<Player> Players = new(); public Player Captain; }
            public static partial class Program
            {
                public static Team T;
                static void Init() { }
                [TransformField(typeof(Team), "Captain")]
                static Player Captain(OldObject old)
                {
                    var players = (IList)old.GetOld("Players").Instance;
                    return old.NewOf<Player>(players[old.Get<int>("CaptainIndex")]);
                }
                public static string Report() => $"{T.Captain.Name} {ReferenceEquals(T.Captain, T.Players[1])} {T.Players.Count}";
            }
            """);
        var (host, result) = await StartAndUpdate("TR_NewOf", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("b True 3", Report(host));
    }

    [Fact]
    public async Task Update_AfterTransfer_BuildsAnIndexFromOldStatics()
    {
        var v1 = Program("""
            public class User { public string Email; public string Name; }
            public static partial class Program
            {
                public static List<User> Users = new();
                public static int NextId;
                static void Init()
                {
                    Users.Add(new User { Email = "a@x", Name = "ann" });
                    Users.Add(new User { Email = "b@x", Name = "bob" });
                    NextId = 3;
                }
            }
            """);
        // v2 adds an index by email, built once from the migrated users; NextId moved into a Config class.
        var v2 = Program("""
            public class User { public string Email; public string Name; }
            public static class Config { public static int NextId; }
            public static partial class Program
            {
                public static List<User> Users = new();
                public static Dictionary<string, User> ByEmail = new();
                static void Init() { }
                [AfterTransfer]
                static void BuildIndex(OldVersion old)
                {
                    var statics = old.Statics("Program");
                    foreach (var user in (IEnumerable)statics.GetOld("Users").Instance)
                    {
                        var migrated = old.NewOf<User>(user);
                        ByEmail[migrated.Email] = migrated;
                    }
                    Config.NextId = statics.Get<int>("NextId");
                }
                public static string Report() => $"{ByEmail.Count} {ByEmail["b@x"].Name} {ReferenceEquals(ByEmail["a@x"], Users[0])} {Config.NextId}";
            }
            """);
        var (host, result) = await StartAndUpdate("TR_After", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("2 bob True 3", Report(host));
        Assert.Contains("static Program.NextId", result.DroppedFields);
    }

    [Fact]
    public async Task Update_TransformerThrows_RollsBackNamingIt()
    {
        var v1 = Program("""
            public class Person { public string FullName; }
            public static partial class Program
            {
                public static List<Person> People = new();
                static void Init() { People.Add(new Person { FullName = "Ada Lovelace" }); People.Add(new Person { FullName = "Plato" }); }
                public static string Report() => "v1 " + string.Join(",", People.Select(p => p.FullName));
            }
            """);
        var v2 = Program("""
            public class Person { public string First; public string Last; }
            public static partial class Program
            {
                public static List<Person> People = new();
                static void Init() { }
                [TransformType("Person")]
                static void SplitName(OldObject old, Person p)
                {
                    Thread.Sleep(20);
                    var parts = old.Get<string>("FullName").Split(' ');
                    p.First = parts[0];
                    p.Last = parts[1];
                }
                public static string Report() => "v2";
            }
            """);
        var (host, result) = await StartAndUpdate("TR_Throws", v1, v2);
        await using var _ = host;
        var failure = AssertRolledBack(host, result, UpdatePhase.Transfer);
        Assert.Contains("Program.SplitName", failure.Message, StringComparison.Ordinal);
        Assert.Contains("IndexOutOfRangeException", failure.Message, StringComparison.Ordinal);
        Assert.Contains("static Program.People", failure.StatePath, StringComparison.Ordinal);
        Assert.Equal("v1 Ada Lovelace,Plato", Report(host));
        // The transfer's time is reported up to the failure (it used to be left at zero; the transformer sleeps before it
        // throws, so there is time to report), and is part of the pause.
        Assert.True(result.TransferTime > TimeSpan.Zero, $"transfer {result.TransferTime.TotalMilliseconds} ms");
        Assert.True(result.PauseTime >= result.QuiesceTime + result.TransferTime, $"pause {result.PauseTime}, quiesce {result.QuiesceTime}, transfer {result.TransferTime}");
        Assert.Equal(TimeSpan.Zero, result.RestartTime);
    }

    [Fact]
    public async Task Update_AfterTransferStepThrows_RollsBackNamingIt()
    {
        var v1 = Program("""
            public static partial class Program
            {
                public static int Count;
                static void Init() => Count = 5;
                public static string Report() => $"v1 {Count}";
            }
            """);
        var v2 = Program("""
            public static partial class Program
            {
                public static int Count;
                static void Init() { }
                [AfterTransfer]
                static void Reindex(OldVersion old) => throw new InvalidOperationException("index is corrupt");
                public static string Report() => $"v2 {Count}";
            }
            """);
        var (host, result) = await StartAndUpdate("TR_AfterThrows", v1, v2);
        await using var _ = host;
        var failure = AssertRolledBack(host, result, UpdatePhase.Transfer);
        Assert.Contains("Program.Reindex", failure.Message, StringComparison.Ordinal);
        Assert.Contains("index is corrupt", failure.Message, StringComparison.Ordinal);
        Assert.Equal("v1 5", Report(host));
    }


    [Fact]
    public async Task Update_FieldTransformerOnAStruct_ComputesTheField()
    {
        var v1 = Program("""
            public struct Money { public long Cents; public string Currency; }
            public static partial class Program
            {
                public static Money M;
                public static Money[] History;
                static void Init() { M = new Money { Cents = 1234, Currency = "EUR" }; History = new[] { M, new Money { Cents = 5 } }; }
            }
            """);
        var v2 = Program("""
            public struct Money { public decimal Amount; public string Currency; }
            public static partial class Program
            {
                public static Money M;
                public static Money[] History;
                static void Init() { }
                [TransformField(typeof(Money), "Amount")]
                static decimal Amount(OldObject old) => old.Get<long>("Cents") / 100m;
                public static string Report() => FormattableString.Invariant($"{M.Amount} {M.Currency} {History[0].Amount} {History[1].Amount}");
            }
            """);
        var (host, result) = await StartAndUpdate("TR_StructField", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("12.34 EUR 12.34 0.05", Report(host));
    }

    [Fact]
    public async Task Update_FactoryTransformer_TurnsAStructIntoAClass()
    {
        var v1 = Program("""
            public struct Point { public int X; public int Y; }
            public static partial class Program
            {
                public static Point P;
                public static List<Point> Path = new();
                static void Init() { P = new Point { X = 1, Y = 2 }; Path.Add(P); Path.Add(new Point { X = 3, Y = 4 }); }
            }
            """);
        var v2 = Program("""
            public class Point { public int[] XY; public override string ToString() => string.Join(":", XY); }
            public static partial class Program
            {
                public static Point P;
                public static List<Point> Path = new();
                static void Init() { }
                [TransformType("Point")]
                static Point FromStruct(OldObject old) => new Point { XY = new[] { old.Get<int>("X"), old.Get<int>("Y") } };
                public static string Report() => $"{P} {string.Join(",", Path)} {ReferenceEquals(P, Path[0])}";
            }
            """);
        var (host, result) = await StartAndUpdate("TR_StructToClass", v1, v2);
        await using var _ = host;
        AssertCommitted(result);
        // A struct has no identity: each copy becomes its own object.
        Assert.Equal("1:2 1:2,3:4 False", Report(host));
    }
}
