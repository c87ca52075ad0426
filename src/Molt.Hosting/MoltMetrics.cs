using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Molt.Hosting;

/// <summary>
/// The host's metrics, on the meter <c>Molt.Hosting</c> (visible to <c>dotnet-counters monitor --counters Molt.Hosting</c>):
/// updates by outcome, the pause clients saw, objects rebuilt, and the live units of every running program.
/// </summary>
internal static class MoltMetrics
{
    public const string MeterName = "Molt.Hosting";

    private static readonly Meter Meter = new(MeterName);

    private static readonly ConcurrentDictionary<MoltHost, byte> Hosts = new();

    private static readonly Counter<long> Updates = Meter.CreateCounter<long>(
        "molt.updates", unit: "{update}", description: "Updates attempted, by outcome and, for failures, the phase that failed.");

    private static readonly Histogram<double> Pause = Meter.CreateHistogram<double>(
        "molt.update.pause", unit: "ms", description: "The pause the program's clients saw during an update.");

    private static readonly Counter<long> Rebuilt = Meter.CreateCounter<long>(
        "molt.update.objects_rebuilt", unit: "{object}", description: "Objects rebuilt as the new version's types.");

    static MoltMetrics()
    {
        Meter.CreateObservableGauge("molt.units", () => Hosts.Keys.Sum(h => h.Units.Count), unit: "{unit}",
            description: "Live units of the programs this process hosts.");
    }

    public static void Register(MoltHost host) => Hosts.TryAdd(host, 0);

    public static void Unregister(MoltHost host) => Hosts.TryRemove(host, out _);

    public static void Record(UpdateResult result)
    {
        var outcome = new KeyValuePair<string, object?>("outcome", result.Outcome.ToString());
        var phase = new KeyValuePair<string, object?>("phase", result.Failure?.Phase.ToString() ?? "");
        Updates.Add(1, outcome, phase);
        if (result.Outcome != UpdateOutcome.Refused)
        {
            Pause.Record(result.PauseTime.TotalMilliseconds, outcome);
        }
        Rebuilt.Add(result.ObjectsRebuilt);
    }
}
