using System.Reflection;
using System.Runtime.CompilerServices;
using Molt.Extensions.Hosting;

namespace Microsoft.Extensions.Hosting;

/// <summary>Makes a hosted application (ASP.NET Core's <c>WebApplication</c>, the Generic Host) updatable live by Molt.</summary>
public static class MoltHostingExtensions
{
    /// <summary>
    /// Under the Molt host, lets Molt own the application's loops: HTTP requests and <c>BackgroundService</c>s become
    /// units of work, the application's own singletons its state, and Kestrel's sockets outlive each version. Run on
    /// its own (<c>dotnet run</c>), the application is unchanged: this call does nothing.
    /// </summary>
    /// <typeparam name="TBuilder">The application's builder (<c>WebApplicationBuilder</c>, <c>HostApplicationBuilder</c>).</typeparam>
    /// <param name="builder">The builder, before <c>Build()</c>.</param>
    /// <returns>The same builder.</returns>
    [MethodImpl(MethodImplOptions.NoInlining)] // The caller's assembly is the application's.
    public static TBuilder AddMolt<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        HostedApplication.Attach(builder, Assembly.GetCallingAssembly());
        return builder;
    }

    /// <summary>
    /// <see cref="AddMolt{TBuilder}(TBuilder)"/> for an application built the older way, on <c>Host.CreateDefaultBuilder()</c>
    /// (with <c>ConfigureWebHostDefaults</c>): call it after the web host is configured.
    /// </summary>
    /// <param name="builder">The host builder, before <c>Build()</c>.</param>
    /// <returns>The same builder.</returns>
    [MethodImpl(MethodImplOptions.NoInlining)] // The caller's assembly is the application's.
    public static IHostBuilder AddMolt(this IHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        HostedApplication.Attach(builder, Assembly.GetCallingAssembly());
        return builder;
    }
}
