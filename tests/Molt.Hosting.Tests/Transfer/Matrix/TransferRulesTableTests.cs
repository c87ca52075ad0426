using System.Text;

namespace Molt.Hosting.Tests.Transfer.Matrix;

/// <summary>
/// docs/programming-model.md shows the state-transfer rules as a table (between <c>&lt;!-- transfer-rules:begin --&gt;</c>
/// and <c>&lt;!-- transfer-rules:end --&gt;</c>). Its rows are the rules the matrix's generator encodes, with the kinds of
/// type the matrix tries each on, so that the table and the tested rules cannot disagree.
/// </summary>
public class TransferRulesTableTests
{
    private const string Begin = "<!-- transfer-rules:begin -->";
    private const string End = "<!-- transfer-rules:end -->";

    [Fact]
    public async Task ProgrammingModel_TransferRulesTable_IsTheMatrixRules()
    {
        var path = DocsTests.FindDoc("docs/programming-model.md");
        var doc = await File.ReadAllTextAsync(path);
        var from = doc.IndexOf(Begin, StringComparison.Ordinal);
        var to = doc.IndexOf(End, StringComparison.Ordinal);
        Assert.True(from >= 0 && to > from, $"docs/programming-model.md has no {Begin} ... {End} section.");
        var table = doc[(from + Begin.Length)..to].Trim().ReplaceLineEndings("\n");
        var expected = Table();
        if (table != expected && Environment.GetEnvironmentVariable("MOLT_WRITE_RULES_TABLE") == "1")
        {
            // After a change of the rules: `MOLT_WRITE_RULES_TABLE=1 dotnet test --filter TransferRulesTableTests` writes the table
            // into the source tree's docs (found above the test's folder), for review in the diff.
            await File.WriteAllTextAsync(path, doc[..(from + Begin.Length)] + "\n" + expected + "\n" + doc[to..]);
            return;
        }
        Assert.True(table == expected, $"The table of transfer rules in docs/programming-model.md is not the matrix's rules " +
            $"(MOLT_WRITE_RULES_TABLE=1 writes it); it should read:\n{expected}");
    }

    [Fact]
    public void TransferRules_EachIsTriedByTheMatrix_AndEachScenarioHasOneOfThem()
    {
        var used = MatrixScenarios.All.Select(s => s.Rule).ToHashSet();
        Assert.Empty(TransferRules.All.Where(r => !used.Contains(r)).Select(r => r.Change));
        Assert.Empty(used.Where(r => !TransferRules.All.Contains(r)).Select(r => r.Change));
        Assert.Equal(TransferRules.All.Count, TransferRules.All.Distinct().Count());
    }

    /// <summary>The table as the docs must show it: one row per rule, with the kinds of type the matrix tries it on.</summary>
    internal static string Table()
    {
        var text = new StringBuilder();
        text.Append("| change | tried on | outcome | the new value, or why |\n| --- | --- | --- | --- |\n");
        foreach (var rule in TransferRules.All)
        {
            var kinds = MatrixScenarios.All.Where(s => s.Rule == rule).Select(s => s.Kind).Distinct().Order().Select(KindName);
            text.Append($"| {rule.Change} | {string.Join(", ", kinds)} | {rule.OutcomeText} | {rule.Result} |\n");
        }
        return text.ToString().TrimEnd();
    }

    private static string KindName(TypeKind kind) => kind switch
    {
        TypeKind.Class => "class",
        TypeKind.Struct => "struct",
        TypeKind.RecordClass => "record class",
        TypeKind.RecordStruct => "record struct",
        TypeKind.Enum => "enum",
        TypeKind.FlagsEnum => "`[Flags]` enum",
        TypeKind.Interface => "interface",
        TypeKind.AbstractBase => "abstract base",
        TypeKind.GenericInstantiation => "generic instantiation",
        TypeKind.Array => "array",
        _ => "nullable",
    };
}
