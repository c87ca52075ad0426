using System.Reflection;

namespace Shop;

/// <summary>Which release is running.</summary>
internal static class AppInfo
{
    /// <summary>
    /// The release's version ("1.0.0"), read from the assembly at each call. Never cache it in a static field: statics
    /// cross a live update, and a cached "1.0.0" would go on being reported by 2.0.0.
    /// </summary>
    public static string Version =>
        typeof(AppInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
}
