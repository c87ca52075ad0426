namespace Kv;

/// <summary>The command table of release 1: the commands every release has (<see cref="Execute"/>), and no other.</summary>
internal static partial class Commands
{
    /// <summary>Release 1 has only the commands every release has: false.</summary>
    private static bool ExecuteAddedCommand(Connection c, ReadOnlySpan<char> name, long now) => false;
}
