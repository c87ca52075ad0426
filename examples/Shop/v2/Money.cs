using System.Globalization;

namespace Shop;

/// <summary>An amount of money in a currency (release 2 on; release 1 kept prices as a number of cents).</summary>
internal sealed record Money(decimal Amount, string Currency)
{
    /// <summary>The shop's currency: release 1's cents were euro cents.</summary>
    public const string ShopCurrency = "EUR";

    /// <summary>Nothing, in the shop's currency.</summary>
    public static Money Zero => new(0m, ShopCurrency);

    /// <summary>An amount in cents of the shop's currency.</summary>
    public static Money FromCents(long cents) => new(cents * 0.01m, ShopCurrency); // Two decimals always: 2390 cents is 23.90.

    /// <summary>This amount, <paramref name="quantity"/> times.</summary>
    public Money Times(int quantity) => this with { Amount = Amount * quantity };

    /// <summary>The sum of two amounts in one currency.</summary>
    /// <exception cref="InvalidOperationException">The currencies differ.</exception>
    public static Money operator +(Money a, Money b) =>
        a.Currency == b.Currency ? a with { Amount = a.Amount + b.Amount } : throw new InvalidOperationException($"{a.Currency} + {b.Currency}");

    /// <summary>The difference of two amounts in one currency.</summary>
    /// <exception cref="InvalidOperationException">The currencies differ.</exception>
    public static Money operator -(Money a, Money b) =>
        a.Currency == b.Currency ? a with { Amount = a.Amount - b.Amount } : throw new InvalidOperationException($"{a.Currency} - {b.Currency}");

    /// <summary>For people: "12.34 EUR".</summary>
    public override string ToString() => Amount.ToString("0.00", CultureInfo.InvariantCulture) + " " + Currency;
}
