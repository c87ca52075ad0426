using static Molt.Hosting.Tests.Transfer.Matrix.TransferRules;

namespace Molt.Hosting.Tests.Transfer.Matrix;

/// <summary>
/// Every (old kind, new kind, change) of the matrix, each with the rule that says what becomes of its value. Values read
/// as <see cref="MatrixSources"/>' <c>Fmt.Of</c> prints them: <c>Type{Field=value ...}</c> (members in ordinal order),
/// strings quoted, enums by name ([Flags] ones by number, <c>#5</c>).
/// </summary>
internal static class MatrixScenarios
{
    // A scenario that kills the test host in the engine of the day is marked Scenario.NotFixed (with why): the in-process
    // tests leave it out and list it, the child-process test runs it. None is marked today (class <-> struct, which did,
    // runs since the engine copies it).


    public static IReadOnlyList<Scenario> All { get; } =
    [
        .. Composite(TypeKind.Class),
        .. Composite(TypeKind.Struct),
        .. Composite(TypeKind.RecordClass),
        .. Composite(TypeKind.RecordStruct),
        .. Enums(),
        .. FlagsEnums(),
        .. Interfaces(),
        .. AbstractBases(),
        .. Generics(),
        .. Arrays(),
        .. Nullables(),
    ];

    private sealed record FieldSpec(string Name, string Type, string? Value = null, string? Initializer = null,
        string? Attribute = null, bool InBody = false, bool AutoProperty = false, string? ParameterDefault = null);

    /// <param name="Inherited">Fields declared by the base type, set when the value is built.</param>
    /// <param name="Members">Other members' source (methods, a constructor).</param>
    private sealed record TypeSpec(string Keyword, string Name, IReadOnlyList<FieldSpec> Fields, string? Base = null,
        string? Attribute = null, bool Abstract = false, IReadOnlyList<FieldSpec>? Inherited = null, string Members = "")
    {
        private bool IsRecord => Keyword.StartsWith("record", StringComparison.Ordinal);

        private IEnumerable<FieldSpec> Positional => IsRecord ? Fields.Where(f => !f.InBody) : [];

        private IEnumerable<FieldSpec> Body => IsRecord ? Fields.Where(f => f.InBody) : Fields;

        public string Source()
        {
            var header = $"{(Attribute is null ? "" : $"[{Attribute}] ")}public {(Abstract ? "abstract " : "")}{Keyword} {Name}";
            if (Positional.Any())
            {
                header += "(" + string.Join(", ", Positional.Select(f =>
                    $"{(f.Attribute is null ? "" : $"[property: {f.Attribute}] ")}{f.Type} {f.Name}{(f.ParameterDefault is null ? "" : " = " + f.ParameterDefault)}")) + ")";
            }
            if (Base is not null)
            {
                header += " : " + Base;
            }
            var members = Body.Select(f =>
                $"{(f.Attribute is null ? "" : $"[{f.Attribute}] ")}public {f.Type} {f.Name}{(f.AutoProperty ? " { get; set; }" : "")}" +
                (f.Initializer is null ? (f.AutoProperty ? "" : ";") : $" = {f.Initializer};")).ToList();
            // A struct with field initializers must declare a constructor (a positional record struct has its own).
            if (Members.Length > 0)
            {
                members.Add(Members);
            }
            if (Keyword.EndsWith("struct", StringComparison.Ordinal) && !Positional.Any() && Body.Any(f => f.Initializer is not null)
                && !Members.Contains($"public {Name}()", StringComparison.Ordinal))
            {
                members.Add($"public {Name}() {{ }}");
            }
            return header + " { " + string.Join(" ", members) + " }\n";
        }

        public string New()
        {
            var initialized = (Inherited ?? []).Concat(Body).Where(f => f.Value is not null).Select(f => $"{f.Name} = {f.Value}").ToList();
            var args = Positional.Any() ? "(" + string.Join(", ", Positional.Select(f => f.Value ?? "default")) + ")" : "";
            return $"new {Name}{args}" + (initialized.Count > 0 ? " { " + string.Join(", ", initialized) + " }" : args.Length == 0 ? "()" : "");
        }
    }

    private static string Shown(string type, params (string Name, string Value)[] members) =>
        type + "{" + string.Join(" ", members.OrderBy(m => m.Name, StringComparer.Ordinal).Select(m => $"{m.Name}={m.Value}")) + "}";

    private static string Keyword(TypeKind kind) => kind switch
    {
        TypeKind.Class => "class",
        TypeKind.Struct => "struct",
        TypeKind.RecordClass => "record class",
        _ => "record struct",
    };

    /// <summary>Types that fields may be retyped to or from.</summary>
    private const string Support = """
        public class Animal { public string Name; }
        public class Dog : Animal { }
        public class Cat { public string Name; }
        public enum Color { Red, Green }

        """;

    /// <summary>A class, struct or record <c>T</c> with <c>A = 7</c> and <c>B = "x"</c>, and each change to it.</summary>
    private static IEnumerable<Scenario> Composite(TypeKind kind)
    {
        var keyword = Keyword(kind);
        var isRecord = kind is TypeKind.RecordClass or TypeKind.RecordStruct;
        var isClass = kind is TypeKind.Class or TypeKind.RecordClass;
        FieldSpec a = new("A", "int", "7"), b = new("B", "string", "\"x\"");
        TypeSpec T(params FieldSpec[] fields) => new(keyword, "T", fields);
        var v1 = T(a, b);
        var shownV1 = Shown("T", ("A", "7"), ("B", "'x'"));

        Scenario Make(string change, TransferRule rule, TypeSpec old, TypeSpec @new, string? expected, string? v1Shown = null,
            string? notFixed = null, string oldExtra = "", string newExtra = "", IReadOnlySet<HolderKind>? holders = null,
            (string Expression, string Shown) reportExtra = default, string? value = null) =>
            new(kind, change, rule, Support + oldExtra + old.Source(), Support + newExtra + @new.Source(), old.Name, @new.Name, value ?? old.New(),
                v1Shown ?? shownV1, rule.Outcome == ExpectedOutcome.Committed ? expected : null, holders ?? Scenario.AllHolders, notFixed,
                reportExtra.Expression ?? "", reportExtra.Shown ?? "");

        yield return Make("field added with an initializer", FieldAddedWithInitializer,
            v1, T(a, b, new("Added", "int", Initializer: "42", InBody: true)), Shown("T", ("A", "7"), ("Added", "42"), ("B", "'x'")));
        yield return Make("auto-property added with an initializer", FieldAddedWithInitializer,
            v1, T(a, b, new("Note", "string", Initializer: "\"n\"", InBody: true, AutoProperty: true)), Shown("T", ("A", "7"), ("B", "'x'"), ("Note", "'n'")));
        if (!isRecord)
        {
            // No constructor runs during a transfer: its side effects do not happen, and one that throws does not matter.
            const string counting = "public static int Constructed; public T() { Constructed++; }";
            yield return Make("field added with an initializer, the constructor counts its calls", FieldAddedWithInitializer,
                v1 with { Members = counting }, T(a, b, new("Added", "int", Initializer: "42")) with { Members = counting },
                Shown("T", ("A", "7"), ("Added", "42"), ("B", "'x'")), reportExtra: (" + \" ctor=\" + T.Constructed", " ctor=1"));
            yield return Make("field added with an initializer, the new constructor throws", FieldAddedWithInitializer,
                v1 with { Members = "public T() { }" }, T(a, b, new("Added", "int", Initializer: "42")) with { Members = "public T() { throw new InvalidOperationException(\"constructor\"); }" },
                Shown("T", ("A", "7"), ("Added", "42"), ("B", "'x'")));
            if (kind == TypeKind.Class || kind == TypeKind.Struct)
            {
                yield return Make("field added with an initializer that throws", InitializerThrows,
                    v1, T(a, b, new("Added", "int", Initializer: "Fail()")) with { Members = "static int Fail() => throw new InvalidOperationException(\"initializer\");" }, null);
            }
        }
        yield return Make("field added with a switch expression as its initializer", InitializerUnreadable,
            v1, T(a, b, new("Added", "string", Initializer: "(DateTime.MaxValue.Month % 4) switch { 0 => \"none\", 1 => \"one\", 2 => \"two\", _ => \"many\" }", InBody: true)), null);
        yield return Make("field added without an initializer", FieldAddedWithoutInitializer,
            v1, T(a, b, new("Added", "int", InBody: true)), Shown("T", ("A", "7"), ("Added", "0"), ("B", "'x'")));
        if (isRecord)
        {
            yield return Make("positional parameter added", PositionalParameterAdded,
                v1, T(a, b, new("Added", "int")), Shown("T", ("A", "7"), ("Added", "0"), ("B", "'x'")));
            yield return Make("positional parameter added with a default value", PositionalParameterAdded,
                v1, T(a, b, new("Added", "int", ParameterDefault: "5")), Shown("T", ("A", "7"), ("Added", "0"), ("B", "'x'")));
        }
        yield return Make("field removed", FieldRemoved, v1, T(a), Shown("T", ("A", "7")));
        yield return Make("field renamed", FieldRenamed, v1, T(a, new("Name", "string", Attribute: "RenamedFrom(\"B\")")),
            Shown("T", ("A", "7"), ("Name", "'x'")));
        yield return Make("int field widened to long", Widening, v1, T(a with { Type = "long" }, b), shownV1);
        yield return Make("int field widened to double", Widening, v1, T(a with { Type = "double" }, b), shownV1);
        yield return Make("long field narrowed to int", Narrowing, T(a with { Type = "long" }, b), T(a, b), null);
        yield return Make("double field narrowed to float", Narrowing, T(a with { Type = "double", Value = "7.5" }, b), T(a with { Type = "float" }, b),
            null, Shown("T", ("A", "7.5"), ("B", "'x'")));
        yield return Make("int field retyped to object", ToObject, v1, T(a with { Type = "object" }, b), shownV1);
        yield return Make("object field retyped to int", FromObject, T(a with { Type = "object" }, b), T(a, b), null);
        var dog = a with { Type = "Dog", Value = "new Dog { Name = \"rex\" }" };
        var shownDog = Shown("T", ("A", "Dog{Name='rex'}"), ("B", "'x'"));
        yield return Make("program-type field retyped to its base class", ToBaseType, T(dog, b), T(dog with { Type = "Animal" }, b), shownDog, shownDog);
        yield return Make("program-type field retyped to an unrelated program type", ToUnrelatedType, T(dog, b), T(dog with { Type = "Cat" }, b), null, shownDog);
        yield return Make("int field retyped to a program type", ToUnrelatedType, v1, T(a with { Type = "Dog" }, b), null);
        yield return Make("program-type field retyped to int", ToUnrelatedType, T(dog, b), T(a, b), null, shownDog);
        yield return Make("int field retyped to int?", ToNullable, v1, T(a with { Type = "int?" }, b), shownV1);
        yield return Make("int? field retyped to int", FromNullable, T(a with { Type = "int?" }, b), T(a, b), null);
        var color = a with { Type = "Color", Value = "Color.Green" };
        yield return Make("enum field retyped to int", EnumInteger, T(color, b), T(a, b), null, Shown("T", ("A", "Green"), ("B", "'x'")));
        yield return Make("int field retyped to an enum", EnumInteger, T(a with { Value = "1" }, b), T(color, b), null, Shown("T", ("A", "1"), ("B", "'x'")));
        yield return Make("type renamed", TypeRenamed, v1, T(a, b) with { Name = "T2", Attribute = "RenamedFrom(\"$NS$.T\")" }, Shown("T2", ("A", "7"), ("B", "'x'")));
        yield return Make("type removed", TypeRemoved, v1, new TypeSpec("class", "Other", [a]), null, holders: Scenario.ObjectHolder);

        // Kind changes: the same fields in a type of another kind.
        foreach (var (newKind, rule) in KindChanges(kind))
        {
            yield return Make($"{Keyword(kind)} becomes {Keyword(newKind)}", rule, v1, new TypeSpec(Keyword(newKind), "T", [a, b]), shownV1);
        }
        if (isClass)
        {
            // A null reference becomes default(struct): in every holder that declares the type (a dictionary key cannot be null).
            yield return Make($"{keyword} becomes {Keyword(kind == TypeKind.Class ? TypeKind.Struct : TypeKind.RecordStruct)}, holding null", ClassToStruct,
                v1, new TypeSpec(kind == TypeKind.Class ? "struct" : "record struct", "T", [a, b]), Shown("T", ("A", "0"), ("B", "null")), "null",
                holders: Scenario.TypedHolders.Where(h => h != HolderKind.DictionaryKey).ToHashSet(), value: "null");
            // Fields in a record's body, so that a base record can declare one.
            FieldSpec baseA = a with { InBody = true }, ownB = b with { InBody = true };
            var base1 = new TypeSpec(keyword, "Base1", [baseA]).Source();
            var base2 = new TypeSpec(keyword, "Base2", [baseA]).Source();
            var derived = new TypeSpec(keyword, "T", [ownB], Base: "Base1", Inherited: [baseA]);
            yield return Make("base type changed", BaseTypeChanged, derived, derived with { Base = "Base2" }, shownV1, oldExtra: base1, newExtra: base2);
            yield return Make("field moved from the base into the type", BaseTypeChanged, derived, T(baseA, ownB), shownV1, oldExtra: base1, newExtra: base1);
            yield return Make("class becomes abstract", BecomesAbstract, v1, v1 with { Abstract = true }, null);
        }
    }

    private static IEnumerable<(TypeKind NewKind, TransferRule Rule)> KindChanges(TypeKind kind) => kind switch
    {
        TypeKind.Class => [(TypeKind.Struct, ClassToStruct), (TypeKind.RecordClass, RecordAndPlain)],
        TypeKind.Struct => [(TypeKind.Class, StructToClass), (TypeKind.RecordStruct, RecordAndPlain)],
        TypeKind.RecordClass => [(TypeKind.Class, RecordAndPlain), (TypeKind.RecordStruct, ClassToStruct)],
        _ => [(TypeKind.Struct, RecordAndPlain), (TypeKind.RecordClass, StructToClass)],
    };

    private static Scenario Simple(TypeKind kind, string change, TransferRule rule, string v1Types, string v2Types, string declared,
        string value, string v1Shown, string? v2Shown, string? v2Declared = null, IReadOnlySet<HolderKind>? holders = null, string? notFixed = null) =>
        new(kind, change, rule, v1Types, v2Types, declared, v2Declared ?? declared, value, v1Shown,
            rule.Outcome == ExpectedOutcome.Committed ? v2Shown : null, holders ?? Scenario.AllHolders, notFixed);

    /// <summary>A plain enum <c>Color { Red, Green, Blue }</c> holding Green.</summary>
    private static IEnumerable<Scenario> Enums()
    {
        const string v1 = "public enum Color { Red, Green, Blue }\n";
        Scenario Make(string change, TransferRule rule, string v2, string? expected, string value = "Color.Green", string shown = "Green",
            string old = v1, string? declared = null) =>
            Simple(TypeKind.Enum, change, rule, old, v2, "Color", value, shown, expected, declared);

        yield return Make("member added before it", EnumByName, "public enum Color { Black, Red, Green, Blue }\n", "Green");
        yield return Make("members renumbered", EnumByName, "public enum Color { Red = 10, Green = 20, Blue = 30 }\n", "Green");
        yield return Make("members reordered", EnumByName, "public enum Color { Blue, Green, Red }\n", "Green");
        yield return Make("underlying type changed (byte to long)", EnumByName, "public enum Color : long { Red, Green, Blue }\n", "Green",
            old: "public enum Color : byte { Red, Green, Blue }\n");
        yield return Make("member renamed", EnumMemberRenamed, "public enum Color { Red, [RenamedFrom(\"Green\")] Lime, Blue }\n", "Lime");
        yield return Make("member renamed and renumbered", EnumMemberRenamed, "public enum Color { [RenamedFrom(\"Green\")] Lime = 7, Red, Blue }\n", "Lime");
        yield return Make("another member removed", EnumMemberRemovedUnused, "public enum Color { Red, Green }\n", "Green");
        yield return Make("held member removed", EnumValueWithoutMember, "public enum Color { Red, Blue }\n", null);
        yield return Make("held value has no name (42)", EnumValueWithoutMember, "public enum Color { Black, Red, Green, Blue }\n", null,
            value: "(Color)42", shown: "42");
        yield return Make("type renamed", TypeRenamed, "[RenamedFrom(\"$NS$.Color\")] public enum Hue { Red, Green, Blue }\n", "Green", declared: "Hue");
        yield return Simple(TypeKind.Enum, "type removed", TypeRemoved, v1, "public enum Other { Red }\n", "Color", "Color.Green", "Green", null,
            "object", Scenario.ObjectHolder);
        // A holder declared as the enum tells at prepare; an object field holding one tells only at transfer.
        foreach (var (what, v2) in new[] { ("a class", "public class Color { public int Value; }\n"), ("a struct", "public struct Color { public int Value; }\n") })
        {
            yield return Simple(TypeKind.Enum, $"enum becomes {what}", EnumToOtherKind, v1, v2, "Color", "Color.Green", "Green", null,
                holders: Scenario.TypedHolders);
            yield return Simple(TypeKind.Enum, $"enum becomes {what}, its value held in an object field", EnumValueToOtherKind, v1, v2, "Color",
                "Color.Green", "Green", null, "object", Scenario.ObjectHolder);
        }
    }

    /// <summary>A [Flags] enum <c>Perm { None = 0, Read = 1, Write = 2, Exec = 4 }</c> holding Read | Exec (5).</summary>
    private static IEnumerable<Scenario> FlagsEnums()
    {
        const string v1 = "[Flags] public enum Perm { None = 0, Read = 1, Write = 2, Exec = 4 }\n";
        const string renumbered = "[Flags] public enum Perm { None = 0, Exec = 1, Read = 2, Write = 4 }\n";
        Scenario Make(string change, TransferRule rule, string v2, string? expected, string value = "Perm.Read | Perm.Exec", string shown = "#5",
            string old = v1, string? declared = null) =>
            Simple(TypeKind.FlagsEnum, change, rule, old, v2, "Perm", value, shown, expected, declared);

        yield return Make("members renumbered", FlagsByName, renumbered, "#3");
        yield return Make("member added between them", FlagsByName, "[Flags] public enum Perm { None = 0, Read = 1, Admin = 2, Write = 4, Exec = 8 }\n", "#9");
        yield return Make("member renamed and renumbered", FlagsByName,
            "[Flags] public enum Perm { None = 0, [RenamedFrom(\"Exec\")] Run = 1, Read = 2, Write = 4 }\n", "#3");
        yield return Make("value 0 (None), members renumbered", FlagsByName, renumbered, "#0", value: "Perm.None", shown: "#0");
        yield return Make("value 0 with no name, members renumbered", FlagsByName, "[Flags] public enum Perm { Exec = 1, Read = 2, Write = 4 }\n", "#0",
            value: "(Perm)0", shown: "#0", old: "[Flags] public enum Perm { Read = 1, Write = 2, Exec = 4 }\n");
        yield return Make("held bit's member removed", EnumValueWithoutMember, "[Flags] public enum Perm { None = 0, Read = 1, Write = 2 }\n", null);
        yield return Make("held bit has no name (8)", EnumValueWithoutMember, renumbered, null, value: "(Perm)9", shown: "#9");
        yield return Make("type renamed", TypeRenamed, "[Flags, RenamedFrom(\"$NS$.Perm\")] public enum Access { None = 0, Read = 1, Write = 2, Exec = 4 }\n",
            "#5", declared: "Access");
    }

    /// <summary>An interface-typed holder (<c>IShape</c>) holding a <c>Circle { R = 3 }</c>.</summary>
    private static IEnumerable<Scenario> Interfaces()
    {
        const string v1 = "public interface IShape { }\npublic class Circle : IShape { public int R; }\n";
        Scenario Make(string change, TransferRule rule, string v2, string? expected, string? declared = null, IReadOnlySet<HolderKind>? holders = null) =>
            Simple(TypeKind.Interface, change, rule, v1, v2, "IShape", "new Circle { R = 3 }", "Circle{R=3}", expected, declared, holders);

        yield return Make("implementation gains a field with an initializer", FieldAddedWithInitializer,
            "public interface IShape { }\npublic class Circle : IShape { public int R; public int Added = 42; }\n", "Circle{Added=42 R=3}");
        yield return Make("implementation renamed", TypeRenamed,
            "public interface IShape { }\n[RenamedFrom(\"$NS$.Circle\")] public class Round : IShape { public int R; }\n", "Round{R=3}");
        // (An object field can hold it still: only the holders declared as the interface.)
        yield return Make("implementation no longer implements it", NoLongerDerived, "public interface IShape { }\npublic class Circle { public int R; }\n", null,
            holders: Scenario.TypedHolders);
        // (An object field holding the implementation does not involve the interface.)
        yield return Make("interface becomes an abstract class", InterfaceToClass, "public abstract class IShape { }\npublic class Circle : IShape { public int R; }\n", null,
            holders: Scenario.TypedHolders);
        yield return Make("holder retyped from the interface to object", ToObject, v1, "Circle{R=3}", "object", Scenario.FieldHolders);
        yield return Make("holder retyped from the interface to its implementation", FromObject, v1, null, "Circle", Scenario.FieldHolders);
    }

    /// <summary>A holder of an abstract base (<c>Animal</c>) holding a <c>Dog { Name = "rex", Barks = 2 }</c>.</summary>
    private static IEnumerable<Scenario> AbstractBases()
    {
        const string v1 = "public abstract class Animal { public string Name; }\npublic class Dog : Animal { public int Barks; }\n";
        const string shown = "Dog{Barks=2 Name='rex'}";
        Scenario Make(string change, TransferRule rule, string v2, string? expected, string? declared = null, IReadOnlySet<HolderKind>? holders = null) =>
            Simple(TypeKind.AbstractBase, change, rule, v1, v2, "Animal", "new Dog { Name = \"rex\", Barks = 2 }", shown, expected, declared, holders);

        yield return Make("base gains a field with an initializer", FieldAddedWithInitializer,
            "public abstract class Animal { public string Name; public int Added = 42; }\npublic class Dog : Animal { public int Barks; }\n",
            "Dog{Added=42 Barks=2 Name='rex'}");
        yield return Make("field removed from the base", FieldRemoved, "public abstract class Animal { }\npublic class Dog : Animal { public int Barks; }\n", "Dog{Barks=2}");
        yield return Make("field moved from the derived class into the base", BaseTypeChanged,
            "public abstract class Animal { public string Name; public int Barks; }\npublic class Dog : Animal { }\n", shown);
        yield return Make("base renamed", TypeRenamed,
            "[RenamedFrom(\"$NS$.Animal\")] public abstract class Creature { public string Name; }\npublic class Dog : Creature { public int Barks; }\n", shown, "Creature");
        yield return Make("derived class moved under another base", NoLongerDerived,
            "public abstract class Animal { public string Name; }\npublic abstract class Pet { public string Name; }\npublic class Dog : Pet { public int Barks; }\n", null,
            holders: Scenario.TypedHolders);
        yield return Make("derived class becomes abstract", BecomesAbstract,
            "public abstract class Animal { public string Name; }\npublic abstract class Dog : Animal { public int Barks; }\n", null);
        yield return Make("base becomes concrete", BecomesConcrete, "public class Animal { public string Name; }\npublic class Dog : Animal { public int Barks; }\n", shown);
        yield return Make("holder retyped from the base to object", ToObject, v1, shown, "object", Scenario.FieldHolders);
        yield return Make("holder retyped from the base to the derived class", FromObject, v1, null, "Dog", Scenario.FieldHolders);
    }

    /// <summary>A <c>Box&lt;Entry&gt;</c> of the program's generic class.</summary>
    private static IEnumerable<Scenario> Generics()
    {
        const string box = "public class Box<T> { public T Item; public int N; }\n";
        const string v1 = box + "public class Entry { public int A; }\n";
        const string shown = "Box<Entry>{Item=Entry{A=7} N=1}";
        Scenario Make(string change, TransferRule rule, string v2, string? expected, string? declared = null, string old = v1) =>
            Simple(TypeKind.GenericInstantiation, change, rule, old, v2, "Box<Entry>", "new Box<Entry> { Item = new Entry { A = 7 }, N = 1 }", shown,
                expected, declared);

        yield return Make("argument type gains a field with an initializer", GenericByArguments,
            box + "public class Entry { public int A; public int Added = 42; }\n", "Box<Entry>{Item=Entry{A=7 Added=42} N=1}");
        yield return Make("argument type renamed", GenericByArguments, box + "[RenamedFrom(\"$NS$.Entry\")] public class Item { public int A; }\n",
            "Box<Item>{Item=Item{A=7} N=1}", "Box<Item>");
        yield return Make("definition gains a field with an initializer", GenericByArguments,
            "public class Box<T> { public T Item; public int N; public int Added = 42; }\npublic class Entry { public int A; }\n",
            "Box<Entry>{Added=42 Item=Entry{A=7} N=1}");
        yield return Make("definition renamed", GenericByArguments,
            "[RenamedFrom(\"$NS$.Box`1\")] public class Crate<T> { public T Item; public int N; }\npublic class Entry { public int A; }\n",
            "Crate<Entry>{Item=Entry{A=7} N=1}", "Crate<Entry>");
        yield return Make("definition's field widened (int to long)", GenericByArguments,
            "public class Box<T> { public T Item; public long N; }\npublic class Entry { public int A; }\n", shown);
        yield return Make("argument class becomes a struct", ClassToStruct, box + "public struct Entry { public int A; }\n", shown);
        yield return Make("argument struct becomes a class", StructToClass, v1, shown, old: box + "public struct Entry { public int A; }\n");
        // Only an object field can hold it: the new version cannot name Box<Entry>.
        yield return Simple(TypeKind.GenericInstantiation, "definition gains a constraint its argument does not meet", GenericConstraintUnfit, v1,
            "public class Box<T> where T : struct { public T Item; public int N; }\npublic class Entry { public int A; }\n", "Box<Entry>",
            "new Box<Entry> { Item = new Entry { A = 7 }, N = 1 }", shown, null, "object", Scenario.ObjectHolder);
    }

    /// <summary>An <c>Entry[]</c> of two elements.</summary>
    private static IEnumerable<Scenario> Arrays()
    {
        const string v1 = "public class Entry { public int A; }\n";
        const string shown = "[Entry{A=7},Entry{A=8}]";
        Scenario Make(string change, TransferRule rule, string v2, string? expected, string? declared = null, string old = v1,
            IReadOnlySet<HolderKind>? holders = null) =>
            Simple(TypeKind.Array, change, rule, old, v2, "Entry[]", "new Entry[] { new Entry { A = 7 }, new Entry { A = 8 } }", shown, expected,
                declared, holders);

        yield return Make("element class gains a field with an initializer", ArrayByElement, "public class Entry { public int A; public int Added = 42; }\n",
            "[Entry{A=7 Added=42},Entry{A=8 Added=42}]");
        yield return Make("element struct gains a field with an initializer", ArrayByElement,
            "public struct Entry { public int A; public int Added = 42; public Entry() { } }\n", "[Entry{A=7 Added=42},Entry{A=8 Added=42}]",
            old: "public struct Entry { public int A; }\n");
        yield return Make("element type renamed", ArrayByElement, "[RenamedFrom(\"$NS$.Entry\")] public class Item { public int A; }\n",
            "[Item{A=7},Item{A=8}]", "Item[]");
        yield return Make("element class becomes a struct", ClassToStruct, "public struct Entry { public int A; }\n", shown);
        yield return Make("holder's rank changed (Entry[] to Entry[,])", ArrayRankChanged, v1, null, "Entry[,]", holders: Scenario.FieldHolders);
    }

    /// <summary>An <c>S?</c> of the program's struct <c>S { A = 7 }</c>.</summary>
    private static IEnumerable<Scenario> Nullables()
    {
        const string v1 = "public struct S { public int A; }\n";
        const string grown = "public struct S { public int A; public int Added = 42; public S() { } }\n";
        Scenario Make(string change, TransferRule rule, string v2, string? expected, string declared = "S?", string? newDeclared = null,
            string value = "new S { A = 7 }", string shown = "S{A=7}", IReadOnlySet<HolderKind>? holders = null) =>
            Simple(TypeKind.Nullable, change, rule, v1, v2, declared, value, shown, expected, newDeclared, holders);

        yield return Make("T gains a field with an initializer", NullableOfChanged, grown, "S{A=7 Added=42}");
        yield return Make("T renamed", NullableOfChanged, "[RenamedFrom(\"$NS$.S\")] public struct S2 { public int A; }\n", "S2{A=7}", newDeclared: "S2?");
        // A null cannot be a dictionary key.
        yield return Make("holding null, T gains a field", NullableOfChanged, grown, "null", value: "null", shown: "null",
            holders: Scenario.AllHolders.Where(h => h != HolderKind.DictionaryKey).ToHashSet());
        yield return Make("holder retyped from T to T?", ToNullable, v1, "S{A=7}", declared: "S", newDeclared: "S?", holders: Scenario.FieldHolders);
        yield return Make("holder retyped from T? to T", FromNullable, v1, null, newDeclared: "S", holders: Scenario.FieldHolders);
    }
}
