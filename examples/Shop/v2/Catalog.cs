using System.Globalization;

namespace Shop;

/// <summary>
/// The shop's state: its products and orders by id, and its running totals. A singleton seeded in its constructor;
/// under Molt, its fields carry on across a live update (the constructor does not run again). Release 1 kept the
/// products and orders in lists and the revenue in cents: <c>FromV1.cs</c> reshapes them.
/// </summary>
/// <remarks>
/// The stock bug of releases 1 and 2: an order is refused only when the product has no stock at all, not when it has
/// fewer units than ordered, so an order of 5 with 2 on hand is placed and the stock goes to -3. Release 3 fixes it.
/// </remarks>
internal sealed partial class Catalog
{
    private readonly Lock gate = new();

    /// <summary>Where orders and restocks are published.</summary>
    private readonly Feed feed;

    /// <summary>The products by id (ids 1 to the count).</summary>
    private readonly Dictionary<long, Product> productsById = new();

    /// <summary>The orders by id (ids 1 to the count: none is ever removed).</summary>
    private readonly Dictionary<long, Order> ordersById = new();

    /// <summary>The sum of every order's total.</summary>
    private Money revenue = Money.Zero;

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
            productsById.Add(id, new Product
            {
                Id = id,
                Name = name,
                Category = category,
                Price = Money.FromCents(priceCents),
                Stock = new StockLevel { OnHand = stock },
            });
            initialStock += stock;
        }
        var placedAt = Seed.Opening;
        foreach (var (productId, quantity, customer) in Seed.Orders(productCount))
        {
            var product = productsById[productId];
            if (product.Stock.OnHand > 0)
            {
                Add(product, Math.Min(quantity, product.Stock.OnHand), customer, placedAt);
                placedAt = placedAt.AddMinutes(1);
            }
        }
    }

    /// <summary>A page of products, in id order.</summary>
    public object ListProducts(int skip, int take)
    {
        lock (gate)
        {
            return new { total = productsById.Count, items = Ids(productsById.Count, skip, take).Select(id => View(productsById[id])).ToList() };
        }
    }

    /// <summary>A product, or null.</summary>
    public object? FindProduct(long id)
    {
        lock (gate)
        {
            return productsById.TryGetValue(id, out var product) ? View(product) : null;
        }
    }

    /// <summary>The page's rows: the first products.</summary>
    public List<ProductRow> Rows(int count)
    {
        lock (gate)
        {
            return [.. Ids(productsById.Count, 0, count).Select(id => productsById[id])
                .Select(p => new ProductRow(p.Id, p.Name, p.Category, p.Price.ToString(), p.Stock.OnHand.ToString(CultureInfo.InvariantCulture)))];
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
            if (!productsById.TryGetValue(productId, out var product))
            {
                return (OrderOutcome.UnknownProduct, null);
            }
            if (product.Stock.OnHand <= 0) // The bug: should be product.Stock.OnHand < quantity.
            {
                return (OrderOutcome.OutOfStock, null);
            }
            var order = Add(product, quantity, customer, DateTimeOffset.UtcNow);
            feed.Publish("order", $"order #{order.Id}: {quantity} x {product.Name} at {product.Price} for {customer}, stock now {product.Stock.OnHand}",
                EventData(product));
            return (OrderOutcome.Placed, View(order));
        }
    }

    /// <summary>The most recent orders first.</summary>
    public object ListOrders(int skip, int take)
    {
        lock (gate)
        {
            var newest = ordersById.Count;
            var ids = Ids(newest, skip, take).Select(i => newest + 1 - i);
            return new { total = ordersById.Count, items = ids.Select(id => View(ordersById[id])).ToList() };
        }
    }

    /// <summary>An order, or null.</summary>
    public object? FindOrder(long id)
    {
        lock (gate)
        {
            return ordersById.TryGetValue(id, out var order) ? View(order) : null;
        }
    }

    /// <summary>One turn of the simulator: every fifth turn the product with the least stock gets 20 units, else a buyer orders 1 to 3 units.</summary>
    public void Simulate(long turn)
    {
        lock (gate)
        {
            if (turn % 5 == 0)
            {
                var lowest = productsById.Values.MinBy(p => p.Stock.OnHand)!;
                lowest.Stock.OnHand += 20;
                lowest.Stock.Restocks++;
                lowest.Stock.LastRestocked = DateTimeOffset.UtcNow;
                unitsRestocked += 20;
                feed.Publish("restock", $"restocked {lowest.Name} with 20 units, stock now {lowest.Stock.OnHand} (restock {lowest.Stock.Restocks})",
                    EventData(lowest));
                return;
            }
        }
        PlaceOrder(1 + turn * 7_919 % productsById.Count, 1 + (int)(turn % 3), $"buyer-{turn % 50}");
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
                products = productsById.Count,
                orders = ordersById.Count,
                initialStock,
                unitsSold,
                unitsRestocked,
                stockOnHand = productsById.Values.Sum(p => (long)p.Stock.OnHand),
                productsBelowZero = productsById.Values.Count(p => p.Stock.OnHand < 0),
                revenue,
                orderTotal = OrderTotal(),
                consistent = problem is null,
                problem,
                simulatorTurns,
                feedSequence,
            };
        }
    }

    /// <summary>Why the totals disagree with the products and orders, or null when they agree (also the update's state check).</summary>
    private string? Inconsistency()
    {
        for (long id = 1; id <= productsById.Count; id++)
        {
            if (!productsById.TryGetValue(id, out var product) || product.Id != id)
            {
                return $"no product {id} (or under another id) among {productsById.Count}";
            }
        }
        for (long id = 1; id <= ordersById.Count; id++)
        {
            if (!ordersById.TryGetValue(id, out var order) || order.Id != id || !productsById.ContainsKey(order.ProductId))
            {
                return $"order {id} is missing, under another id or of an unknown product";
            }
        }
        var onHand = productsById.Values.Sum(p => (long)p.Stock.OnHand);
        if (onHand != initialStock + unitsRestocked - unitsSold)
        {
            return $"stock on hand {onHand} != opening {initialStock} + restocked {unitsRestocked} - sold {unitsSold}";
        }
        var ordered = ordersById.Values.Sum(o => (long)o.Quantity);
        if (ordered != unitsSold)
        {
            return $"units in orders {ordered} != units sold {unitsSold}";
        }
        var total = OrderTotal();
        return total != revenue ? $"order totals {total} != revenue {revenue}" : null;
    }

    private Money OrderTotal() => ordersById.Values.Aggregate(Money.Zero, (sum, o) => sum + o.Total);

    /// <summary>Ids from 1 to <paramref name="count"/>, a page of them.</summary>
    private static IEnumerable<long> Ids(int count, int skip, int take)
    {
        for (long id = skip + 1L; id <= count && id <= skip + (long)take; id++)
        {
            yield return id;
        }
    }

    private Order Add(Product product, int quantity, string customer, DateTimeOffset placedAt)
    {
        var order = new Order
        {
            Id = ordersById.Count + 1,
            ProductId = product.Id,
            Quantity = quantity,
            Total = product.Price.Times(quantity),
            Customer = customer,
            PlacedAt = placedAt,
        };
        ordersById.Add(order.Id, order);
        product.Stock.OnHand -= quantity;
        unitsSold += quantity;
        revenue += order.Total;
        return order;
    }

    private static object View(Product p) => new
    {
        id = p.Id,
        name = p.Name,
        category = p.Category,
        price = p.Price,
        stock = new { onHand = p.Stock.OnHand, restocks = p.Stock.Restocks, lastRestocked = p.Stock.LastRestocked },
    };

    private object View(Order o) => new
    {
        id = o.Id,
        productId = o.ProductId,
        productName = productsById[o.ProductId].Name,
        quantity = o.Quantity,
        total = o.Total,
        customer = o.Customer,
        placedAt = o.PlacedAt,
    };

    private static string EventData(Product p) =>
        Feed.ProductData(p.Id, p.Price.ToString(), p.Stock.OnHand.ToString(CultureInfo.InvariantCulture));
}
