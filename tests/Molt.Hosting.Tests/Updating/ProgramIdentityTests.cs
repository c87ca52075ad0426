using static Molt.Hosting.Tests.Transfer.TransferTestKit;

namespace Molt.Hosting.Tests.Updating;

/// <summary>
/// An update moves a program to a version of itself: a path to another program is refused before any pause, in words
/// that say so; a program renamed between versions says so in its assembly metadata, and then updates (and rolls back).
/// </summary>
public class ProgramIdentityTests
{
    private const string Source = """
        public static partial class Program
        {
            public static int Count;
            static void Init() => Count = 42;
            public static string Report() => $"{typeof(Program).Assembly.GetName().Name} {Count}";
        }
        """;

    [Fact]
    public async Task Update_ToAnotherProgram_IsRefused_AndTheRunningOneServesOn()
    {
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("IdentityKv", "v1", Program(Source)));
        var other = TestPrograms.Build("IdentityChat", "v1", Program(Source));

        var check = await host.CheckAsync(other);
        var result = await host.UpdateAsync(other);

        Assert.False(check.Compatible);
        Assert.Equal(UpdateOutcome.Refused, result.Outcome);
        Assert.Contains("is the program IdentityChat, not IdentityKv: an update moves a program to a version of itself", result.Failure!.Message, StringComparison.Ordinal);
        Assert.Contains("<AssemblyMetadata Include=\"Molt.RenamedFrom\" Value=\"IdentityKv\" />", result.Failure.Message, StringComparison.Ordinal);
        Assert.Contains(check.Lines, l => l.Contains("is the program IdentityChat, not IdentityKv", StringComparison.Ordinal));
        Assert.Equal(0, host.Version.Generation);
        Assert.Equal("IdentityKv 42", Report(host));
    }

    [Fact]
    public async Task Update_ToTheProgramRenamed_SaidInItsMetadata_CommitsAndRollsBack()
    {
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("IdentityOld", "v1", Program(Source)));
        var renamed = TestPrograms.Build("IdentityNew", "v2",
            Program("[assembly: System.Reflection.AssemblyMetadata(\"Molt.RenamedFrom\", \"IdentityOld\")]\n" + Source));

        var result = await host.UpdateAsync(renamed);

        Assert.True(result.Outcome == UpdateOutcome.Committed, result.ToString());
        Assert.Equal("IdentityNew 42", Report(host));
        var back = await host.RollbackAsync();
        Assert.True(back.Outcome == UpdateOutcome.Committed, back.ToString());
        Assert.Equal("IdentityOld 42", Report(host));
    }
}
