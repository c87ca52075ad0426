using Microsoft.Extensions.Hosting;

namespace Molt.Extensions.Hosting;

/// <summary>
/// The first hosted service of a version's host: once every hosted service and the (captured) server have started,
/// the version's units start and Molt learns that its start-up is done.
/// </summary>
internal sealed class StartUpSignal(HostedApplication version, IHostApplicationLifetime lifetime) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        version.Lifetime = lifetime;
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        version.Started();
        return Task.CompletedTask;
    }

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
