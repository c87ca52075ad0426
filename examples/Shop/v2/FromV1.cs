using Molt;

namespace Shop;

/// <summary>
/// The live update from release 1, whose shapes were: <c>Product { long PriceCents; int Stock; }</c>,
/// <c>Order { long TotalCents; }</c>, <c>Catalog { List&lt;Product&gt; products; List&lt;Order&gt; orders; long revenueCents; }</c>.
/// Every transformer leaves alone an object that already has this release's shape (a rollback from release 3).
/// </summary>
/// <remarks>
/// An after-transfer step and a state check are static and are handed no singleton: the catalogue's own type transformer
/// is where the catalogue is seen, so it keeps it (in <see cref="reshaped"/>) for them.
/// </remarks>
internal sealed partial class Catalog
{
    /// <summary>The catalogues this update reshaped, with release 1's lists (of this release's objects) to index once every object is filled in.</summary>
    [NotMigrated]
    private static readonly List<(Catalog Catalog, List<Product> Products, List<Order> Orders)> reshaped = [];

    /// <summary>A product's price in cents becomes <see cref="Money"/>, and its stock a <see cref="StockLevel"/> of its own.</summary>
    [TransformType("Shop.Product")]
    private static void SplitProduct(OldObject old, Product target)
    {
        if (old.Has("PriceCents"))
        {
            target.Price = Money.FromCents(old.Get<long>("PriceCents"));
            target.Stock = new StockLevel { OnHand = old.Get<int>("Stock") };
        }
    }

    /// <summary>An order's total in cents becomes <see cref="Money"/>.</summary>
    [TransformField(typeof(Order), nameof(Order.Total))]
    private static Money OrderTotal(OldObject old) =>
        old.Has("TotalCents") ? Money.FromCents(old.Get<long>("TotalCents")) : old.Get<Money>("Total");

    /// <summary>
    /// The revenue in cents becomes <see cref="Money"/>; the lists are kept for <see cref="IndexById"/>: their products
    /// and orders may not be filled in yet while the transfer runs, and the dictionaries need their ids.
    /// </summary>
    [TransformType("Shop.Catalog")]
    private static void ReshapeCatalog(OldObject old, Catalog target)
    {
        if (old.Has("unitsReturned") && old.Get<long>("unitsReturned") > 0)
        {
            // Release 3's cancelled orders gave units back: this release has no place for returns (its stock would not add
            // up, and its revenue would count the cancelled orders). Refused (by the check's trial transfer already, else at
            // transfer), rather than commit a catalogue that contradicts itself.
            throw new InvalidOperationException(
                $"{old.Get<long>("unitsReturned")} units were returned by cancelled orders, which release 2 cannot represent: stay on release 3");
        }
        if (old.Has("products"))
        {
            target.revenue = Money.FromCents(old.Get<long>("revenueCents"));
            reshaped.Add((target, old.Get<List<Product>>("products"), old.Get<List<Order>>("orders")));
        }
    }

    /// <summary>Release 1's lists become dictionaries by id.</summary>
    [AfterTransfer]
    private static void IndexById(OldVersion old)
    {
        foreach (var (catalog, products, orders) in reshaped)
        {
            foreach (var product in products)
            {
                catalog.productsById.Add(product.Id, product);
            }
            foreach (var order in orders)
            {
                catalog.ordersById.Add(order.Id, order);
            }
        }
    }

    /// <summary>Every product and order of release 1 is in the dictionaries under its id, and the totals agree (<see cref="Inconsistency"/>).</summary>
    [StateCheck(Description = "every product and order of release 1 is indexed by its id, and stock and revenue agree with them")]
    private static void ReshapedCatalogsAgree()
    {
        foreach (var (catalog, products, orders) in reshaped)
        {
            if (catalog.productsById.Count != products.Count || catalog.ordersById.Count != orders.Count)
            {
                throw new InvalidOperationException(
                    $"{catalog.productsById.Count} of {products.Count} products and {catalog.ordersById.Count} of {orders.Count} orders indexed");
            }
            if (catalog.Inconsistency() is { } problem)
            {
                throw new InvalidOperationException(problem);
            }
        }
        reshaped.Clear(); // Checked: nothing to hold on to (and nothing for the next update to drop).
    }
}
