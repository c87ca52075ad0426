using Molt.Hosting.Control;
using Molt.Hosting.Loading;
using Molt.Hosting.Transfer;

namespace Molt.Hosting.Updating;

/// <summary>
/// Checks a new version against the running one without applying anything: loads it into a context of its
/// own, plans the transfer (which finds every change that nothing covers), and unloads it again.
/// </summary>
internal static class CompatibilityCheck
{
    public static CheckSummary Run(ProgramVersion current, string newPath, TimeProvider time)
    {
        var lines = new List<string>();
        ProgramVersion incoming;
        try
        {
            incoming = ProgramVersion.Load(newPath, current.Info.Generation + 1, time);
        }
        catch (UpdateFailedException e)
        {
            return new CheckSummary(false, [e.Message]);
        }
        try
        {
            lines.Add($"{current.Info} -> {incoming.Info}");
            var plan = TransferPlan.Create(current, incoming);
            lines.AddRange(plan.DroppedFields.Distinct().Select(f => $"dropped: {f} (the new version has no place for it)"));
            lines.Add("compatible: every change is covered by the default mapping or a transformer");
            return new CheckSummary(true, lines);
        }
        catch (UpdateFailedException e)
        {
            lines.Add(e.Message);
            return new CheckSummary(false, lines);
        }
        finally
        {
            incoming.Unload();
        }
    }
}
