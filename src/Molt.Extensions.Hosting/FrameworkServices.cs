using System.Reflection;

namespace Molt.Extensions.Hosting;

/// <summary>
/// Which types are the hosting framework's services rather than an application's data: what a hosted application's
/// field of such a type holds is filled by each version's container, never carried across an update. One rule, used by
/// the transfer (Molt.Hosting leaves such fields out) and by this package (it fills them in the new version).
/// </summary>
internal static class FrameworkServices
{
    /// <summary>A reference type of the hosting framework (its values are services and the objects they hand out), or the service provider.</summary>
    public static bool IsService(Type type) =>
        !type.IsValueType && !type.IsGenericParameter && (type == typeof(IServiceProvider) || IsHostingFramework(type.Assembly));

    /// <summary>
    /// Microsoft.Extensions.* (dependency injection, logging, options, configuration, hosting, HTTP client factory,
    /// caching) and ASP.NET Core, but not Microsoft.Extensions.Primitives, whose types (StringValues) are data.
    /// </summary>
    public static bool IsHostingFramework(Assembly assembly) =>
        assembly.GetName().Name is { } name
        && (name.StartsWith("Microsoft.AspNetCore.", StringComparison.Ordinal)
            || (name.StartsWith("Microsoft.Extensions.", StringComparison.Ordinal) && name != "Microsoft.Extensions.Primitives"));

    /// <summary>A field the framework owns: it holds a service, or a framework base class declares it (<c>BackgroundService</c>'s).</summary>
    public static bool IsFrameworkOwned(FieldInfo field) =>
        (field.DeclaringType is { } declaring && IsHostingFramework(declaring.Assembly)) || IsService(field.FieldType);
}
