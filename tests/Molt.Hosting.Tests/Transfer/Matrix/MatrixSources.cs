using System.Text;

namespace Molt.Hosting.Tests.Transfer.Matrix;

/// <summary>
/// Writes the C# of a matrix program: each case in its own namespace (its types, a holder <c>H</c> with its value, and
/// <c>H.Report()</c>), <c>Program.Init()</c> filling every holder, and <c>Program.Report()</c> with one line per case,
/// <c>C0042=value</c>, read after the update.
/// </summary>
internal static class MatrixSources
{
    /// <summary>The program with each case in v1 (<paramref name="inV2"/> false for it) or v2.</summary>
    public static string Program(IEnumerable<MatrixCase> cases, Func<MatrixCase, bool> inV2)
    {
        var list = cases.ToList();
        var text = new StringBuilder();
        text.Append("using System.Globalization;\nusing System.Reflection;\n\n").Append(Formatter);
        foreach (var c in list)
        {
            text.Append(Case(c, inV2(c)));
        }
        text.Append("public static partial class Program\n{\n    static void Init()\n    {\n");
        foreach (var c in list)
        {
            text.Append($"        {c.Id}.H.Init();\n");
        }
        text.Append("    }\n    public static string Report()\n    {\n        var r = new StringBuilder();\n");
        foreach (var c in list)
        {
            text.Append($"        r.Append(\"{c.Id}=\").Append(Fmt.Try({c.Id}.H.Report)).Append('\\n');\n");
        }
        text.Append("        return r.ToString();\n    }\n}\n");
        return TransferTestKit.Program(text.ToString());
    }

    /// <summary>What a unit's case reports before its unit has run.</summary>
    public const string UnitNotStarted = "unit not started";

    /// <summary>Reads <c>Program.Report()</c>'s lines back: case id to value.</summary>
    public static Dictionary<string, string> ParseReport(string? report)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in (report ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var at = line.IndexOf('=', StringComparison.Ordinal);
            values[line[..at]] = line[(at + 1)..];
        }
        return values;
    }

    private static string Case(MatrixCase c, bool v2)
    {
        var s = c.Scenario;
        var types = (v2 ? s.V2Types : s.V1Types).Replace("$NS$", c.Id, StringComparison.Ordinal);
        var d = v2 ? s.V2Declared : s.V1Declared;
        string holder, init, report;
        switch (c.Holder)
        {
            case HolderKind.Static:
                holder = $"public static {d} Static;";
                init = $"Static = {s.V1Value};";
                report = "Fmt.Of(Static)";
                break;
            case HolderKind.StaticReadonly:
                // Set by its initializer in v1 (Init cannot assign it); v2 declares it bare: the transfer fills it.
                holder = v2 ? $"public static readonly {d} StaticReadonly;" : $"public static readonly {d} StaticReadonly = {s.V1Value};";
                init = "";
                report = "Fmt.Of(StaticReadonly)";
                break;
            case HolderKind.InstanceField:
                holder = $"public sealed class HBox {{ public {d} F; }}\n    public static HBox Inst;";
                init = $"Inst = new HBox {{ F = {s.V1Value} }};";
                report = "Fmt.Of(Inst.F)";
                break;
            case HolderKind.StructField:
                holder = $"public struct HStruct {{ public {d} F; }}\n    public static HStruct StructBox;";
                init = $"StructBox = new HStruct {{ F = {s.V1Value} }};";
                report = "Fmt.Of(StructBox.F)";
                break;
            case HolderKind.ArrayElement:
                holder = $"public static {d}[] Arr;";
                init = $"Arr = new {d}[] {{ {s.V1Value} }};";
                report = "Fmt.Of(Arr[0])";
                break;
            case HolderKind.List:
                holder = $"public static List<{d}> List;";
                init = $"List = new List<{d}> {{ {s.V1Value} }};";
                report = "Fmt.Of(List[0])";
                break;
            case HolderKind.DictionaryValue:
                holder = $"public static Dictionary<string, {d}> DictValue;";
                init = $"DictValue = new Dictionary<string, {d}> {{ [\"k\"] = {s.V1Value} }};";
                report = "Fmt.Of(DictValue[\"k\"])";
                break;
            case HolderKind.DictionaryKey:
                holder = $"public static Dictionary<{d}, int> DictKey;";
                init = $"DictKey = new Dictionary<{d}, int> {{ [{s.V1Value}] = 1 }};";
                report = "Fmt.Key(DictKey)";
                break;
            case HolderKind.HashSet:
                holder = $"public static HashSet<{d}> Set;";
                init = $"Set = new HashSet<{d}> {{ {s.V1Value} }};";
                report = "Fmt.Element(Set)";
                break;
            case HolderKind.Boxed:
                holder = "public static object Boxed;";
                init = $"Boxed = ({d}){s.V1Value};";
                report = "Fmt.Of(Boxed)";
                break;
            case HolderKind.UnitState:
                // A unit's state is an object (of a class): the value is its field. The report finds the state the running
                // version's entry was handed through a weak reference that the transfer leaves alone: only the unit holds it.
                holder = $"public sealed class HUnit {{ public {d} F; }}\n    [NotMigrated] public static WeakReference<HUnit> Current;\n" +
                    "    public static async Task Run(HUnit state)\n    {\n        Current = new WeakReference<HUnit>(state);\n" +
                    "        while (true)\n        {\n            await Live.UpdatePointAsync(\"wait\");\n" +
                    "            try { await Task.Delay(Timeout.Infinite, Live.UpdateRequested); } catch (OperationCanceledException) { }\n        }\n    }";
                init = $"Live.StartUnit(\"{c.Id}.unit\", new HUnit {{ F = {s.V1Value} }}, Run);";
                report = $"Current is not null && Current.TryGetTarget(out var state) ? Fmt.Of(state.F) : \"{UnitNotStarted}\"";
                break;
            default:
                holder = "";
                init = $"Pool<{d}>.Item = {s.V1Value};";
                report = $"Fmt.Of(Pool<{d}>.Item)";
                types += "public static class Pool<TItem> { public static TItem Item; }\n";
                break;
        }
        return $$"""
            namespace {{c.Id}}
            {
            {{types}}
            public static class H
            {
                {{holder}}
                public static void Init() { {{(v2 ? "" : init)}} }
                public static string Report() => ({{report}}){{s.ReportExtra}};
            }
            }

            """;
    }

    /// <summary>Prints any value the same way in every version (the expected strings of the matrix are written in this form).</summary>
    private const string Formatter = """
        public static class Fmt
        {
            public static string Try(Func<string> report)
            {
                try { return report(); }
                catch (Exception e) { return "threw " + e.GetType().Name + ": " + e.Message.Replace('\n', ' '); }
            }

            public static string Key<TKey>(Dictionary<TKey, int> d)
            {
                if (d.Count != 1) return "count " + d.Count;
                var key = d.Keys.First();
                return Of(key) + (d.TryGetValue(key, out var n) ? "#" + n : "#missing");
            }

            public static string Element<T>(HashSet<T> s)
            {
                if (s.Count != 1) return "count " + s.Count;
                var e = s.First();
                return Of(e) + (s.Contains(e) ? "#in" : "#missing");
            }

            public static string Of(object o) => Of(o, 0);

            private static string Of(object o, int depth)
            {
                if (o is null) return "null";
                if (depth > 5) return "...";
                if (o is string s) return "'" + s + "'";
                var t = o.GetType();
                if (t.IsEnum) return t.IsDefined(typeof(FlagsAttribute), false) ? "#" + Convert.ToInt64(o, CultureInfo.InvariantCulture) : o.ToString();
                if (o is bool b) return b ? "true" : "false";
                if (t.IsPrimitive || o is decimal) return ((IFormattable)o).ToString(null, CultureInfo.InvariantCulture);
                if (o is Array a) return "[" + string.Join(",", a.Cast<object>().Select(e => Of(e, depth + 1))) + "]";
                var members = t.GetFields(BindingFlags.Public | BindingFlags.Instance).Select(f => (f.Name, Value: f.GetValue(o)))
                    .Concat(t.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                        .Where(p => p.GetIndexParameters().Length == 0 && p.GetMethod is { IsPublic: true })
                        .Select(p => (p.Name, Value: p.GetValue(o))))
                    .OrderBy(m => m.Name, StringComparer.Ordinal);
                return Name(t) + "{" + string.Join(" ", members.Select(m => m.Name + "=" + Of(m.Value, depth + 1))) + "}";
            }

            private static string Name(Type t) => t.IsGenericType
                ? t.Name.Substring(0, t.Name.IndexOf('`')) + "<" + string.Join(",", t.GetGenericArguments().Select(Name)) + ">"
                : t.Name;
        }

        """;
}
