using Microsoft.Extensions.Hosting;

namespace Molt.Extensions.Hosting;

/// <summary>
/// What a version's host sees of one of the application's hosted services: starting it starts a unit that runs the
/// service (<see cref="HostedUnits.RunServiceAsync"/>), so that an update can stop it between two turns of its loop and
/// its new version's object — the same fields, carried over — can start after the commit.
/// </summary>
internal sealed class ServiceUnit(HostedApplication version, IHostedService service) : IHostedService
{
    public static IHostedService For(HostedApplication version, object made) =>
        made is IHostedService service && version.IsProgramType(service.GetType()) ? new ServiceUnit(version, service) : (IHostedService)made;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var name = $"service:{service.GetType().FullName}";
        var session = version.Program.Session;
        session.TakeMigratingUnit(name); // Its state is the service itself, which the container carried over already.
        session.StartUnit(name, service, UnitEntry.ForTask(((Func<IHostedService, Task>)HostedUnits.RunServiceAsync).Method), version.StartUp);
        return Task.CompletedTask;
    }

    /// <summary>The version's host stops (the program stops, or the version ends): the service stops if it runs.</summary>
    public Task StopAsync(CancellationToken cancellationToken) => version.Control(service).StopAsync(cancellationToken);
}

/// <summary>Whether one hosted service runs, so that its unit and its version's host start and stop it once each.</summary>
internal sealed class ServiceControl(IHostedService service)
{
    private readonly object _lock = new();
    private bool _running;

    public async Task StartAsync()
    {
        lock (_lock)
        {
            if (_running)
            {
                return;
            }
            _running = true;
        }
        await service.StartAsync(CancellationToken.None).ConfigureAwait(false);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_running)
            {
                return;
            }
            _running = false;
        }
        await service.StopAsync(cancellationToken).ConfigureAwait(false);
    }
}
