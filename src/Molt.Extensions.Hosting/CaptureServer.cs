using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;

namespace Molt.Extensions.Hosting;

/// <summary>
/// Stands in for Kestrel in a version's container: when the version's host starts it, it takes the version's request
/// pipeline and hands it to the one Kestrel that outlives the versions (<see cref="ApplicationServer"/>), which binds the
/// addresses the application asked for (<c>--urls</c>, <c>ASPNETCORE_URLS</c>) at the first start.
/// </summary>
internal sealed class CaptureServer : IServer
{
    private readonly HostedApplication _version;
    private readonly ServerAddressesFeature _addresses = new();

    public CaptureServer(HostedApplication version)
    {
        _version = version;
        Features.Set<IServerAddressesFeature>(_addresses);
    }

    public IFeatureCollection Features { get; } = new FeatureCollection();

    public async Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken)
        where TContext : notnull
    {
        _version.Pipeline = new VersionPipeline<TContext>(_version, application);
        var bound = await _version.Program.Server.EnsureListeningAsync([.. _addresses.Addresses], _version, cancellationToken).ConfigureAwait(false);
        _addresses.Addresses.Clear();
        foreach (var address in bound)
        {
            _addresses.Addresses.Add(address);
        }
    }

    /// <summary>A version's host stopping does not stop Kestrel: the program's stop does (<see cref="ApplicationServer.StopAsync"/>).</summary>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Drops the version's pipeline (its end), so that nothing here holds its code.</summary>
    public void Detach() => _version.Pipeline = null;

    public void Dispose()
    {
    }
}
