using Chat.Demo;
using Xunit.Abstractions;

namespace Molt.Hosting.Tests.Examples;

/// <summary>
/// The chat example end to end, through the demo's own scenario: release 1 of the chat server under the host,
/// real TCP clients talking in rooms, and live updates to releases 2 and 3 while they talk.
/// </summary>
public class ChatExampleTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ChatServer_UpdatedLiveUnderLoad_KeepsEveryConnectionAndEveryMessage()
    {
        var report = await new ChatScenario(new ChatScenarioOptions
        {
            // Generous deadlines: the machine may be loaded; the scenario finishes as soon as each step holds.
            ReplyTimeout = TimeSpan.FromSeconds(20),
            TimeLimit = TimeSpan.FromSeconds(90),
            Log = output.WriteLine,
        }).RunAsync();
        output.WriteLine(report.Summary());

        Assert.True(report.Succeeded, report.Summary());
        Assert.Equal(["v1 -> v2", "v2 -> v3"], report.Updates.Select(u => $"{u.From} -> {u.To}"));
        Assert.All(report.Updates, u => Assert.Equal(UpdateOutcome.Committed, u.Result.Outcome));
        Assert.Empty(report.ClientErrors);
        Assert.All(report.Updates, u => Assert.Equal(0, u.ClientErrors));
        // Connections survive: every client on its original socket, its server unit resumed, answering the new VERSION.
        Assert.All(report.Updates, u => Assert.Equal((report.Clients, report.Clients, report.Clients), (u.ConnectionsKept, u.ConnectionUnitsResumed, u.NewVersionReplies)));
        // History complete: after each update every acknowledged line once, and at the end every line said.
        Assert.All(report.Updates, u => Assert.True(u.History?.Ok, u.History?.ToString()));
        Assert.True(report.FinalHistory?.Ok, report.FinalHistory?.ToString());
        Assert.Equal(report.LinesSent, report.LinesAcknowledged);
        Assert.Equal(report.LinesSent, report.FinalHistory!.Messages);
        Assert.All(report.Updates, u => Assert.True(u.Result.OldVersionUnloaded, string.Join(" ", u.Result.Warnings)));
    }
}
