using System.Reflection;
using Microsoft.Extensions.Hosting;

namespace Molt.Extensions.Hosting;

/// <summary>One version of a hosted application under Molt.</summary>
internal sealed class HostedApplication
{
    public static void Attach(IHostApplicationBuilder builder, Assembly application)
    {
        if (Live.CurrentScope.Value is not { Session.IsHosted: true })
        {
            return; // Standalone: the application runs as it would without Molt.
        }
        _ = builder;
        _ = application;
    }
}
