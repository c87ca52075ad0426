namespace Kv.Tests;

/// <summary>
/// The kv tests run one at a time: each starts a server and a client that keep a core busy, and the machine
/// has two (the clients' checks have bounded waits, so they must not starve).
/// </summary>
[CollectionDefinition(Name)]
public sealed class KvCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "kv processes";
}
