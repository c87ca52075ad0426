using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;

namespace Molt.Hosting.Processes;

/// <summary>
/// How a program process is started: <c>dotnet exec --runtimeconfig MERGED HOST.dll serve ...</c>. The runtime's
/// configuration is the host's own (its framework) with the program version's <c>configProperties</c> over it (Server GC,
/// a heap limit, invariant globalization: whatever the version's project sets), so a process update also changes the
/// runtime's settings when the new version asks for others. <c>dotnet</c> resolves the framework when the process starts:
/// the newest installed patch of the host's major version (its roll-forward policy), so a patch release installed since the
/// old process started is what the new one runs on.
/// </summary>
internal static class ProgramProcessStart
{
    /// <summary>The variable that names the merged runtime configuration; the started process deletes the file once it runs.</summary>
    public const string RuntimeConfigVariable = "MOLT_RUNTIMECONFIG_FILE";

    /// <summary>The host's main assembly in this process (Molt.Cli.dll under <c>molt</c>).</summary>
    public static string CurrentHostPath => Environment.GetEnvironmentVariable("MOLT_HOST_PATH") is { Length: > 0 } path
        ? path
        : System.Reflection.Assembly.GetEntryAssembly()?.Location ?? throw new InvalidOperationException("This process has no entry assembly to start again.");

    /// <summary>The <c>dotnet</c> host: this process's when it was started by it, else the one beside the running runtime.</summary>
    public static string DotnetPath()
    {
        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            return self;
        }
        // .../dotnet/shared/Microsoft.NETCore.App/10.0.x/ -> .../dotnet/dotnet
        var root = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        var candidate = Path.Combine(root, "dotnet");
        return File.Exists(candidate) ? candidate : "dotnet";
    }

    /// <summary>
    /// The file name, arguments and merged runtime configuration to start <paramref name="hostPath"/>'s <c>serve</c> command
    /// for <paramref name="programPath"/>. The merged configuration is written to <paramref name="scratchDirectory"/>.
    /// </summary>
    public static (string FileName, List<string> Arguments, string RuntimeConfig) Build(
        string hostPath, string programPath, IEnumerable<string> serveArguments, string scratchDirectory)
    {
        var config = MergeRuntimeConfig(hostPath, programPath);
        Directory.CreateDirectory(scratchDirectory);
        var file = Path.Combine(scratchDirectory, $"molt-{Environment.ProcessId}-{Guid.NewGuid():N}.runtimeconfig.json");
        File.WriteAllText(file, config.ToJsonString());
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        List<string> arguments = ["exec", "--runtimeconfig", file, hostPath, "serve", .. serveArguments];
        return (DotnetPath(), arguments, file);
    }

    /// <summary>The host's runtime configuration with the program's <c>configProperties</c> over its own.</summary>
    public static JsonObject MergeRuntimeConfig(string hostPath, string programPath)
    {
        var hostConfig = Path.ChangeExtension(hostPath, ".runtimeconfig.json");
        if (!File.Exists(hostConfig))
        {
            throw new FileNotFoundException($"The Molt host's runtime configuration is missing: {hostConfig}.", hostConfig);
        }
        var merged = JsonNode.Parse(File.ReadAllText(hostConfig))?.AsObject() ?? throw new InvalidDataException($"{hostConfig} is empty.");
        var options = merged["runtimeOptions"] as JsonObject ?? throw new InvalidDataException($"{hostConfig} has no runtimeOptions.");
        var programConfig = Path.ChangeExtension(programPath, ".runtimeconfig.json");
        if (File.Exists(programConfig)
            && JsonNode.Parse(File.ReadAllText(programConfig))?["runtimeOptions"]?["configProperties"] is JsonObject properties)
        {
            var target = options["configProperties"] as JsonObject ?? new JsonObject();
            options["configProperties"] = target;
            foreach (var (key, value) in properties)
            {
                target[key] = value?.DeepClone();
            }
        }
        return merged;
    }

    /// <summary>Deletes the merged runtime configuration this process was started with: the runtime has read it.</summary>
    public static void DeleteOwnRuntimeConfig()
    {
        if (Environment.GetEnvironmentVariable(RuntimeConfigVariable) is { Length: > 0 } file)
        {
            try
            {
                File.Delete(file);
            }
            catch (IOException)
            {
            }
            Environment.SetEnvironmentVariable(RuntimeConfigVariable, null);
        }
    }

    /// <summary>This process's runtime, as <c>molt status</c> shows it.</summary>
    public static string DescribeRuntime() =>
        $"{RuntimeInformation.FrameworkDescription}, {(System.Runtime.GCSettings.IsServerGC ? "Server" : "Workstation")} GC";

    /// <summary>A start description for a program process: inherits this process's standard streams (its output and logs go where ours go).</summary>
    public static ProcessStartInfo StartInfo(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment, string runtimeConfig)
    {
        var start = new ProcessStartInfo(fileName) { UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        if (environment is not null)
        {
            start.Environment.Clear();
            foreach (var (key, value) in environment)
            {
                start.Environment[key] = value;
            }
        }
        start.Environment[RuntimeConfigVariable] = runtimeConfig;
        return start;
    }
}
