namespace Kv;

/// <summary>The command table of release 5: TYPE, OBJECT, and the commands of lists, hashes and sets.</summary>
internal static partial class Commands
{
    /// <summary>Executes a command that release 5 has and release 1 had not; false when it knows no such command.</summary>
    private static bool ExecuteAddedCommand(Connection c, ReadOnlySpan<char> name, long now)
    {
        switch (name)
        {
            case "TYPE": if (Arity(c, 2, "type")) c.Output.Simple(Store.Peek(c.Key(1), now)?.Value.TypeName ?? "none"); break;
            case "OBJECT": if (Arity(c, -2, "object")) ObjectInfo(c, now); break;
            default:
                return ExecuteListOrHashCommand(c, name, now) || ExecuteSetCommand(c, name, now);
        }
        return true;
    }
}
