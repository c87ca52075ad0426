namespace Kv;

/// <summary>
/// The command table of release 6: v5's (TYPE, OBJECT, lists, hashes, sets) and the rest of the commands of each type
/// it serves: strings, lists, hashes, sets and keys.
/// </summary>
internal static partial class Commands
{
    /// <summary>Executes a command that release 6 has and release 1 had not; false when it knows no such command.</summary>
    private static bool ExecuteAddedCommand(Connection c, ReadOnlySpan<char> name, long now)
    {
        switch (name)
        {
            case "TYPE": if (Arity(c, 2, "type")) c.Output.Simple(Store.Peek(c.Key(1), now)?.Value.TypeName ?? "none"); break;
            case "OBJECT": if (Arity(c, -2, "object")) ObjectInfo(c, now); break;
            default:
                return ExecuteListOrHashCommand(c, name, now) || ExecuteSetCommand(c, name, now)
                    || ExecuteMoreStringCommand(c, name, now) || ExecuteMoreListCommand(c, name, now)
                    || ExecuteMoreHashCommand(c, name, now) || ExecuteMoreSetCommand(c, name, now)
                    || ExecuteMoreKeyCommand(c, name, now);
        }
        return true;
    }
}
