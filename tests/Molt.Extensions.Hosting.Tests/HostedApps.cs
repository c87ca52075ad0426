using System.Net;
using System.Net.Sockets;
using Molt.Testing;

namespace Molt.Extensions.Hosting.Tests;

/// <summary>The hosted applications these tests update (<see cref="HostedTestApplication"/>), compiled, and a free port.</summary>
internal static class HostedApps
{
    private static readonly ProgramCompiler Compiler = ProgramCompiler.ForHostedApplications("molt-hosting-tests");

    public const string Usings = HostedTestApplication.Usings;

    public static string Web(string version, string extra = "", string beforeBuild = "", string storeItems = "public List<string> Items = [];", string itemsCount = "s.Items.Count", string addItem = "s.Items.Add(name)") =>
        HostedTestApplication.Web(version, extra, beforeBuild, storeItems, itemsCount, addItem);

    public static string Build(string name, string version, string source) => Compiler.Build(name, version, source);

    /// <summary>A port free now on 127.0.0.1.</summary>
    public static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
