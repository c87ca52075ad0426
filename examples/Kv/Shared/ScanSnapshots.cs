namespace Kv;

/// <summary>
/// The SCAN cursors, the same in every release: each release's keyspace (its <c>Store.cs</c>) gives the key names
/// a snapshot holds.
/// </summary>
internal static partial class Store
{
    /// <summary>The key lists that SCAN cursors walk, by cursor id (the cursor's high 32 bits).</summary>
    private static readonly Dictionary<uint, string[]> ScanSnapshots = [];

    private static uint lastScanId;

    /// <summary>
    /// The keys a SCAN cursor walks. Cursor 0 takes a snapshot of the key names; the cursor is its id and a
    /// position in it, so that every key present for the whole scan is returned once, whatever changes meanwhile.
    /// </summary>
    public static string[]? ScanKeys(ulong cursor, out uint id)
    {
        if (cursor == 0)
        {
            id = ++lastScanId == 0 ? ++lastScanId : lastScanId;
            var snapshot = KeyNames();
            ScanSnapshots[id] = snapshot;
            // Scans abandoned half way are forgotten: the 16 most recent are kept.
            ScanSnapshots.Remove(id - 16);
            return snapshot;
        }
        id = (uint)(cursor >> 32);
        return ScanSnapshots.GetValueOrDefault(id);
    }

    /// <summary>Forgets a finished scan.</summary>
    public static void EndScan(uint id) => ScanSnapshots.Remove(id);
}
