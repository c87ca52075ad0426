namespace Molt.Benchmarks;

/// <summary>Medians, as the benchmarks report them.</summary>
internal static class Stats
{
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}

/// <summary>
/// Where a benchmark writes its results: the <c>results</c> folder beside its project file in the source tree (found
/// upwards from the output folder, by the project named after the running assembly), else under the current folder.
/// </summary>
internal static class Results
{
    public static string Directory { get; } = Find();

    private static string Find()
    {
        var project = (System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name ?? "") + ".csproj";
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, project)))
            {
                return Path.Combine(dir.FullName, "results");
            }
        }
        return Path.Combine(Environment.CurrentDirectory, "results");
    }
}
