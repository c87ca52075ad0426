namespace Molt.Hosting.Tests;

/// <summary>What an after-transfer step reads from the old version is complete when the step sees it.</summary>
public class AfterTransferTests
{
    private const string V1 = TestPrograms.Usings + """
        public class Room { public string Name; public List<string> Lines = new(); }
        public static class Program
        {
            public static Dictionary<string, Room> Rooms = new();
            public static async Task Main(string[] args)
            {
                if (!Live.IsUpdating) { foreach (var n in new[] { "a", "b" }) Rooms[n] = new Room { Name = n, Lines = { n + "1", n + "2" } }; }
                await Live.RunAsync();
            }
        }
        """;

    // Release 2 moves the rooms from a static dictionary (gone) into a new structure, in an after-transfer step.
    private const string V2 = TestPrograms.Usings + """
        public class Room { public string Name; public List<string> Lines = new(); }
        public class Lobby { public Dictionary<string, Room> Rooms = new(); public List<string> All = new(); }
        public static class Program
        {
            public static Lobby Lobby = new();
            public static async Task Main(string[] args) { await Live.RunAsync(); }
            [AfterTransfer]
            static void Move(OldVersion old)
            {
                foreach (var room in old.Statics("Program").Get<Dictionary<string, Room>>("Rooms").Values)
                {
                    Lobby.Rooms.Add(room.Name, room);
                    Lobby.All.AddRange(room.Lines);
                }
            }
            public static string Report() => string.Join(",", Lobby.Rooms.Keys.Order()) + " " + string.Join(",", Lobby.All.Order());
        }
        """;

    [Fact]
    public async Task AfterTransferStep_GetsOldCollectionsFilledIn()
    {
        var v1 = TestPrograms.Build("AfterTransfer", "v1", V1);
        var v2 = TestPrograms.Build("AfterTransfer", "v2", V2);
        await using var host = await MoltHost.StartAsync(v1);
        var result = await host.UpdateAsync(v2);
        Assert.True(result.Outcome == UpdateOutcome.Committed, result.ToString());
        Assert.Equal("a,b a1,a2,b1,b2", ProgramState.Call(host, "Program", "Report"));
    }
}
