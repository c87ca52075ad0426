namespace Shop;

/// <summary>
/// The shop's customers and its storeroom, simulated: every half second a buyer places an order, and every fifth turn
/// the product with the least stock is restocked instead (<see cref="Catalog.Simulate"/>). Its counters are fields,
/// so they carry on across a live update; the loop honours <c>stoppingToken</c> in every wait.
/// </summary>
internal sealed class Simulator(Catalog catalog, ILogger<Simulator> logger) : BackgroundService
{
    /// <summary>The time between two turns.</summary>
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    /// <summary>How many turns have run, in every release since the start.</summary>
    public long Turns;

    private readonly Catalog catalog = catalog;

    private readonly ILogger<Simulator> logger = logger;

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        logger.LogInformation("Simulator {Version} starts at turn {Turns}", AppInfo.Version, Turns);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(Interval, stoppingToken);
                Turns++;
                catalog.Simulate(Turns);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping (the application, or an update between two turns).
        }
    }
}
