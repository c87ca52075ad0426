using System.Diagnostics;
using BenchmarkDotNet.Running;
using Molt.Benchmarks;

// Molt's benchmarks: each is selected by name; with no name, all run. They measure and print; they assert nothing.
var all = new (string Name, string What, Func<Task> Run)[]
{
    ("update-point", "cost of an update point when no update is pending (BenchmarkDotNet)", () =>
    {
        Console.WriteLine("$ dotnet run --project bench/Molt.Benchmarks -c Release -- update-point");
        BenchmarkRunner.Run<UpdatePointBenchmarks>(UpdatePointBenchmarks.Config());
        return Task.CompletedTask;
    }),
    ("transfer-objects", "transfer of program-typed objects against building them from scratch", TransferBenchmarks.TransferObjectsAsync),
    ("transfer-bytes", "transfer of byte arrays (passed by reference)", TransferBenchmarks.TransferBytesAsync),
    ("pause", "pause of an update by the number of program-typed objects", TransferBenchmarks.PauseAsync),
};
var repeats = Array.IndexOf(args, "--repeats");
if (repeats >= 0 && repeats + 1 < args.Length && int.TryParse(args[repeats + 1], System.Globalization.CultureInfo.InvariantCulture, out var n) && n > 0)
{
    TransferBenchmarks.Repeats = n;
    args = [.. args.Where((_, i) => i != repeats && i != repeats + 1)];
}
var entries = Array.IndexOf(args, "--entries");
if (entries >= 0 && entries + 1 < args.Length)
{
    TransferBenchmarks.Entries = [.. args[entries + 1].Split(',').Select(e => int.Parse(e, System.Globalization.CultureInfo.InvariantCulture))];
    args = [.. args.Where((_, i) => i != entries && i != entries + 1)];
}
TransferBenchmarks.Verbose = args.Contains("--verbose");
args = [.. args.Where(a => a != "--verbose")];
var unknown = args.Where(a => !all.Any(b => b.Name == a)).ToList();
if (unknown.Count > 0)
{
    Console.Error.WriteLine($"Unknown benchmark(s): {string.Join(", ", unknown)}. Usage: [--repeats N] [--entries N,M] [--verbose] [name...]; names:");
    foreach (var b in all)
    {
        Console.Error.WriteLine($"  {b.Name,-18} {b.What}");
    }
    return 2;
}
Machine.Print();
foreach (var b in all.Where(b => args.Length == 0 || args.Contains(b.Name)))
{
    var start = Stopwatch.GetTimestamp();
    await b.Run();
    Console.WriteLine($"({b.Name} took {Stopwatch.GetElapsedTime(start).TotalSeconds:0.0} s)");
    Console.WriteLine();
}
return 0;
