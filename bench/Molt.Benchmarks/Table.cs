using System.Globalization;

namespace Molt.Benchmarks;

/// <summary>A plain text table with aligned columns, printed under the command that produced it.</summary>
internal sealed class Table(string command, string title, params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public void Add(params object[] cells) => _rows.Add([.. cells.Select(Format)]);

    public void Print(params string[] notes)
    {
        Console.WriteLine($"$ {command}");
        Console.WriteLine(title);
        var widths = headers.Select((h, i) => Math.Max(h.Length, _rows.Count == 0 ? 0 : _rows.Max(r => r[i].Length))).ToArray();
        Console.WriteLine(Line(headers));
        Console.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var row in _rows)
        {
            Console.WriteLine(Line(row));
        }
        foreach (var note in notes)
        {
            Console.WriteLine(note);
        }
        Console.WriteLine();

        // The first column is a label (left-aligned), the others numbers (right-aligned).
        string Line(string[] cells) => string.Join("  ", cells.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))).TrimEnd();
    }

    /// <summary>Milliseconds with one decimal.</summary>
    public static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture) + " ms";

    private static string Format(object cell) => cell switch
    {
        TimeSpan t => Ms(t),
        int or long => string.Format(CultureInfo.InvariantCulture, "{0:N0}", cell),
        double d => d.ToString("0.00", CultureInfo.InvariantCulture),
        _ => Convert.ToString(cell, CultureInfo.InvariantCulture) ?? "",
    };
}
