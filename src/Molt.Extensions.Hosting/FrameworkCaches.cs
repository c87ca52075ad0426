using System.Collections;
using System.Reflection;

namespace Molt.Extensions.Hosting;

/// <summary>
/// Caches of ASP.NET Core that keep an application's types for the life of the process, and so would keep a retired
/// version's code loaded. Emptied when a version ends; the running version's entries are simply computed again.
/// </summary>
/// <remarks>
/// Minimal APIs' parameter binding caches the binding methods of every endpoint parameter's type in
/// <c>ParameterBindingMethodCache</c> (internal, Microsoft.AspNetCore.Http.Extensions) and offers no way to clear it
/// (no hot-reload handler). It is found by name: if a later ASP.NET Core renames it, nothing is cleared, and Molt's
/// proof that the old version unloaded says so.
/// </remarks>
internal static class FrameworkCaches
{
    private const BindingFlags Statics = BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic;
    private const BindingFlags Instances = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;

    public static void Forget()
    {
        // What hot reload empties when code changes (System.Text.Json's metadata of the application's types, reflection
        // caches of the dependency injection and of the HTTP stack): the same handlers serve an update.
        foreach (var assembly in System.Runtime.Loader.AssemblyLoadContext.Default.Assemblies)
        {
            foreach (var handler in assembly.GetCustomAttributes<System.Reflection.Metadata.MetadataUpdateHandlerAttribute>())
            {
                try
                {
                    handler.HandlerType.GetMethod("ClearCache", Statics, [typeof(Type[])])?.Invoke(null, [null]);
                }
                catch (TargetInvocationException)
                {
                    // A cache that cannot be emptied keeps the old version loaded: the proof of its unload says so.
                }
            }
        }
        var cache = Type.GetType("Microsoft.AspNetCore.Http.ParameterBindingMethodCache, Microsoft.AspNetCore.Http.Extensions", throwOnError: false);
        var instances = cache?.GetFields(Statics).Where(f => f.FieldType == cache).Select(f => f.GetValue(null))
            .Concat(cache.GetProperties(Statics).Where(p => p.PropertyType == cache).Select(p => p.GetValue(null))) ?? [];
        foreach (var instance in instances.Where(i => i is not null).Distinct())
        {
            foreach (var field in cache!.GetFields(Instances))
            {
                if (field.GetValue(instance) is IDictionary dictionary)
                {
                    dictionary.Clear();
                }
            }
        }
    }

    /// <summary>
    /// A request's services (its scope) are disposed when its response completes, through a callback Kestrel keeps for as
    /// long as the connection lives: for a connection handed to a unit, that would hold the version that served the
    /// request. They are disposed at the hand-off instead, and the feature lets go of the version's container and context
    /// (its private <c>_scopeFactory</c> and <c>_context</c>, found by name: if a later ASP.NET Core renames it, the version stays loaded until the
    /// connection ends, and Molt's proof that the old version unloaded says so).
    /// </summary>
    public static async ValueTask ReleaseRequestServicesAsync(Microsoft.AspNetCore.Http.Features.IServiceProvidersFeature? feature)
    {
        if (feature is not Microsoft.AspNetCore.Http.Features.RequestServicesFeature services)
        {
            return;
        }
        await services.DisposeAsync().ConfigureAwait(false);
        foreach (var name in (string[])["_scopeFactory", "_context"])
        {
            typeof(Microsoft.AspNetCore.Http.Features.RequestServicesFeature).GetField(name, Instances)?.SetValue(services, null);
        }
    }
}
