using Microsoft.Extensions.DependencyInjection;

namespace Molt.Extensions.Hosting;

/// <summary>
/// The service provider a version's host gets: the container itself for every service, but its disposal spares what
/// crossed an update (<see cref="VersionContainer.KeepCarried"/>).
/// </summary>
internal sealed class CarryingServiceProvider(ServiceProvider inner, VersionContainer container)
    : IServiceProvider, IKeyedServiceProvider, ISupportRequiredService, IDisposable, IAsyncDisposable
{
    public object? GetService(Type serviceType) => inner.GetService(serviceType);

    public object GetRequiredService(Type serviceType) => inner.GetRequiredService(serviceType);

    public object? GetKeyedService(Type serviceType, object? serviceKey) => inner.GetKeyedService(serviceType, serviceKey);

    public object GetRequiredKeyedService(Type serviceType, object? serviceKey) => inner.GetRequiredKeyedService(serviceType, serviceKey);

    public void Dispose() => container.DisposeAsync().AsTask().GetAwaiter().GetResult();

    public ValueTask DisposeAsync() => container.DisposeAsync();
}
