namespace Kv;

/// <summary>The command table of release 2: TYPE, and the commands of lists and hashes.</summary>
internal static partial class Commands
{
    /// <summary>Executes a command that release 2 has and release 1 had not; false when it knows no such command.</summary>
    private static bool ExecuteAddedCommand(Connection c, ReadOnlySpan<char> name, long now)
    {
        switch (name)
        {
            case "TYPE": if (Arity(c, 2, "type")) c.Output.Simple(Store.Find(c.Key(1), now)?.Value.TypeName ?? "none"); break;
            default:
                return ExecuteListOrHashCommand(c, name, now);
        }
        return true;
    }
}
