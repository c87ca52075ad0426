using System.Globalization;

namespace Shop;

/// <summary>
/// The shop's state: its products, its orders and its running totals. A singleton seeded in its constructor; under
/// Molt, its fields carry on across a live update (the constructor does not run again).
/// </summary>
/// <remarks>
/// The stock bug of releases 1 and 2: an order is refused only when the product has no stock at all, not when it has
/// fewer units than ordered, so an order of 5 with 2 on hand is placed and the stock goes to -3. Release 3 fixes it.
/// </remarks>
internal sealed class Catalog
{
    private readonly Lock gate = new();

    /// <summary>Where orders and restocks are published.</summary>
    private readonly Feed feed;

    /// <summary>The products, in id order: product i has id i + 1.</summary>
    private readonly List<Product> products = [];

    /// <summary>The orders, in id order: order i has id i + 1.</summary>
    private readonly List<Order> orders = [];

    /// <summary>The sum of every order's total, in cents.</summary>
    private long revenueCents;

    /// <summary>The units on hand at the opening.</summary>
    private long initialStock;

    /// <summary>The units ordered since the opening.</summary>
    private long unitsSold;

    /// <summary>The units added by restocking since the opening.</summary>
    private long unitsRestocked;

    /// <summary>Opens the shop with its seed products (as many as <see cref="Seed.ProductCount"/> says) and orders.</summary>
    public Catalog(Feed feed, IConfiguration configuration)
    {
        this.feed = feed;
        var productCount = Seed.ProductCount(configuration);
        foreach (var (id, name, category, priceCents, stock) in Seed.Products(productCount))
        {
            products.Add(new Product { Id = id, Name = name, Category = category, PriceCents = priceCents, Stock = stock });
            initialStock += stock;
        }
        var placedAt = Seed.Opening;
        foreach (var (productId, quantity, customer) in Seed.Orders(productCount))
        {
            var product = products[(int)productId - 1];
            if (product.Stock > 0)
            {
                Add(product, Math.Min(quantity, product.Stock), customer, placedAt);
                placedAt = placedAt.AddMinutes(1);
            }
        }
    }

    /// <summary>A page of products, in id order.</summary>
    public object ListProducts(int skip, int take)
    {
        lock (gate)
        {
            return new { total = products.Count, items = products.Skip(skip).Take(take).Select(View).ToList() };
        }
    }

    /// <summary>A product, or null.</summary>
    public object? FindProduct(long id)
    {
        lock (gate)
        {
            return ProductById(id) is { } product ? View(product) : null;
        }
    }

    /// <summary>The page's rows: the first products.</summary>
    public List<ProductRow> Rows(int count)
    {
        lock (gate)
        {
            return [.. products.Take(count).Select(p => new ProductRow(p.Id, p.Name, p.Category, Price(p.PriceCents), p.Stock.ToString(CultureInfo.InvariantCulture)))];
        }
    }

    /// <summary>Places an order at the product's current price (the stock bug: see the class's remarks).</summary>
    public (OrderOutcome Outcome, object? Order) PlaceOrder(long productId, int quantity, string customer)
    {
        lock (gate)
        {
            if (quantity is < 1 or > 1_000_000)
            {
                return (OrderOutcome.BadQuantity, null);
            }
            if (ProductById(productId) is not { } product)
            {
                return (OrderOutcome.UnknownProduct, null);
            }
            if (product.Stock <= 0) // The bug: should be product.Stock < quantity.
            {
                return (OrderOutcome.OutOfStock, null);
            }
            var order = Add(product, quantity, customer, DateTimeOffset.UtcNow);
            feed.Publish("order", $"order #{order.Id}: {quantity} x {product.Name} at {Price(product.PriceCents)} for {customer}, stock now {product.Stock}",
                EventData(product));
            return (OrderOutcome.Placed, View(order));
        }
    }

    /// <summary>The most recent orders first.</summary>
    public object ListOrders(int skip, int take)
    {
        lock (gate)
        {
            return new { total = orders.Count, items = Enumerable.Reverse(orders).Skip(skip).Take(take).Select(View).ToList() };
        }
    }

    /// <summary>An order, or null.</summary>
    public object? FindOrder(long id)
    {
        lock (gate)
        {
            return id >= 1 && id <= orders.Count ? View(orders[(int)id - 1]) : null;
        }
    }

    /// <summary>One turn of the simulator: every fifth turn the product with the least stock gets 20 units, else a buyer orders 1 to 3 units.</summary>
    public void Simulate(long turn)
    {
        lock (gate)
        {
            if (turn % 5 == 0)
            {
                var lowest = products.MinBy(p => p.Stock)!;
                lowest.Stock += 20;
                unitsRestocked += 20;
                feed.Publish("restock", $"restocked {lowest.Name} with 20 units, stock now {lowest.Stock}", EventData(lowest));
                return;
            }
        }
        PlaceOrder(1 + turn * 7_919 % products.Count, 1 + (int)(turn % 3), $"buyer-{turn % 50}");
    }

    /// <summary>The counts and totals, and whether they agree with each other.</summary>
    public object Stats(long feedSequence, long simulatorTurns)
    {
        lock (gate)
        {
            var problem = Inconsistency();
            return new
            {
                version = AppInfo.Version,
                products = products.Count,
                orders = orders.Count,
                initialStock,
                unitsSold,
                unitsRestocked,
                stockOnHand = products.Sum(p => (long)p.Stock),
                productsBelowZero = products.Count(p => p.Stock < 0),
                revenueCents,
                orderTotalCents = orders.Sum(o => o.TotalCents),
                consistent = problem is null,
                problem,
                simulatorTurns,
                feedSequence,
            };
        }
    }

    /// <summary>Why the totals disagree with the products and orders, or null when they agree.</summary>
    private string? Inconsistency()
    {
        var onHand = products.Sum(p => (long)p.Stock);
        if (onHand != initialStock + unitsRestocked - unitsSold)
        {
            return $"stock on hand {onHand} != opening {initialStock} + restocked {unitsRestocked} - sold {unitsSold}";
        }
        var ordered = orders.Sum(o => (long)o.Quantity);
        if (ordered != unitsSold)
        {
            return $"units in orders {ordered} != units sold {unitsSold}";
        }
        var total = orders.Sum(o => o.TotalCents);
        return total != revenueCents ? $"order totals {total} != revenue {revenueCents}" : null;
    }

    private Product? ProductById(long id) => id >= 1 && id <= products.Count ? products[(int)id - 1] : null;

    private Order Add(Product product, int quantity, string customer, DateTimeOffset placedAt)
    {
        var order = new Order
        {
            Id = orders.Count + 1,
            ProductId = product.Id,
            Quantity = quantity,
            TotalCents = quantity * product.PriceCents,
            Customer = customer,
            PlacedAt = placedAt,
        };
        orders.Add(order);
        product.Stock -= quantity;
        unitsSold += quantity;
        revenueCents += order.TotalCents;
        return order;
    }

    private object View(Product p) => new { id = p.Id, name = p.Name, category = p.Category, priceCents = p.PriceCents, stock = p.Stock };

    private object View(Order o) => new
    {
        id = o.Id,
        productId = o.ProductId,
        productName = products[(int)o.ProductId - 1].Name,
        quantity = o.Quantity,
        totalCents = o.TotalCents,
        customer = o.Customer,
        placedAt = o.PlacedAt,
    };

    private static string EventData(Product p) =>
        Feed.ProductData(p.Id, Price(p.PriceCents), p.Stock.ToString(CultureInfo.InvariantCulture));

    /// <summary>A price for people: 1234 cents is "12.34" (release 1 knows no currency).</summary>
    private static string Price(long cents) => (cents / 100m).ToString("0.00", CultureInfo.InvariantCulture);
}
