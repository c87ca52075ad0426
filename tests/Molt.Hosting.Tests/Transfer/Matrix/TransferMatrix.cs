namespace Molt.Hosting.Tests.Transfer.Matrix;

/// <summary>Cases updated together: one program holds them all, each in its own namespace.</summary>
/// <param name="Name">The program's (assembly's) name.</param>
/// <param name="Cases">Its cases.</param>
internal sealed record MatrixGroup(string Name, IReadOnlyList<MatrixCase> Cases);

/// <summary>
/// The generated matrix: every scenario of <see cref="MatrixScenarios"/> in every holder it applies to, numbered in a fixed
/// order, and grouped into programs so that a few compilations and updates cover it all.
/// </summary>
internal static class TransferMatrix
{
    /// <summary>How many cases one program holds (a few thousand lines of C#).</summary>
    private const int GroupSize = 160;

    public static IReadOnlyList<MatrixCase> Cases { get; } = Number();

    private static List<MatrixCase> Number()
    {
        var cases = new List<MatrixCase>();
        foreach (var scenario in MatrixScenarios.All)
        {
            foreach (var holder in Enum.GetValues<HolderKind>().Where(scenario.Holders.Contains))
            {
                cases.Add(new MatrixCase(cases.Count + 1, scenario, holder));
            }
        }
        return cases;
    }

    /// <summary>
    /// The groups: the cases the rules carry, by the hundred (one update each); those refused at prepare, by the hundred too
    /// (a refusal names every change that nothing covers); those rolled back at transfer, one group per scenario (a transfer
    /// stops at its first failure). Cases the engine is not fixed for yet come last, one group per scenario, only when asked for.
    /// </summary>
    public static IReadOnlyList<MatrixGroup> Groups(bool withNotFixed)
    {
        var groups = new List<MatrixGroup>();
        var ready = Cases.Where(c => c.Scenario.NotFixed is null).ToList();
        Chunk("MX_Commit", ready.Where(c => c.Expected == ExpectedOutcome.Committed));
        Chunk("MX_Refused", ready.Where(c => c.Expected == ExpectedOutcome.RefusedAtPrepare));
        ByScenario("MX_RolledBack", ready.Where(c => c.Expected == ExpectedOutcome.RolledBackAtTransfer));
        if (withNotFixed)
        {
            ByScenario("MX_NotFixed", Cases.Where(c => c.Scenario.NotFixed is not null));
        }
        return groups;

        void Chunk(string name, IEnumerable<MatrixCase> cases) =>
            groups.AddRange(cases.Chunk(GroupSize).Select((chunk, i) => new MatrixGroup($"{name}{i + 1}", chunk)));

        void ByScenario(string name, IEnumerable<MatrixCase> cases) =>
            groups.AddRange(cases.GroupBy(c => c.Scenario).Select((g, i) => new MatrixGroup($"{name}{i + 1}", [.. g])));
    }
}
