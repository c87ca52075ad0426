using System.Globalization;
using System.Reflection;
using System.Runtime.Loader;
using Kv.Demo;
using Molt.Hosting;
using Xunit.Abstractions;

namespace Kv.Tests;

/// <summary>
/// Release 6 changes commands only: it ships the same build of the keyspace's library (Kv.State) as v5, its own types are
/// v5's, field for field, and it adds no state of its own. So the update v5 -> v6 shares the library and passes the whole
/// keyspace by reference (a handful of objects rebuilt, whatever the keys), and the rollback v6 -> v5 does too.
/// </summary>
[Collection(KvCollection.Name)]
public class CommandsOnlyReleaseTests(ITestOutputHelper output)
{
    [Fact]
    public void V6_ShipsV5sKeyspaceLibrary_HasV5sStateTypes_AndNoStateOfItsOwn()
    {
        // The same build of the library: what Molt compares (the module version id), byte for byte here.
        Assert.Equal(Mvid(5, "Kv.State"), Mvid(6, "Kv.State"));
        Assert.Equal(File.ReadAllBytes(Path.Combine(KvProcesses.VersionDirectory(5), "Kv.State.dll")),
            File.ReadAllBytes(Path.Combine(KvProcesses.VersionDirectory(6), "Kv.State.dll")));
        var v5 = Fields(5);
        var v6 = Fields(6);

        // Every type of v5 is in v6 with the same fields (name, type, static or not).
        foreach (var (type, fields) in v5)
        {
            Assert.True(v6.TryGetValue(type, out var same), $"v6 has no type {type}");
            Assert.Equal(fields, same);
        }
        // The types v6 adds (its commands' helpers) hold no static state.
        var added = v6.Keys.Except(v5.Keys).ToList();
        output.WriteLine($"types v6 adds: {string.Join(", ", added)}");
        Assert.NotEmpty(added);
        Assert.All(added, type => Assert.DoesNotContain(v6[type], f => f.StartsWith("static ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task V5ToV6AndBack_Live_KeepsEveryKeyOfEveryType()
    {
        var versions = Path.Combine(AppContext.BaseDirectory, "versions");
        var script = Path.Combine(AppContext.BaseDirectory, "clients", "kv_data.py");
        await using var host = await MoltHost.StartAsync(Path.Combine(versions, "v5", "Kv.dll"), ["--port", "0"], new MoltHostOptions { ShareLibraries = Environment.GetEnvironmentVariable("NOSHARE") != "1" });
        var port = HostedKvServer.ReadPort(host).ToString(CultureInfo.InvariantCulture);
        string[] dataset = ["--port", port, "--prefix", "c:", "--keys", "4000", "--types", "string,list,hash,set"];
        await using (var load = await ExternalTool.RunScriptAsync(script, ["load", .. dataset], TimeSpan.FromSeconds(60), default))
        {
            Assert.True(load.ExitCode == 0, load.Output + load.Errors);
        }

        var forward = await host.UpdateAsync(Path.Combine(versions, "v6", "Kv.dll"));
        output.WriteLine(forward.ToString());
        Assert.True(forward.Outcome == UpdateOutcome.Committed && forward.OldVersionUnloaded == true, forward.ToString());
        // The keyspace (4,000 keys: their entries, values, lists, hashes and sets, some 20,000 objects) passes by reference;
        // what is rebuilt is the program's own: the units' state (the listener's unit, expiry, the connections left).
        Assert.Equal(["Kv.State 5.0.0"], forward.SharedLibraries);
        Assert.InRange(forward.ObjectsRebuilt, 1, 100);
        await VerifyAsync(script, dataset);
        // v6's commands on the keys v5 wrote: c:1 is a list, c:2 a hash, c:3 a set.
        Assert.Equal("0:1:e0\n", await CliAsync(port, "LINDEX", "c:1", "0"));
        Assert.Equal("3\n", await CliAsync(port, "SINTERCARD", "1", "c:3"));
        Assert.Equal("1\n", await CliAsync(port, "HEXISTS", "c:2", "f0"));

        var back = await host.RollbackAsync();
        output.WriteLine(back.ToString());
        Assert.True(back.Outcome == UpdateOutcome.Committed && back.OldVersionUnloaded == true, back.ToString());
        Assert.Equal(["Kv.State 5.0.0"], back.SharedLibraries);
        Assert.InRange(back.ObjectsRebuilt, 1, 100);
        await VerifyAsync(script, dataset);
        Assert.StartsWith("ERR unknown command 'LINDEX'", await CliAsync(port, "LINDEX", "c:1", "0"), StringComparison.Ordinal);
    }

    private async Task VerifyAsync(string script, string[] dataset)
    {
        await using var verify = await ExternalTool.RunScriptAsync(script, ["verify", .. dataset], TimeSpan.FromSeconds(60), default);
        output.WriteLine(verify.Output);
        Assert.True(verify.ExitCode == 0, verify.Output + verify.Errors);
        Assert.Contains("\"checked\": 4000", verify.Output, StringComparison.Ordinal);
    }

    private static async Task<string> CliAsync(string port, params string[] command)
    {
        var result = await KvProcesses.RunAsync(KvProcesses.RequireTool("redis-cli"), ["-p", port, .. command], TimeSpan.FromSeconds(30));
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Stdout;
    }

    /// <summary>The module version id of an assembly of release <paramref name="version"/>, read from its metadata.</summary>
    private static Guid Mvid(int version, string assembly)
    {
        using var pe = new System.Reflection.PortableExecutable.PEReader(File.OpenRead(Path.Combine(KvProcesses.VersionDirectory(version), assembly + ".dll")));
        var metadata = System.Reflection.Metadata.PEReaderExtensions.GetMetadataReader(pe);
        return metadata.GetGuid(metadata.GetModuleDefinition().Mvid);
    }

    /// <summary>
    /// Each type of release <paramref name="version"/>'s Kv.dll (compiler-generated ones aside) with its fields, constants
    /// aside: "[static ]name: type", in order. Read in a load context of its own, let go after.
    /// </summary>
    private static Dictionary<string, List<string>> Fields(int version)
    {
        var folder = KvProcesses.VersionDirectory(version);
        var context = new AssemblyLoadContext($"kv v{version} types", isCollectible: true);
        context.Resolving += (loading, name) =>
            File.Exists(Path.Combine(folder, name.Name + ".dll")) ? loading.LoadFromAssemblyPath(Path.Combine(folder, name.Name + ".dll")) : null;
        try
        {
            var assembly = context.LoadFromAssemblyPath(Path.Combine(folder, "Kv.dll"));
            const BindingFlags declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
            return assembly.GetTypes()
                .Where(t => !t.FullName!.Contains('<', StringComparison.Ordinal))
                .ToDictionary(
                    t => t.FullName!,
                    t => t.GetFields(declared).Where(f => !f.IsLiteral)
                        .Select(f => $"{(f.IsStatic ? "static " : "")}{f.Name}: {f.FieldType}")
                        .Order(StringComparer.Ordinal).ToList());
        }
        finally
        {
            context.Unload();
        }
    }
}
