namespace App;
public sealed class Tag { public int N; }
public static class Program
{
    public static Lib.Store State = new();
    public static void Fill(int n)
    {
        for (var i = 0; i < n; i++) State.Items[$"k{i}"] = new Lib.Entry { Key = $"k{i}", Value = new byte[8], Tag = i == 0 ? new Tag { N = 1 } : null };
    }
    public static int Count(Lib.Store s) => s.Items.Count;
}
