using Xunit.Abstractions;

namespace Molt.Hosting.Tests.Transfer.Matrix;

/// <summary>
/// The generated matrix of type changes (issue 10): every kind of type, every change of RULES.md, the value held in every
/// kind of holder, updated with <see cref="MoltHost"/> and checked case by case against the rule of its change; and the
/// same matrix through <see cref="MoltHost.CheckAsync"/>, whose verdict must be what the update does. Each test lists every
/// case that does not follow its rule (id, description, expected, got), and writes the list under <see cref="MatrixRun.ReportFolder"/>.
/// </summary>
[Collection(MatrixCollection.Name)]
public class TransferMatrixTests(ITestOutputHelper output)
{
    [Fact]
    public void Matrix_Generated_CoversEveryKindChangeAndHolder()
    {
        var cases = TransferMatrix.Cases;
        output.WriteLine($"transfer matrix: {cases.Count} cases, {MatrixScenarios.All.Count} scenarios " +
            $"({cases.Count(c => c.Expected == ExpectedOutcome.Committed)} carried, {cases.Count(c => c.Expected == ExpectedOutcome.RefusedAtPrepare)} refused at prepare, " +
            $"{cases.Count(c => c.Expected == ExpectedOutcome.RolledBackAtTransfer)} rolled back at transfer; " +
            $"{cases.Count(c => c.Scenario.NotFixed is not null)} not run in-process until the engine is fixed)");
        Assert.InRange(cases.Count, 500, 3000);
        Assert.Equal(Enum.GetValues<TypeKind>().ToHashSet(), cases.Select(c => c.Scenario.Kind).ToHashSet());
        Assert.Equal(Enum.GetValues<HolderKind>().ToHashSet(), cases.Select(c => c.Holder).ToHashSet());
        Assert.Equal(Enum.GetValues<ExpectedOutcome>().ToHashSet(), cases.Select(c => c.Expected).ToHashSet());
        // Every kind is held in every holder by at least one scenario.
        var missing = Enum.GetValues<TypeKind>().SelectMany(k => Enum.GetValues<HolderKind>().Select(h => (k, h)))
            .Where(p => !cases.Any(c => c.Scenario.Kind == p.k && c.Holder == p.h)).ToList();
        Assert.True(missing.Count == 0, "kinds never held in a holder: " + string.Join(", ", missing));
        // Each scenario says something distinct.
        var duplicates = MatrixScenarios.All.GroupBy(s => (s.Kind, s.Change)).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(duplicates.Count == 0, "scenarios described twice: " + string.Join(", ", duplicates));
    }

    [Fact]
    public Task Matrix_CasesTheRulesCarry_CommitWithEveryValueAsTheRuleSays() =>
        AssertUpdates(ExpectedOutcome.Committed, "committed");

    [Fact]
    public Task Matrix_CasesTheRulesRefuse_RefusedAtPrepareNamingThem_OldValuesIntact() =>
        AssertUpdates(ExpectedOutcome.RefusedAtPrepare, "refused");

    [Fact]
    public Task Matrix_CasesTheRulesRollBack_RolledBackAtTransferWithTheHolderPath_OldValuesIntact() =>
        AssertUpdates(ExpectedOutcome.RolledBackAtTransfer, "rolled-back");

    [Fact]
    public Task Matrix_ThroughStream_CasesTheRulesCarry_Commit() =>
        AssertUpdates(ExpectedOutcome.Committed, "stream-committed", throughStream: true);

    [Fact]
    public Task Matrix_ThroughStream_CasesTheRulesRefuse_Refused() =>
        AssertUpdates(ExpectedOutcome.RefusedAtPrepare, "stream-refused", throughStream: true);

    [Fact]
    public Task Matrix_ThroughStream_CasesTheRulesRollBack_RolledBackWithTheHolderPath() =>
        AssertUpdates(ExpectedOutcome.RolledBackAtTransfer, "stream-rolled-back", throughStream: true);

    /// <summary>
    /// Issue 13: every update of the in-process matrix made again with a parallel transfer that splits every collection of two
    /// elements or more across two threads: the same outcome, the same failure and state path, the same counts, and the same
    /// state after it (the new version's, or the old one's after a rollback).
    /// </summary>
    [Fact]
    public async Task Matrix_InParallel_EveryUpdateEndsAsTheSequentialOne()
    {
        var replayed = await MatrixRun.ResultsInParallel;
        var differences = replayed.Where(r => r.Sequential.Summary != r.Parallel)
            .Select(r => $"{r.Sequential.Name}:\n  sequential {r.Sequential.Summary}\n  parallel   {r.Parallel}").ToList();
        var path = MatrixRun.Write("parallel-differences.txt", string.Join("\n", differences));
        output.WriteLine($"parallel: {replayed.Count} updates replayed in {MatrixRun.ParallelReplayTime.TotalSeconds:0.0} s, {differences.Count} ended otherwise (list in {path})");
        Assert.NotEmpty(replayed);
        Assert.Contains(replayed, r => r.Parallel.Outcome == UpdateOutcome.Committed);
        Assert.Contains(replayed, r => r.Parallel.Outcome == UpdateOutcome.RolledBack);
        Assert.True(differences.Count == 0, $"{differences.Count} of {replayed.Count} updates ended otherwise in parallel:\n{string.Join("\n", differences)}");
    }

    [Fact]
    public async Task Matrix_Check_VerdictIsWhatTheUpdateDoes()
    {
        var (results, elapsed) = await MatrixRun.Results;
        var checkedCases = results.Where(r => r.CheckCompatible is not null || r.CheckError is not null).ToList();
        var mismatches = checkedCases.Select(r => (Result: r, Mismatch: MatrixRun.CheckMismatch(r)!)).Where(m => m.Mismatch is not null).ToList();
        Report("check", checkedCases.Count, mismatches, elapsed);
    }

    private async Task AssertUpdates(ExpectedOutcome outcome, string name, bool throughStream = false)
    {
        var (results, elapsed) = await (throughStream ? MatrixRun.ResultsThroughStream : MatrixRun.Results);
        var ofOutcome = results.Where(r => r.Case.Expected == outcome).ToList();
        var skipped = ofOutcome.Where(r => r.Case.Scenario.NotFixed is not null).ToList();
        foreach (var reason in skipped.GroupBy(r => r.Case.Scenario.NotFixed))
        {
            output.WriteLine($"not run in-process ({reason.Key}): {string.Join(", ", reason.Select(r => r.Case.Id))}");
        }
        var run = ofOutcome.Except(skipped).ToList();
        var mismatches = run.Select(r => (Result: r, Mismatch: MatrixRun.UpdateMismatch(r)!)).Where(m => m.Mismatch is not null).ToList();
        Report(name, run.Count, mismatches, elapsed);
    }

    private void Report(string name, int count, List<(CaseResult Result, string Mismatch)> mismatches, TimeSpan elapsed)
    {
        var text = MatrixRun.Lines(mismatches);
        var path = MatrixRun.Write($"{name}-mismatches.txt", text);
        output.WriteLine($"{name}: {count} cases, {mismatches.Count} not as the rules say (matrix ran in {elapsed.TotalSeconds:0.0} s; list in {path})");
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {count} cases are not as the rules say:\n{text}");
    }
}

/// <summary>The matrix's tests run one after another: each runs many updates, and the machine has few cores.</summary>
[CollectionDefinition(Name)]
public sealed class MatrixCollection
{
    public const string Name = "Transfer matrix";
}
