using System.Globalization;

namespace Shop;

/// <summary>
/// The shop's opening stock and order book, the same at every start (a fixed generator, no <see cref="Random"/>), so
/// that two runs of a release, and the three releases, start from the same data.
/// </summary>
internal static class Seed
{
    /// <summary>How many products the shop opens with (ids 1 to this) unless configured otherwise.</summary>
    public const int DefaultProductCount = 2_000;

    /// <summary>How many orders the shop opens with (ids 1 to this).</summary>
    public const int OrderCount = 1_000;

    /// <summary>When the seeded orders were placed: one a minute from this moment.</summary>
    public static DateTimeOffset Opening => new(2026, 11, 1, 9, 0, 0, TimeSpan.Zero);

    private static readonly string[] Adjectives =
        ["Walnut", "Copper", "Linen", "Granite", "Cobalt", "Amber", "Birch", "Slate", "Coral", "Ivory", "Indigo", "Olive"];

    private static readonly string[] Things =
        ["Lamp", "Chair", "Kettle", "Notebook", "Backpack", "Clock", "Mug", "Blanket", "Speaker", "Planter", "Desk", "Scarf",
         "Teapot", "Stool", "Shelf", "Candle"];

    private static readonly string[] Categories = ["home", "kitchen", "office", "outdoor", "audio", "textiles", "garden", "lighting"];

    /// <summary>
    /// How many products the shop opens with: the setting <c>products</c> (<c>--products 20000</c> on the command line,
    /// or the environment variable <c>SHOP_PRODUCTS</c>), else <see cref="DefaultProductCount"/>. Read once, by the
    /// catalogue's constructor: a live update carries the catalogue, whatever the new version is started with.
    /// </summary>
    public static int ProductCount(IConfiguration configuration)
    {
        var setting = configuration["products"] ?? configuration["SHOP_PRODUCTS"];
        if (setting is null)
        {
            return DefaultProductCount;
        }
        return int.TryParse(setting, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count is >= 1 and <= 10_000_000
            ? count
            : throw new InvalidOperationException($"products (--products or SHOP_PRODUCTS) must be a whole number from 1 to 10000000, not '{setting}'");
    }

    /// <summary>The opening products, by id 1 to <paramref name="count"/>: name, category, price in cents (1.99 to 499.99), stock (0 to 40).</summary>
    public static IEnumerable<(long Id, string Name, string Category, long PriceCents, int Stock)> Products(int count)
    {
        var next = new Generator(20261130);
        for (long id = 1; id <= count; id++)
        {
            var name = $"{Adjectives[next.Below(Adjectives.Length)]} {Things[next.Below(Things.Length)]} {id}";
            yield return (id, name, Categories[next.Below(Categories.Length)], 199 + next.Below(49_801), next.Below(41));
        }
    }

    /// <summary>The opening orders, of products 1 to <paramref name="productCount"/>: product, quantity (1 to 3), customer.</summary>
    public static IEnumerable<(long ProductId, int Quantity, string Customer)> Orders(int productCount)
    {
        var next = new Generator(7);
        for (var i = 0; i < OrderCount; i++)
        {
            yield return (1 + next.Below(productCount), 1 + next.Below(3), $"customer-{next.Below(300)}");
        }
    }

    /// <summary>xorshift64: a generator whose sequence no runtime update can change.</summary>
    private struct Generator(ulong seed)
    {
        private ulong state = seed;

        public int Below(int bound)
        {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            return (int)(state % (ulong)bound);
        }
    }
}
