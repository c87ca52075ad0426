using Microsoft.Extensions.Hosting;

namespace Molt.Extensions.Hosting;

/// <summary>A version's host lifetime under Molt: no signal handlers (Molt stops the program), nothing to wait for.</summary>
internal sealed class MoltHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
