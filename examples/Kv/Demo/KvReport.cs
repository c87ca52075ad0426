using System.Globalization;
using System.Text;
using Molt.Hosting;
using Molt.Hosting.Control;

namespace Kv.Demo;

/// <summary>One step of the scenario — a live update or a rollback, under load — and what the clients saw across it.</summary>
public sealed class StepReport
{
    /// <summary>"update" or "rollback".</summary>
    public required string Kind { get; init; }

    /// <summary>The release the step left.</summary>
    public required string From { get; init; }

    /// <summary>The release the step went to.</summary>
    public required string To { get; init; }

    /// <summary>How the update ran: in the serving process, or in a new one.</summary>
    public UpdateMechanism Mechanism { get; init; }

    /// <summary>What Molt says it did, as its control endpoint reports it (null when the step failed before the update ran).</summary>
    public UpdateSummary? Result { get; set; }

    /// <summary>The process that served the program before the step.</summary>
    public int ProcessBefore { get; set; }

    /// <summary>The process that served the program after the step.</summary>
    public int ProcessAfter { get; set; }

    /// <summary>The requests redis-benchmark sent in this step, per test (SET, GET).</summary>
    public long BenchmarkRequests { get; set; }

    /// <summary>The highest latency redis-benchmark saw in this step, over its tests: the pause as a client sees it.</summary>
    public double BenchmarkMaxLatencyMs { get; set; }

    /// <summary>Whether redis-benchmark was still running when the update returned: the update happened under load.</summary>
    public bool LoadThroughoutUpdate { get; set; }

    /// <summary>How long redis-benchmark ran in this step.</summary>
    public TimeSpan BenchmarkRunTime { get; set; }

    /// <summary>How long the update call took: prepare, pause and the unload check.</summary>
    public TimeSpan UpdateCallTime { get; set; }

    /// <summary>Writes the Python writer had acknowledged during the step.</summary>
    public long WriterAcknowledged { get; set; }

    /// <summary>The highest latency of one write of the Python writer.</summary>
    public double WriterMaxLatencyMs { get; set; }

    /// <summary>Client errors of the step: redis-benchmark's, the writer's and the live connection's.</summary>
    public List<string> ClientErrors { get; } = [];

    /// <summary>Keys read back and checked (type, value, TTL) after the step.</summary>
    public long KeysVerified { get; set; }

    /// <summary>What was wrong in the state after the step (empty when everything was found as written).</summary>
    public List<string> StateProblems { get; } = [];

    /// <summary>Checks of the live connection and of the release (name, passed).</summary>
    public List<(string Name, bool Passed)> Checks { get; } = [];

    /// <summary>"v1 -> v2" or "rollback v3 -> v2".</summary>
    public string Name => Kind == "rollback" ? $"rollback {From} -> {To}" : $"{From} -> {To}";
}

/// <summary>What the kv scenario did and whether everything held.</summary>
public sealed class KvReport
{
    /// <summary>Each step, in order.</summary>
    public List<StepReport> Steps { get; } = [];

    /// <summary>Keys loaded before the first update.</summary>
    public int KeysLoaded { get; set; }

    /// <summary>The requests of the first step, as calibrated on v1 (each step sizes the next one's from its own run).</summary>
    public int RequestsPerStep { get; set; }

    /// <summary>What went wrong; empty when the scenario succeeded.</summary>
    public List<string> Failures { get; } = [];

    /// <summary>How long the scenario took.</summary>
    public TimeSpan Elapsed { get; set; }

    /// <summary>True when every step committed and every check held.</summary>
    public bool Succeeded => Failures.Count == 0 && Steps.Count > 0;

    /// <summary>The closing table, one row per step, and the verdict.</summary>
    public string Summary()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"step",-18} {"outcome",-10} {"process",-15} {"pause",9} {"client max",10} {"bench req",10} {"writes",7} {"errors",6} {"keys checked",12} {"state",5} {"unloaded",8}");
        foreach (var step in Steps)
        {
            var result = step.Result;
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{step.Name,-18} {result?.Outcome ?? "-",-10} {Process(step),-15} {Ms(result?.PauseMilliseconds),9} {Ms(step.BenchmarkMaxLatencyMs),10} " +
                $"{step.BenchmarkRequests * 2,10} {step.WriterAcknowledged,7} {step.ClientErrors.Count,6} {step.KeysVerified,12} " +
                $"{(step.StateProblems.Count == 0 ? "ok" : "WRONG"),5} {(result?.OldVersionUnloaded == true ? "yes" : "NO"),8}");
        }
        text.AppendLine("(process: the serving process before -> after, for an update to a new process; pause: the host's measure; client max: redis-benchmark's highest latency in the step; bench req: SET + GET requests)");
        text.AppendLine();
        text.Append(Succeeded
            ? $"OK: {Steps.Count} live steps under load in {Elapsed.TotalSeconds:0.0} s, 0 client errors, every key found with its value, type and TTL."
            : $"FAILED ({Failures.Count}):{string.Concat(Failures.Select(f => "\n  - " + f))}");
        return text.ToString();
    }

    private static string Process(StepReport step) => step.Mechanism == UpdateMechanism.NewProcess
        ? string.Create(CultureInfo.InvariantCulture, $"{step.ProcessBefore} -> {step.ProcessAfter}")
        : "same";

    private static string Ms(double? ms) => ms is { } value ? value.ToString("0.0", CultureInfo.InvariantCulture) + " ms" : "-";
}
