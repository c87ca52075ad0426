using System.Diagnostics;
using System.Globalization;
using Molt.Benchmarks;
using Shop.Benchmarks;

// The Shop example's benchmarks (an ASP.NET Core application under Molt, loaded by wrk): each is selected by name; with
// no name, both run. They measure and print; they assert nothing on time, and stop with an error when a check fails.
Commands.Line = $"dotnet run --project bench/Shop.Benchmarks -c Release -- {string.Join(' ', args)}".TrimEnd();
var all = new (string Name, string What, Func<Task> Run)[]
{
    ("throughput", "wrk: shop v1 standalone against shop v1 under molt run, alternated in rounds (the ratio)", Throughput.RunAsync),
    ("pause", "the pause clients (wrk, a prober) see during molt update v1 -> v2 -> v3, by the number of products", Pause.RunAsync),
};
if (args.Contains("--help") || args.Contains("-h"))
{
    Usage(Console.Out);
    return 0;
}
args = Option(args, "--rounds", n => Throughput.Rounds = (int)n);
args = Option(args, "--seconds", s => Throughput.Seconds = s);
args = Option(args, "--warmup", s => Throughput.WarmupSeconds = s);
args = Option(args, "--products", n => Throughput.Products = (int)n);
args = Option(args, "--post-products", n => Throughput.PostProducts = (int)n);
args = Option(args, "--repeats", n => Pause.Repeats = (int)n);
args = Option(args, "--max-products", n => Pause.Sizes = [.. Pause.Sizes.Where(s => s <= n)]);
if (args.Contains("--kept"))
{
    Throughput.WithCodeKept = true;
    args = [.. args.Where(a => a != "--kept")];
}
var sizesAt = Array.IndexOf(args, "--sizes");
if (sizesAt >= 0 && sizesAt + 1 < args.Length)
{
    Pause.Sizes = [.. args[sizesAt + 1].Split(',').Select(s => int.Parse(s, NumberStyles.AllowThousands, CultureInfo.InvariantCulture))];
    args = [.. args.Where((_, i) => i != sizesAt && i != sizesAt + 1)];
}
var unknown = args.Where(a => !all.Any(b => b.Name == a)).ToList();
if (unknown.Count > 0)
{
    Console.Error.WriteLine($"Unknown argument(s): {string.Join(", ", unknown)}.");
    Usage(Console.Error);
    return 2;
}
Machine.Print();
var wrk = await Run.ToEndAsync("wrk", ["--version"], TimeSpan.FromSeconds(10));
Console.WriteLine($"$ wrk --version\n{(wrk.Stdout + wrk.Stderr).Split('\n')[0].Trim()}");
var load = await Run.ToEndAsync("cat", ["/proc/loadavg"], TimeSpan.FromSeconds(10));
Console.WriteLine($"$ cat /proc/loadavg\n{load.Stdout.Trim()}");
Console.WriteLine($"shop releases beside the benchmarks: {string.Join(", ", Enumerable.Range(1, 3).Where(v => File.Exists(Paths.Shop(v))).Select(v => $"v{v}"))}");
Console.WriteLine();
foreach (var b in all.Where(b => args.Length == 0 || args.Contains(b.Name)))
{
    var start = Stopwatch.GetTimestamp();
    await b.Run();
    Console.WriteLine($"({b.Name} took {Stopwatch.GetElapsedTime(start).TotalSeconds:0.0} s)");
    Console.WriteLine();
}
return 0;

void Usage(TextWriter to)
{
    to.WriteLine("Usage: dotnet run --project bench/Shop.Benchmarks -c Release -- [options] [name...]   (no name: both; about 4-5 minutes by default)");
    to.WriteLine("Names:");
    foreach (var b in all)
    {
        to.WriteLine($"  {b.Name,-11} {b.What}");
    }
    to.WriteLine("Options of throughput:");
    to.WriteLine($"  --rounds N        rounds, each a fresh standalone server then a fresh one under molt (default {Throughput.Rounds})");
    to.WriteLine($"  --seconds S       seconds of each measured wrk run, per endpoint (default {Throughput.Seconds})");
    to.WriteLine($"  --warmup S        seconds of wrk per endpoint before measuring, per server (default {Throughput.WarmupSeconds})");
    to.WriteLine($"  --products N      products the servers of the GETs are seeded with (default {Throughput.Products}, the shop's default)");
    to.WriteLine($"  --post-products N products the servers of the POST are seeded with (default {Throughput.PostProducts}: stock for every order it places)");
    to.WriteLine("  --kept            also a server under molt run --keep-old-code (code the runtime tiers) in each round");
    to.WriteLine("Options of pause:");
    to.WriteLine($"  --sizes A,B,...   product counts (default {string.Join(',', Pause.Sizes)})");
    to.WriteLine("  --max-products N  only the sizes up to N");
    to.WriteLine($"  --repeats N       runs per size, the table shows medians (default {Pause.Repeats})");
    to.WriteLine("Needs Debian's wrk (apt-get install wrk). Results: the tables, and every run under bench/Shop.Benchmarks/results/.");
}

// Takes `name X` out of the arguments, giving X (a positive number) to `set`.
static string[] Option(string[] args, string name, Action<double> set)
{
    var at = Array.IndexOf(args, name);
    if (at >= 0 && at + 1 < args.Length && double.TryParse(args[at + 1], CultureInfo.InvariantCulture, out var n) && n > 0)
    {
        set(n);
        return [.. args.Where((_, i) => i != at && i != at + 1)];
    }
    return args;
}
