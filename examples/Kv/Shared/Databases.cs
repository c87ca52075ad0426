namespace Kv;

/// <summary>
/// The keyspace's databases as the code every release shares sees them (SELECT, FLUSHALL, INFO, the command loop, the
/// blocked clients and the watches). A release of one database (1 to 6) implements none of the partial methods below: it
/// has database 0 only, and every call here is database 0's. A release of several (7) implements them over its store.
/// </summary>
internal static partial class Databases
{
    /// <summary>How many databases there are: SELECT takes 0 to this less one.</summary>
    public static int Count
    {
        get
        {
            var count = 1;
            CountDatabases(ref count);
            return count;
        }
    }

    /// <summary>The number of the database commands read and write.</summary>
    public static int Selected
    {
        get
        {
            var index = 0;
            SelectedDatabase(ref index);
            return index;
        }
    }

    /// <summary>Makes database <paramref name="index"/> the one commands read and write (before each command, its connection's).</summary>
    public static void Select(int index) => SelectDatabase(index);

    /// <summary>
    /// A key as the blocked clients and the watches know it, which key on (database, key): the key itself in database 0 (so
    /// that the releases of one database, and their state, know keys as before), else prefixed by one char past Latin-1,
    /// which no key has (keys are Latin-1).
    /// </summary>
    public static string Qualified(int index, string key) => index == 0 ? key : (char)(0x100 + index) + key;

    /// <summary>The database and key of a <see cref="Qualified"/> key.</summary>
    public static (int Index, string Key) Unqualified(string qualified) =>
        qualified.Length > 0 && qualified[0] > 0xFF ? (qualified[0] - 0x100, qualified[1..]) : (0, qualified);

    static partial void CountDatabases(ref int count);

    static partial void SelectedDatabase(ref int index);

    static partial void SelectDatabase(int index);
}
