namespace Chat.Demo;

/// <summary>How the chat scenario runs: how many clients, how fast, for how long, and where the releases are.</summary>
public sealed record ChatScenarioOptions
{
    /// <summary>Talking clients, each on its own TCP connection.</summary>
    public int Clients { get; init; } = 20;

    /// <summary>Rooms the clients are spread over.</summary>
    public int Rooms { get; init; } = 4;

    /// <summary>Lines each client must have acknowledged in each version before the scenario moves on.</summary>
    public int LinesPerStep { get; init; } = 25;

    /// <summary>The most lines a client says, whatever happens.</summary>
    public int MaxLinesPerClient { get; init; } = 3000;

    /// <summary>The pause of each client between two lines.</summary>
    public TimeSpan LineInterval { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>How long a client waits for any reply before it counts an error.</summary>
    public TimeSpan ReplyTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>The whole scenario's deadline.</summary>
    public TimeSpan TimeLimit { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The folder with one subfolder per release (v1, v2, v3), each holding its Chat.dll.</summary>
    public string ReleasesFolder { get; init; } = Path.Combine(AppContext.BaseDirectory, "versions");

    /// <summary>The releases, in the order they are applied; the first is started.</summary>
    public IReadOnlyList<string> Releases { get; init; } = ["v1", "v2", "v3"];

    /// <summary>Where progress goes (a line at a time); null for none.</summary>
    public Action<string>? Log { get; init; }
}
