using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Molt.Hosting.Tests;

/// <summary>
/// Compiles the versions of a test program into real assemblies on disk, each in its own folder and all
/// with the same assembly name, the way successive builds of one program are. Sources live in the tests,
/// side by side, so that each test shows exactly what changed between its versions.
/// </summary>
internal static class TestPrograms
{
    private static readonly Lazy<MetadataReference[]> References = new(() =>
    [
        .. ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
            .Select(p => MetadataReference.CreateFromFile(p)),
        MetadataReference.CreateFromFile(typeof(Live).Assembly.Location),
    ]);

    private static readonly ConcurrentDictionary<string, string> Built = new();

    private static readonly string Root = Path.Combine(Path.GetTempPath(), "molt-tests", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Compiles one version; returns the path of its main assembly.</summary>
    /// <param name="program">The assembly name, the same for every version of a program.</param>
    /// <param name="version">A label for the version (its folder).</param>
    /// <param name="source">The program's C# source.</param>
    public static string Build(string program, string version, string source)
    {
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(program + "\0" + version + "\0" + source)))[..16];
        return Built.GetOrAdd(key, _ =>
        {
            var folder = Path.Combine(Root, program, $"{version}-{key}");
            Directory.CreateDirectory(folder);
            var path = Path.Combine(folder, program + ".dll");
            var compilation = CSharpCompilation.Create(
                program,
                [CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest))],
                References.Value,
                new CSharpCompilationOptions(OutputKind.ConsoleApplication, optimizationLevel: OptimizationLevel.Release, nullableContextOptions: NullableContextOptions.Disable));
            using (var output = File.Create(path))
            {
                var emitted = compilation.Emit(output);
                if (!emitted.Success)
                {
                    throw new InvalidOperationException($"Test program {program} {version} does not compile:\n" +
                        string.Join("\n", emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
                }
            }
            return path;
        });
    }

    /// <summary>The usings every test program starts with.</summary>
    public const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.Linq;
        using System.Net;
        using System.Net.Sockets;
        using System.Text;
        using System.Threading;
        using System.Threading.Tasks;
        using Molt;

        """;
}
