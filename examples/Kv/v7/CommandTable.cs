namespace Kv;

/// <summary>
/// The command table of release 7: v6's, and the commands between databases: MOVE and SWAPDB (SELECT, FLUSHDB, FLUSHALL,
/// DBSIZE, INFO keyspace are every release's, over <see cref="Databases"/>).
/// </summary>
internal static partial class Commands
{
    /// <summary>Executes a command that release 7 has and release 1 had not; false when it knows no such command.</summary>
    private static bool ExecuteAddedCommand(Connection c, ReadOnlySpan<char> name, long now)
    {
        switch (name)
        {
            case "TYPE": if (Arity(c, 2, "type")) c.Output.Simple(Store.Peek(c.Key(1), now)?.Value.TypeName ?? "none"); break;
            case "OBJECT": if (Arity(c, -2, "object")) ObjectInfo(c, now); break;
            case "MOVE": if (Arity(c, 3, "move")) Move(c, now); break;
            case "SWAPDB": if (Arity(c, 3, "swapdb")) SwapDb(c, now); break;
            default:
                return ExecuteListOrHashCommand(c, name, now) || ExecuteSetCommand(c, name, now)
                    || ExecuteMoreStringCommand(c, name, now) || ExecuteMoreListCommand(c, name, now)
                    || ExecuteMoreHashCommand(c, name, now) || ExecuteMoreSetCommand(c, name, now)
                    || ExecuteMoreKeyCommand(c, name, now);
        }
        return true;
    }
}
