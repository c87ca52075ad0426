using Molt.Hosting;

// Usage: Molt.Matrix.Runner <manifest>. Each line of the manifest is "label<TAB>v1 path<TAB>v2 path": the runner starts v1
// under a MoltHost, updates it to v2, and prints "begin <label>" before and "end <label> <outcome> <phase>" after, so that
// a test that reads the output knows which update was running if the process dies. Exits 0 when every line ran.
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: Molt.Matrix.Runner <manifest>");
    return 2;
}
foreach (var line in File.ReadAllLines(args[0]).Where(l => l.Length > 0))
{
    var parts = line.Split('\t');
    Console.WriteLine($"begin {parts[0]}");
    try
    {
        await using var host = await MoltHost.StartAsync(parts[1]);
        var result = await host.UpdateAsync(parts[2]);
        Console.WriteLine($"end {parts[0]} {result.Outcome} {result.Failure?.Phase}");
    }
    catch (Exception e)
    {
        // Not a crash: the host threw, and said why.
        Console.WriteLine($"end {parts[0]} threw {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
    }
}
return 0;
