using Molt.Hosting;
using Molt.Hosting.Control;

namespace Molt.Testing;

/// <summary>
/// An update's result as the control endpoint reports it (<c>molt update --json</c>): what a test or benchmark compares
/// when some updates run under <see cref="MoltHost"/> in its own process and others under <c>molt run</c>.
/// </summary>
public static class UpdateSummaries
{
    /// <summary>The summary the control endpoint would send for <paramref name="result"/>.</summary>
    public static UpdateSummary Of(UpdateResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return UpdateSummary.Of(result, result.To.LoadedAt);
    }
}
