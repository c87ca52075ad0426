using Microsoft.Extensions.Hosting;

namespace Molt.Extensions.Hosting;

/// <summary>Whether one of the application's hosted services runs, so that its unit stops it at an update and starts it again after a rollback, once each.</summary>
internal sealed class ServiceControl(IHostedService service)
{
    private readonly object _lock = new();

    /// <summary>The version's host started it.</summary>
    private bool _running = true;

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
