using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Molt.Hosting.Tests;

public class MetricsTests
{
    private const string Program = TestPrograms.Usings + """
        public static class Program
        {
            public static int Value;
            public static async Task Main(string[] args) { if (!Live.IsUpdating) Value = 1; await Live.RunAsync(); }
        }
        """;

    [Fact]
    public async Task Update_PublishesOutcomeAndPauseOnTheMoltHostingMeter()
    {
        var v1 = TestPrograms.Build("Metered", "v1", Program);
        var v2 = TestPrograms.Build("Metered", "v2", Program + "\n// v2");
        var updates = new ConcurrentBag<(long Value, string? Outcome)>();
        var pauses = new ConcurrentBag<double>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "Molt.Hosting")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (instrument.Name == "molt.updates")
            {
                updates.Add((value, tags.ToArray().FirstOrDefault(t => t.Key == "outcome").Value as string));
            }
        });
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) =>
        {
            if (instrument.Name == "molt.update.pause")
            {
                pauses.Add(value);
            }
        });
        listener.Start();

        await using var host = await MoltHost.StartAsync(v1);
        var committed = await host.UpdateAsync(v2);
        var refused = await host.UpdateAsync(Path.Combine(Path.GetTempPath(), "no-such-program.dll"));

        Assert.Equal(UpdateOutcome.Committed, committed.Outcome);
        Assert.Equal(UpdateOutcome.Refused, refused.Outcome);
        Assert.Contains(updates, u => u is (1, "Committed"));
        Assert.Contains(updates, u => u is (1, "Refused"));
        Assert.Contains(pauses, p => p > 0);
    }
}
