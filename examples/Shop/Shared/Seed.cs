namespace Shop;

/// <summary>
/// The shop's opening stock and order book, the same at every start (a fixed generator, no <see cref="Random"/>), so
/// that two runs of a release, and the three releases, start from the same data.
/// </summary>
internal static class Seed
{
    /// <summary>How many products the shop opens with (ids 1 to this).</summary>
    public const int ProductCount = 2_000;

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

    /// <summary>The opening products, by id: name, category, price in cents (1.99 to 499.99), stock (0 to 40).</summary>
    public static IEnumerable<(long Id, string Name, string Category, long PriceCents, int Stock)> Products()
    {
        var next = new Generator(20261130);
        for (long id = 1; id <= ProductCount; id++)
        {
            var name = $"{Adjectives[next.Below(Adjectives.Length)]} {Things[next.Below(Things.Length)]} {id}";
            yield return (id, name, Categories[next.Below(Categories.Length)], 199 + next.Below(49_801), next.Below(41));
        }
    }

    /// <summary>The opening orders: product, quantity (1 to 3), customer.</summary>
    public static IEnumerable<(long ProductId, int Quantity, string Customer)> Orders()
    {
        var next = new Generator(7);
        for (var i = 0; i < OrderCount; i++)
        {
            yield return (1 + next.Below(ProductCount), 1 + next.Below(3), $"customer-{next.Below(300)}");
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
