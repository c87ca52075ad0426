namespace Shop;

/// <summary>A product: its price in cents, its stock on hand.</summary>
internal sealed class Product
{
    /// <summary>Its id, from 1.</summary>
    public long Id;

    /// <summary>Its name.</summary>
    public string Name = "";

    /// <summary>Its category.</summary>
    public string Category = "";

    /// <summary>Its price, in cents.</summary>
    public long PriceCents;

    /// <summary>The units on hand (negative when the stock bug oversold it).</summary>
    public int Stock;
}

/// <summary>An order of one product.</summary>
internal sealed class Order
{
    /// <summary>Its id, from 1.</summary>
    public long Id;

    /// <summary>The product ordered.</summary>
    public long ProductId;

    /// <summary>How many units.</summary>
    public int Quantity;

    /// <summary>What it cost, in cents: the quantity at the product's price when it was placed.</summary>
    public long TotalCents;

    /// <summary>Who placed it.</summary>
    public string Customer = "";

    /// <summary>When it was placed.</summary>
    public DateTimeOffset PlacedAt;
}

/// <summary>The body of <c>POST /api/orders</c>.</summary>
internal sealed record OrderRequest(long ProductId, int Quantity, string? Customer);

/// <summary>What placing an order came to.</summary>
internal enum OrderOutcome
{
    /// <summary>Placed.</summary>
    Placed,

    /// <summary>No product has that id.</summary>
    UnknownProduct,

    /// <summary>The quantity is not between 1 and 1,000,000.</summary>
    BadQuantity,

    /// <summary>The product has no stock.</summary>
    OutOfStock,
}
