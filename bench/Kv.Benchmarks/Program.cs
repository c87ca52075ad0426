using System.Diagnostics;
using System.Globalization;
using Kv.Benchmarks;
using Molt.Benchmarks;

// The kv example's benchmarks: each is selected by name; with no name, all run. They measure and print; they assert nothing.
if (args.Length > 0 && args[0] == "probe")
{
    return Prober.Probe(args[1..]); // The latency prober, started by `pause` as its own process.
}
Commands.Line = $"dotnet run --project bench/Kv.Benchmarks -c Release -- {string.Join(' ', args)}".TrimEnd();
var all = new (string Name, string What, Func<Task> Run)[]
{
    ("throughput", "redis-benchmark: kv standalone against kv under molt (the ratio), and redis-server", Throughput.RunAsync),
    ("pause", "the pause clients see during an update, by the number of keys", Pause.RunAsync),
    ("code-only", "a code-only update (v5 -> v6) with the keyspace's library shared and with libraries per version, by the number of keys", CodeOnly.RunAsync),
    ("codepath", "kv's command path in process, from a collectible context and from one that is not", CodePath.RunAsync),
    ("units", "an update by the number of idle connections (each a unit of the server)", Units.RunAsync),
    ("process-throughput", "throughput: the last release standalone, under molt, and reached by process updates (molt update --process) from the first", ProcessThroughputAsync),
    ("process", "a process update against an in-process update (v1 -> v2) under molt run: pause and memory, by the number of keys", ProcessUpdates.RunAsync),
};
if (args.Contains("--with-1m"))
{
    ProcessUpdates.Sizes = [.. ProcessUpdates.Sizes, 1_000_000];
    args = [.. args.Where(a => a != "--with-1m")];
}
args = Option(args, "--rounds", n => Throughput.Rounds = n);
args = Option(args, "--requests", n => Throughput.Requests = n);
args = Option(args, "--repeats", n => Pause.Repeats = n);
args = Option(args, "--max-keys", n => (Pause.Sizes, ProcessUpdates.Sizes) = ([.. Pause.Sizes.Where(s => s <= n)], [.. ProcessUpdates.Sizes.Where(s => s <= n)]));
args = Option(args, "--min-keys", n => (Pause.Sizes, ProcessUpdates.Sizes) = ([.. Pause.Sizes.Where(s => s >= n)], [.. ProcessUpdates.Sizes.Where(s => s >= n)]));
if (args.Contains("--no-verify-unload"))
{
    Pause.VerifyUnload = false;
    args = [.. args.Where(a => a != "--no-verify-unload")];
}
if (args.Contains("--keep-old-code"))
{
    Pause.KeepOldCode = true;
    args = [.. args.Where(a => a != "--keep-old-code")];
}
var unknown = args.Where(a => !all.Any(b => b.Name == a)).ToList();
if (unknown.Count > 0)
{
    Console.Error.WriteLine($"Unknown benchmark(s): {string.Join(", ", unknown)}. Usage: [--rounds N] [--requests N] [--repeats N] [--max-keys N] [--min-keys N] [--no-verify-unload] [--keep-old-code] [--with-1m] [name...]; names:");
    foreach (var b in all)
    {
        Console.Error.WriteLine($"  {b.Name,-12} {b.What}");
    }
    return 2;
}
Machine.Print();
foreach (var tool in new[] { "redis-server", "redis-benchmark" })
{
    var version = await Run.ToEndAsync(tool, ["--version"], TimeSpan.FromSeconds(10));
    Console.WriteLine($"$ {tool} --version\n{version.Stdout.Trim()}");
}
Console.WriteLine($"kv releases beside the benchmarks: {string.Join(", ", Paths.Versions.Select(v => $"v{v}"))}");
Console.WriteLine();
foreach (var b in all.Where(b => args.Length == 0 || args.Contains(b.Name)))
{
    var start = Stopwatch.GetTimestamp();
    await b.Run();
    Console.WriteLine($"({b.Name} took {Stopwatch.GetElapsedTime(start).TotalSeconds:0.0} s)");
    Console.WriteLine();
}
return 0;

// The throughput benchmark with only the servers a process update is compared with.
static Task ProcessThroughputAsync()
{
    Throughput.ProcessUpdatesOnly = true;
    return Throughput.RunAsync();
}

// Takes `name N` out of the arguments, giving N to `set`.
static string[] Option(string[] args, string name, Action<int> set)
{
    var at = Array.IndexOf(args, name);
    if (at >= 0 && at + 1 < args.Length && int.TryParse(args[at + 1], CultureInfo.InvariantCulture, out var n) && n > 0)
    {
        set(n);
        return [.. args.Where((_, i) => i != at && i != at + 1)];
    }
    return args;
}
