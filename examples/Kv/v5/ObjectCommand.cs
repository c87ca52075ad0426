namespace Kv;

/// <summary>OBJECT: what the store knows of a key.</summary>
internal static partial class Commands
{
    /// <summary>
    /// OBJECT FREQ | IDLETIME | ENCODING | REFCOUNT key. FREQ answers the key's access count whatever the
    /// eviction policy (Redis answers it only under an LFU policy, with a logarithmic counter).
    /// </summary>
    private static void ObjectInfo(Connection c, long now)
    {
        var known = c.Is(1, "FREQ") || c.Is(1, "IDLETIME") || c.Is(1, "ENCODING") || c.Is(1, "REFCOUNT");
        if (!known)
        {
            c.Output.Error($"ERR unknown subcommand '{Printable(c.Arg(1))}'. Try OBJECT HELP.");
            return;
        }
        if (c.ArgCount != 3)
        {
            c.Output.Error($"ERR wrong number of arguments for 'object|{Printable(c.Arg(1)).ToLowerInvariant()}' command");
            return;
        }
        var entry = Store.Peek(c.Key(2), now);
        if (entry is null)
        {
            c.Output.Null();
        }
        else if (c.Is(1, "FREQ"))
        {
            c.Output.Integer(entry.AccessCount);
        }
        else if (c.Is(1, "IDLETIME"))
        {
            c.Output.Integer(Math.Max(0, now - entry.LastAccess) / 1000);
        }
        else if (c.Is(1, "REFCOUNT"))
        {
            c.Output.Integer(1);
        }
        else
        {
            c.Output.Bulk(EncodingOf(entry.Value));
        }
    }

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
