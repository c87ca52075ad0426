namespace Shop;

/// <summary>A product: its price as money; its stock is a <see cref="StockLevel"/> of its own (release 1 kept it in the product).</summary>
internal sealed class Product
{
    /// <summary>Its id, from 1.</summary>
    public long Id;

    /// <summary>Its name.</summary>
    public string Name = "";

    /// <summary>Its category.</summary>
    public string Category = "";

    /// <summary>Its price (release 1: <c>long PriceCents</c>).</summary>
    public Money Price = Money.Zero;

    /// <summary>Its stock (release 1: <c>int Stock</c>, the units on hand).</summary>
    public StockLevel Stock = new();
}

/// <summary>A product's stock: what release 1 knew (the units on hand) and its restocking.</summary>
internal sealed class StockLevel
{
    /// <summary>The units on hand (negative when the stock bug oversold it).</summary>
    public int OnHand;

    /// <summary>How many times it was restocked since release 2 came.</summary>
    public int Restocks;

    /// <summary>When it was last restocked, if it was since release 2 came.</summary>
    public DateTimeOffset? LastRestocked;
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

    /// <summary>What it cost: the quantity at the product's price when it was placed (release 1: <c>long TotalCents</c>).</summary>
    public Money Total = Money.Zero;

    /// <summary>Who placed it.</summary>
    public string Customer = "";

    /// <summary>When it was placed.</summary>
    public DateTimeOffset PlacedAt;

    /// <summary>When it was cancelled, or null (release 3 on: an order of an earlier release crosses as not cancelled).</summary>
    public DateTimeOffset? CancelledAt;
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

    /// <summary>The product has fewer units on hand than ordered (releases 1 and 2 checked only for none).</summary>
    NotEnoughStock,
}

/// <summary>What cancelling an order came to.</summary>
internal enum CancelOutcome
{
    /// <summary>Cancelled: its units are back in stock and its total out of the revenue.</summary>
    Cancelled,

    /// <summary>No order has that id.</summary>
    UnknownOrder,

    /// <summary>It was cancelled before.</summary>
    AlreadyCancelled,
}
