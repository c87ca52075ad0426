namespace Kv;

/// <summary>OBJECT ENCODING: the encoding Redis would use for a value.</summary>
internal static partial class Commands
{
    /// <summary>The encoding Redis would report for a value of this size.</summary>
    private static string EncodingOf(Value value) => value switch
    {
        StringValue s when s.Bytes.Length <= 20 && Number.TryParseInt64(s.Bytes, out _) => "int",
        StringValue s => s.Bytes.Length <= 44 ? "embstr" : "raw",
        ListValue => "quicklist",
        HashValue h => h.Fields.Count <= 128 ? "listpack" : "hashtable",
        SetValue set => set.Members.Count <= 512 && set.Members.All(m => Number.TryParseInt64(System.Text.Encoding.Latin1.GetBytes(m), out _)) ? "intset" : "hashtable",
        _ => "unknown",
    };
}
