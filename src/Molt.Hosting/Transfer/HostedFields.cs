using System.Reflection;
using System.Runtime.Loader;
using Molt.Extensions.Hosting;
using Molt.Hosting.Loading;

namespace Molt.Hosting.Transfer;

/// <summary>
/// In a hosted application (ASP.NET Core, the Generic Host), which fields of the program's types are the framework's
/// rather than the program's state (<see cref="FrameworkServices"/>): a field that holds a service of the application's
/// container (a logger, options, the configuration, the host's lifetime, the service provider itself) or that a framework
/// base class declares (<c>BackgroundService</c>'s task and token source). The new version's container fills them
/// (Molt.Extensions.Hosting), so they are neither transferred, written to a state stream, nor refused. The rule depends
/// only on declarations, so both versions, and both processes of a process update, apply it alike.
/// </summary>
internal static class HostedFields
{
    /// <summary>Whether the rule applies: the type is the program's, in a hosted application.</summary>
    public static bool AppliesTo(Type type) =>
        AssemblyLoadContext.GetLoadContext(type.Assembly) is ProgramLoadContext { IsHostedApplication: true };

    public static bool IsFrameworkOwned(FieldInfo field) => FrameworkServices.IsFrameworkOwned(field);
}
