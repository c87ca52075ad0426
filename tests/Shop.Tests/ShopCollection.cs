namespace Shop.Tests;

/// <summary>
/// The shop tests run one at a time: each runs the shop under <c>molt run</c> with load or a browser beside it, which
/// keeps the machine's two cores busy (the bounded waits of the checks must not starve).
/// </summary>
[CollectionDefinition(Name)]
public sealed class ShopCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "shop processes";
}
