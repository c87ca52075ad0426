using System.Globalization;

namespace Kv;

/// <summary>
/// The settings of release 7 that CONFIG SET changes: the sizes up to which Redis keeps a hash as a listpack and a set as
/// an intset (OBJECT ENCODING answers by them). State: they cross every update, as a Redis server keeps its configuration.
/// </summary>
internal static class Settings
{
    /// <summary>hash-max-listpack-entries (alias hash-max-ziplist-entries): the most fields of a listpack hash (512, the default Redis 7.0 is built with; its sample redis.conf says 128).</summary>
    public static long HashMaxListpackEntries = 512;

    /// <summary>hash-max-listpack-value (alias hash-max-ziplist-value): the longest field or value of a listpack hash, in bytes.</summary>
    public static long HashMaxListpackValue = 64;

    /// <summary>set-max-intset-entries: the most members of an intset.</summary>
    public static long SetMaxIntsetEntries = 512;
}

/// <summary>CONFIG GET of release 7's settings, and CONFIG SET parameter value [parameter value ...].</summary>
internal static partial class Commands
{
    static partial void AddSettings(List<(string Name, string Value)> settings)
    {
        foreach (var name in (string[])["hash-max-listpack-entries", "hash-max-ziplist-entries", "hash-max-listpack-value", "hash-max-ziplist-value", "set-max-intset-entries"])
        {
            settings.Add((name, SettingOf(name).ToString(CultureInfo.InvariantCulture)));
        }
    }

    /// <summary>Whether CONFIG SET knows <paramref name="name"/> as a numeric setting (Redis's old names too).</summary>
    private static bool IsNumericSetting(string name) => name is "hash-max-listpack-entries" or "hash-max-ziplist-entries"
        or "hash-max-listpack-value" or "hash-max-ziplist-value" or "set-max-intset-entries";

    private static long SettingOf(string name) => name switch
    {
        "hash-max-listpack-entries" or "hash-max-ziplist-entries" => Settings.HashMaxListpackEntries,
        "hash-max-listpack-value" or "hash-max-ziplist-value" => Settings.HashMaxListpackValue,
        _ => Settings.SetMaxIntsetEntries,
    };

    /// <summary>
    /// CONFIG SET parameter value [parameter value ...], as Redis 7 does: every pair checked before any is applied (all or
    /// nothing). <c>databases</c> is immutable; kv keeps nothing on disk, so <c>save</c> takes only "" and <c>appendonly</c> only no.
    /// </summary>
    static partial void ConfigSubcommand(Connection c, ref bool done)
    {
        if (!c.Is(1, "SET"))
        {
            return;
        }
        done = true;
        if (!Arity(c, -4, "config|set"))
        {
            return;
        }
        if (c.ArgCount % 2 != 0)
        {
            c.Output.Error(SyntaxError); // A parameter without its value, as Redis answers it.
            return;
        }
        var changes = new List<(string Name, long Value)>();
        var seen = new HashSet<string>();
        for (var i = 2; i < c.ArgCount; i += 2)
        {
            var name = c.Key(i).ToLowerInvariant();
            var canonical = name.Replace("ziplist", "listpack", StringComparison.Ordinal);
            if (!seen.Add(canonical))
            {
                c.Output.Error(SetFailed(name, "duplicate parameter"));
                return;
            }
            var value = c.Arg(i + 1);
            switch (name)
            {
                case "databases":
                    c.Output.Error(SetFailed(name, "can't set immutable config"));
                    return;
                case "save" when value.Length != 0:
                    c.Output.Error(SetFailed(name, "kv keeps no data on disk: save takes only \"\""));
                    return;
                case "appendonly" when !System.Text.Ascii.EqualsIgnoreCase(value, "no"u8):
                    c.Output.Error(SetFailed(name, System.Text.Ascii.EqualsIgnoreCase(value, "yes"u8)
                        ? "kv keeps no data on disk: appendonly takes only no" : "argument must be 'yes' or 'no'"));
                    return;
                case "save" or "appendonly":
                    break;
                default:
                    if (!IsNumericSetting(name))
                    {
                        c.Output.Error($"ERR Unknown option or number of arguments for CONFIG SET - '{Printable(c.Arg(i))}'");
                        return;
                    }
                    if (!Number.TryParseInt64(value, out var number))
                    {
                        c.Output.Error(SetFailed(name, "argument couldn't be parsed into an integer"));
                        return;
                    }
                    if (number < 0)
                    {
                        c.Output.Error(SetFailed(name, "argument must be between 0 and 9223372036854775807 inclusive"));
                        return;
                    }
                    changes.Add((canonical, number));
                    break;
            }
        }
        foreach (var (name, value) in changes)
        {
            switch (name)
            {
                case "hash-max-listpack-entries": Settings.HashMaxListpackEntries = value; break;
                case "hash-max-listpack-value": Settings.HashMaxListpackValue = value; break;
                default: Settings.SetMaxIntsetEntries = value; break;
            }
        }
        c.Output.Ok();
    }

    private static string SetFailed(string name, string why) => $"ERR CONFIG SET failed (possibly related to argument '{name}') - {why}";
}
