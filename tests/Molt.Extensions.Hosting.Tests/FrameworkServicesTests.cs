using System.Reflection;
using System.Runtime.Loader;

namespace Molt.Extensions.Hosting.Tests;

/// <summary>
/// The rule of which fields are the framework's (filled by each version's container, never carried), checked over every
/// public type of the framework's assemblies this process has, not over a few examples: the hosting framework's reference
/// types are services, its value types and everything else are data.
/// </summary>
public class FrameworkServicesTests
{
    private static IEnumerable<Type> FrameworkTypes() =>
        AssemblyLoadContext.Default.Assemblies
            .Where(a => a.GetName().Name is { } n && (n.StartsWith("Microsoft.", StringComparison.Ordinal) || n.StartsWith("System.", StringComparison.Ordinal)))
            .SelectMany(a => { try { return a.GetExportedTypes(); } catch (Exception e) when (e is ReflectionTypeLoadException or FileNotFoundException) { return []; } });

    [Fact]
    public void EveryPublicTypeOfTheFramework_IsAServiceExactlyWhenTheRuleSaysSo()
    {
        // Every assembly of the shared frameworks this process runs on (Microsoft.NETCore.App, Microsoft.AspNetCore.App).
        foreach (var path in ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => p.Contains("/shared/", StringComparison.Ordinal)))
        {
            try
            {
                AssemblyLoadContext.Default.LoadFromAssemblyName(AssemblyName.GetAssemblyName(path));
            }
            catch (BadImageFormatException)
            {
                // A native image in the list.
            }
        }
        var checkedTypes = 0;
        var services = 0;
        foreach (var type in FrameworkTypes())
        {
            var name = type.Assembly.GetName().Name!;
            var hosting = name.StartsWith("Microsoft.AspNetCore.", StringComparison.Ordinal)
                || (name.StartsWith("Microsoft.Extensions.", StringComparison.Ordinal) && name != "Microsoft.Extensions.Primitives");
            var expected = type == typeof(IServiceProvider) || (hosting && !type.IsValueType);
            Assert.True(expected == FrameworkServices.IsService(type), $"{type.FullName} ({name}): expected {(expected ? "a service" : "data")}");
            checkedTypes++;
            services += expected ? 1 : 0;
        }
        Assert.True(checkedTypes > 5_000 && services > 2_000, $"{checkedTypes} types checked, {services} services");
    }

    [Theory]
    [InlineData(typeof(Microsoft.Extensions.Logging.ILogger<object>), true)]
    [InlineData(typeof(Microsoft.Extensions.Options.IOptions<object>), true)]
    [InlineData(typeof(Microsoft.Extensions.Configuration.IConfiguration), true)]
    [InlineData(typeof(Microsoft.Extensions.Hosting.IHostApplicationLifetime), true)]
    [InlineData(typeof(IServiceProvider), true)]
    [InlineData(typeof(Microsoft.Extensions.Primitives.StringValues), false)]
    [InlineData(typeof(Microsoft.AspNetCore.Http.PathString), false)]
    [InlineData(typeof(List<string>), false)]
    [InlineData(typeof(System.Net.WebSockets.WebSocket), false)]
    [InlineData(typeof(Stream), false)]
    public void TheTypesTheDocsName(Type type, bool service) => Assert.Equal(service, FrameworkServices.IsService(type));

    [Fact]
    public void ABackgroundServicesOwnFields_AreTheFrameworks()
    {
        var fields = typeof(Microsoft.Extensions.Hosting.BackgroundService).GetFields(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public);
        Assert.NotEmpty(fields);
        Assert.All(fields, f => Assert.True(FrameworkServices.IsFrameworkOwned(f), f.Name));
    }
}
