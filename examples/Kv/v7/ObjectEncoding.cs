namespace Kv;

/// <summary>OBJECT ENCODING: the encoding Redis 7.0 would use for a value, by its rules and its settings (CONFIG SET).</summary>
internal static partial class Commands
{
    /// <summary>
    /// The encoding Redis would report for a value of this size: a string is <c>int</c> when it is an integer of at most 20
    /// chars as Redis reads one (no sign but '-', no leading zero), else <c>embstr</c> up to 44 bytes, else <c>raw</c>; a list a
    /// <c>quicklist</c>; a hash a <c>listpack</c> while it has at most hash-max-listpack-entries fields and no field or value
    /// longer than hash-max-listpack-value bytes; a set an <c>intset</c> while it has at most set-max-intset-entries members,
    /// all integers; else a <c>hashtable</c>.
    /// </summary>
    private static string EncodingOf(Value value) => value switch
    {
        StringValue s when Number.TryParseInt64(s.Bytes, out _) => "int",
        StringValue s => s.Bytes.Length <= 44 ? "embstr" : "raw",
        ListValue => "quicklist",
        HashValue h => h.Fields.Count <= Settings.HashMaxListpackEntries
            && h.Fields.All(f => f.Key.Length <= Settings.HashMaxListpackValue && f.Value.Length <= Settings.HashMaxListpackValue)
            ? "listpack" : "hashtable",
        SetValue set => set.Members.Count <= Settings.SetMaxIntsetEntries
            && set.Members.All(m => Number.TryParseInt64(System.Text.Encoding.Latin1.GetBytes(m), out _)) ? "intset" : "hashtable",
        _ => "unknown",
    };
}
