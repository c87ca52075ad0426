using Molt.Hosting;

namespace Kv.Demo;

/// <summary>How the kv scenario runs: data, load, the releases and the rollback, and its deadlines.</summary>
public sealed record KvScenarioOptions
{
    /// <summary>Keys loaded into v1 before the first update (strings, every tenth with a TTL).</summary>
    public int Keys { get; init; } = 20_000;

    /// <summary>Keys of the new types loaded after the updates that bring them (lists and hashes in v2, sets in v5).</summary>
    public int KeysPerNewType { get; init; } = 2_000;

    /// <summary>More connections held open from the first release to the last, each named, each checked after every step (0: none).</summary>
    public int CrowdConnections { get; init; } = 200;

    /// <summary>redis-benchmark's parallel connections.</summary>
    public int BenchmarkClients { get; init; } = 50;

    /// <summary>
    /// About how long the first step's redis-benchmark runs (its request count is calibrated to this; each later step's is
    /// sized from the step before); the update starts a third of it in.
    /// </summary>
    public TimeSpan LoadPerStep { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>The most requests one redis-benchmark test sends, whatever the calibration says.</summary>
    public int MaxRequestsPerStep { get; init; } = 1_000_000;

    /// <summary>The releases, in order; the first is started, each next one applied live.</summary>
    public IReadOnlyList<string> Releases { get; init; } = ["v1", "v2", "v3", "v4", "v5", "v6"];

    /// <summary>After the update to this release, roll back under load to the one before it, then update forward again; null for none.</summary>
    public string? RollBackAfter { get; init; } = "v3";

    /// <summary>
    /// Whether Molt keeps each release's code loaded after it retires (<see cref="Molt.Hosting.MoltHostOptions.UnloadOldCode"/> off):
    /// the code is then tiered by the runtime, and the check after each update is that the old release's state was collected.
    /// </summary>
    public bool KeepOldCode { get; init; }

    /// <summary>
    /// molt's main assembly (Molt.Cli.dll): kv then runs under <c>molt run</c>, in processes of its own, and is updated with
    /// <c>molt update</c>; null: under <see cref="MoltHost"/> in this process.
    /// </summary>
    public string? MoltCli { get; init; }

    /// <summary>
    /// How each update runs, in order (the last one repeats for the rest): in the serving process, or in a new process
    /// (<see cref="UpdateMechanism.NewProcess"/>, which needs <see cref="MoltCli"/>). A rollback runs in process.
    /// </summary>
    public IReadOnlyList<UpdateMechanism> Mechanisms { get; init; } = [UpdateMechanism.InProcess];

    /// <summary>molt's main assembly where the projects that run kv under it copy it: molt/Molt.Cli.dll beside them.</summary>
    public static string MoltCliBeside { get; } = Path.Combine(AppContext.BaseDirectory, "molt", "Molt.Cli.dll");

    /// <summary>The folder with one subfolder per release (v1...v6), each holding its Kv.dll.</summary>
    public string ReleasesFolder { get; init; } = Path.Combine(AppContext.BaseDirectory, "versions");

    /// <summary>The folder of the Python client scripts (kv_data.py).</summary>
    public string ClientsFolder { get; init; } = Path.Combine(AppContext.BaseDirectory, "clients");

    /// <summary>The deadline of any one client program (a load, a check).</summary>
    public TimeSpan ToolTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The whole scenario's deadline.</summary>
    public TimeSpan TimeLimit { get; init; } = TimeSpan.FromMinutes(4);

    /// <summary>Where progress goes (a line at a time); null for none.</summary>
    public Action<string>? Log { get; init; }
}
