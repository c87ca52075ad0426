using Microsoft.Extensions.DependencyInjection;

namespace Molt.Extensions.Hosting;

/// <summary>
/// Builds a version's service container so that the application's own singletons are its state: each one the container
/// makes is remembered under a key that names its registration, and in an update's new version, the one carried over
/// under the same key is handed out instead of a new one.
/// </summary>
internal sealed class VersionContainerFactory(HostedApplication version, bool isDevelopment) : IServiceProviderFactory<IServiceCollection>
{
    public IServiceCollection CreateBuilder(IServiceCollection services) => services;

    public IServiceProvider CreateServiceProvider(IServiceCollection containerBuilder)
    {
        var carried = version.IsUpdate
            ? version.Program.Session.TakeMigratingUnit(HostedApplication.ServicesUnit)?.State as Dictionary<string, object>
            : null;
        if (version.IsUpdate)
        {
            // A new version whose container cannot be built fails its update here, before anything commits, rather than
            // at its first request after the commit.
            using var check = containerBuilder.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        }
        if (carried is not null)
        {
            // A process update's new process: Kestrel will listen on the sockets the old process listened on.
            version.Program.Server.Adopt(carried.Where(e => e.Key.StartsWith(HostedApplication.ListenerKey, StringComparison.Ordinal))
                .OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => e.Value).OfType<System.Net.Sockets.Socket>());
        }
        var container = new VersionContainer(version, carried);
        IServiceCollection services = new ServiceCollection();
        foreach (var descriptor in containerBuilder)
        {
            services.Add(container.Rewrite(descriptor));
        }
        container.Build(services, new ServiceProviderOptions { ValidateScopes = isDevelopment });
        version.Container = container;
        return container.Provider;
    }
}
