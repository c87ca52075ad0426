namespace Molt.Extensions.Hosting;

/// <summary>
/// The entries of the units a hosted application runs under Molt, in place of the update points its own code does not
/// have. Each waits for an update request, brings its part of the application to rest, and parks; in an update's new
/// version each waits at its first update point for the commit before it lets anything run.
/// </summary>
internal static class HostedUnits
{
    /// <summary>Holds the application's singletons (the unit's state, carried by the transfer); stops the program at its stop.</summary>
    public static async Task RunServicesAsync(Dictionary<string, object> singletons)
    {
        _ = singletons; // Held as the unit's state: what the transfer carries to the next version.
        var version = Current();
        await Live.UpdatePointAsync("started").ConfigureAwait(false);
        while (true)
        {
            await WaitForUpdateAsync().ConfigureAwait(false);
            try
            {
                await Live.UpdatePointAsync("services").ConfigureAwait(false);
            }
            catch (UnitRetiredException e) when (e.Stopping)
            {
                await version.StopProgramAsync().ConfigureAwait(false);
                throw;
            }
        }
    }

    /// <summary>Lets requests into this version; at an update, holds new ones back and waits for those in flight.</summary>
    public static async Task RunRequestsAsync(string name)
    {
        _ = name;
        var version = Current();
        var server = version.Program.Server;
        var session = version.Program.Session;
        await Live.UpdatePointAsync("requests").ConfigureAwait(false);
        while (true)
        {
            if (version.Pipeline is { } pipeline)
            {
                server.Open(pipeline);
            }
            await WaitForUpdateAsync().ConfigureAwait(false);
            if (session.LeavingProcess)
            {
                server.PauseAccepting();
            }
            if (version.Pipeline is { } draining)
            {
                await server.CloseAndDrainAsync(draining, () => session.IsUpdatePending).ConfigureAwait(false);
            }
            try
            {
                await Live.UpdatePointAsync("requests").ConfigureAwait(false);
            }
            catch (UnitRetiredException e) when (e.Stopping)
            {
                return;
            }
            server.ResumeAccepting(); // A process update rolled back: this process takes connections again.
        }
    }

    /// <summary>
    /// One of the application's hosted services (a BackgroundService), started by its version's host: at an update it is
    /// stopped (its token cancelled, its loop ended between two turns) before the unit parks, and started again on the same
    /// object if the update rolls back. In an update's new version the unit waits for the commit.
    /// </summary>
    public static async Task RunServiceAsync(Microsoft.Extensions.Hosting.IHostedService service)
    {
        var control = Current().Control(service);
        await Live.UpdatePointAsync("running").ConfigureAwait(false);
        while (true)
        {
            await WaitForUpdateAsync().ConfigureAwait(false);
            await control.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await Live.UpdatePointAsync("stopped").ConfigureAwait(false);
            await control.StartAsync().ConfigureAwait(false);
        }
    }

    private static HostedApplication Current()
    {
        var scope = Live.CurrentScope.Value ?? throw new InvalidOperationException("Not in a unit.");
        return HostedProgram.For(scope.Session).Version(scope.Unit?.Epoch ?? scope.Epoch);
    }

    private static async Task WaitForUpdateAsync()
    {
        try
        {
            await Task.Delay(Timeout.Infinite, Live.UpdateRequested).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // An update (or the program's stop) was requested.
        }
    }
}
