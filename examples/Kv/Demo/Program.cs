using System.Globalization;
using Kv.Demo;

// Molt's main job: a Redis-compatible server updated live v1 -> v6 under load. Exit code 0 only if everything held.
// Options: --keys N (keys loaded into v1, default 20000), --releases v1,v2,... (default all six),
// --connections N (idle named connections held open through every update besides the load, default 200),
// --keep-old-code (keep each release's code loaded, so that the runtime tiers it; see MoltHostOptions.UnloadOldCode),
// --process (kv runs under `molt run`, and every update moves it to a new process: state, sockets and connections handed over).
var defaults = new KvScenarioOptions();
var keys = Option("--keys") is { } k ? int.Parse(k, CultureInfo.InvariantCulture) : defaults.Keys;
var releases = Option("--releases")?.Split(',') ?? [.. defaults.Releases];
var connections = Option("--connections") is { } c ? int.Parse(c, CultureInfo.InvariantCulture) : defaults.CrowdConnections;
Console.WriteLine($"Molt demo: kv, a Redis-compatible server, updated live {string.Join(" -> ", releases)}" +
    (releases.Contains(defaults.RollBackAfter) ? $" (with a rollback from {defaults.RollBackAfter} and forward again)" : ""));
Console.WriteLine("while redis-benchmark and Debian's Python redis client keep it busy");
Console.WriteLine();
var acrossProcesses = args.Contains("--process");
var mechanisms = acrossProcesses ? new[] { Molt.Hosting.UpdateMechanism.NewProcess } : [.. defaults.Mechanisms];
var report = await new KvScenario(defaults with
{
    Keys = keys, Releases = releases, CrowdConnections = connections, KeepOldCode = args.Contains("--keep-old-code"), Mechanisms = mechanisms,
    MoltCli = acrossProcesses ? KvScenarioOptions.MoltCliBeside : null, Log = Console.WriteLine,
}).RunAsync();
Console.WriteLine();
Console.WriteLine(report.Summary());
return report.Succeeded ? 0 : 1;

string? Option(string name) => Array.IndexOf(args, name) is var at and >= 0 && at + 1 < args.Length ? args[at + 1] : null;
