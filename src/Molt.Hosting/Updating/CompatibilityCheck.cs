using System.Runtime.CompilerServices;
using Molt.Hosting.Control;
using Molt.Hosting.Loading;
using Molt.Hosting.Transfer;

namespace Molt.Hosting.Updating;

/// <summary>
/// Checks a new version against the running one without applying anything: loads it into a context of its
/// own, plans the transfer as an update's prepare phase does, reports (<see cref="CompatibilityReport"/>), tries the
/// transfer of the running state into it (<see cref="TrialTransfer"/>, when the types allow the update), and unloads it
/// again. The program runs on untouched: no unit is asked to park.
/// </summary>
internal static class CompatibilityCheck
{
    public static CheckSummary Run(ProgramSession session, ProgramVersion current, string newPath, TimeProvider time) =>
        Run(session, current, newPath, time, out _);

    /// <summary>Runs the check; <paramref name="checkedContext"/> tells when the checked version's context is collected.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static CheckSummary Run(ProgramSession session, ProgramVersion current, string newPath, TimeProvider time, out WeakReference? checkedContext)
    {
        checkedContext = null;
        ProgramVersion incoming;
        try
        {
            incoming = ProgramVersion.Load(newPath, current.Info.Generation + 1, time, libraries: current.Libraries);
        }
        catch (UpdateFailedException e)
        {
            return Refused(e.Message);
        }
        try
        {
            var plan = TransferPlan.Plan(current, incoming);
            var units = session.UnitEntries();
            var report = CompatibilityReport.Create(plan, units);
            if (report.Compatible)
            {
                // The types allow the update; whether the values held now cross too, only a transfer tells: a trial one, discarded.
                report.ApplyTrial(TrialTransfer.Run(plan, [.. units.Select(u => (u.Name, u.State))]));
            }
            return report.ToSummary(current.Info, incoming.Info);
        }
        catch (UpdateFailedException e)
        {
            return Refused(e.Message, $"{current.Info} -> {incoming.Info}");
        }
        finally
        {
            checkedContext = incoming.Retire().Context;
        }
    }

    private static CheckSummary Refused(string why, string? header = null)
    {
        var finding = new CheckFinding(CheckFindingKind.Refusal, "version", CheckCoverage.Nothing, CheckSeverity.Incompatible, why);
        const string verdict = "verdict: NOT compatible: the new version cannot be loaded or planned (see above)";
        string[] lines = header is null ? [why, verdict] : [header, why, verdict];
        return new CheckSummary(false, lines) { Findings = [finding] };
    }
}
