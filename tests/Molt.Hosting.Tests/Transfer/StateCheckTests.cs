using static Molt.Hosting.Tests.Transfer.TransferTestKit;

namespace Molt.Hosting.Tests.Transfer;

/// <summary>[StateCheck] methods of the new version guard the migrated state: a failed check rolls the update back.</summary>
public class StateCheckTests
{
    private const string V1 = """
        public class Account { public string Id; public decimal Balance; }
        public static partial class Program
        {
            public static List<Account> Accounts = new();
            static void Init() { Accounts.Add(new Account { Id = "a", Balance = 10m }); Accounts.Add(new Account { Id = "b", Balance = -5m }); }
            public static string Report() => "v1 " + string.Join(",", Accounts.Select(a => $"{a.Id}={a.Balance}"));
        }
        """;

    private static string V2(string check) => """
        public class Account { public string Id; public decimal Balance; }
        public static partial class Program
        {
            public static List<Account> Accounts = new();
            static void Init() { }
            public static string Report() => "v2 " + string.Join(",", Accounts.Select(a => $"{a.Id}={a.Balance}"));
        """ + check + "\n}\n";

    [Fact]
    public async Task Update_StateCheckReturnsFalse_RollsBackAndOldVersionGoesOn()
    {
        var v2 = V2("""
            [StateCheck(Description = "no negative balances")]
            static bool NoNegativeBalances() => Accounts.All(a => a.Balance >= 0);
            """);
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("SC_False", "v1", Program(V1, ticker: true)));
        var before = Report(host);

        var result = await host.UpdateAsync(TestPrograms.Build("SC_False", "v2", Program(v2, ticker: true)));

        var failure = AssertRolledBack(host, result, UpdatePhase.StateCheck);
        Assert.Contains("no negative balances", failure.Message, StringComparison.Ordinal);
        Assert.Equal("v1 a=10,b=-5", before);
        Assert.Equal(before, Report(host));
        await AssertStillTicking(host);
        Assert.Contains(host.Units, u => u.Name == "ticker" && u.ResumedFrom is null);
    }

    [Fact]
    public async Task Update_StateCheckThrows_RollsBackWithItsMessage()
    {
        var v2 = V2("""
            [StateCheck]
            static void AccountsHaveUniqueIds()
            {
                if (Accounts.Select(a => a.Id).Distinct().Count() != 3) throw new InvalidOperationException("expected 3 distinct accounts");
            }
            """);
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("SC_Throws", "v1", Program(V1)));
        var before = Report(host);

        var result = await host.UpdateAsync(TestPrograms.Build("SC_Throws", "v2", Program(v2)));

        var failure = AssertRolledBack(host, result, UpdatePhase.StateCheck);
        Assert.Contains("AccountsHaveUniqueIds", failure.Message, StringComparison.Ordinal);
        Assert.Contains("expected 3 distinct accounts", failure.Message, StringComparison.Ordinal);
        Assert.Equal(before, Report(host));
    }

    [Fact]
    public async Task Update_StateChecksPass_Commits()
    {
        var v2 = V2("""
            [StateCheck] static bool HasAccounts() => Accounts.Count == 2;
            [StateCheck] static void IdsSet() { if (Accounts.Any(a => a.Id == null)) throw new InvalidOperationException("id"); }
            """);
        var (host, result) = await StartAndUpdate("SC_Pass", Program(V1), Program(v2));
        await using var _ = host;
        AssertCommitted(result);
        Assert.Equal("v2 a=10,b=-5", Report(host));
    }

    [Fact]
    public async Task Update_StateCheckFailsAfterTransformers_OldObjectsUntouched()
    {
        // The transformer's work happened on new objects only: after the rollback the old ones are as they were.
        var v2 = """
            public class Account { public string Id; public decimal Balance; public bool Overdrawn; }
            public static partial class Program
            {
                public static List<Account> Accounts = new();
                static void Init() { }
                [TransformType("Account")]
                static void Clamp(OldObject old, Account a) { a.Overdrawn = a.Balance < 0; a.Balance = Math.Max(0, a.Balance); }
                [StateCheck] static bool NoneOverdrawn() => !Accounts.Any(a => a.Overdrawn);
            }
            """;
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("SC_Untouched", "v1", Program(V1)));
        var before = Report(host);

        var result = await host.UpdateAsync(TestPrograms.Build("SC_Untouched", "v2", Program(v2)));

        AssertRolledBack(host, result, UpdatePhase.StateCheck);
        Assert.Equal("v1 a=10,b=-5", before);
        Assert.Equal(before, Report(host));
    }
}
