using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Molt.Testing;

/// <summary>
/// Compiles the versions of a program into real assemblies on disk, each in its own folder and all with
/// the same assembly name, the way successive builds of one program are. The program references Molt and
/// the framework assemblies of the running process.
/// </summary>
public sealed class ProgramCompiler
{
    private static readonly Lazy<MetadataReference[]> References = new(() =>
    [
        .. ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
            .Select(p => MetadataReference.CreateFromFile(p)),
        MetadataReference.CreateFromFile(typeof(Live).Assembly.Location),
    ]);

    /// <summary>
    /// For hosted applications: ASP.NET Core and Microsoft.Extensions (the framework assemblies of the running process,
    /// which runs on Microsoft.AspNetCore.App) and Molt.Extensions.Hosting.
    /// </summary>
    private static readonly Lazy<MetadataReference[]> HostedReferences = new(() =>
    [
        .. References.Value,
        .. ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p) is var name && (name.StartsWith("Microsoft.AspNetCore.", StringComparison.Ordinal)
                || name.StartsWith("Microsoft.Extensions.", StringComparison.Ordinal) || name == "Molt.Extensions.Hosting.dll"))
            .Select(p => MetadataReference.CreateFromFile(p)),
    ]);

    private readonly ConcurrentDictionary<string, string> _built = new();

    private readonly bool _hosted;

    /// <summary>A compiler of hosted applications (ASP.NET Core, the Generic Host, Molt.Extensions.Hosting), under <c>{temp}/{purpose}/{process id}</c>.</summary>
    /// <param name="purpose">A folder name that says who compiled.</param>
    /// <returns>The compiler.</returns>
    public static ProgramCompiler ForHostedApplications(string purpose) => new(purpose, hosted: true);

    private ProgramCompiler(string purpose, bool hosted)
        : this(purpose)
    {
        _hosted = hosted;
    }

    /// <summary>The usings every program compiled here can start with.</summary>
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

    /// <summary>A compiler that writes under <c>{temp}/{purpose}/{process id}</c>.</summary>
    /// <param name="purpose">A folder name that says who compiled (e.g. "molt-tests").</param>
    public ProgramCompiler(string purpose)
    {
        Root = Path.Combine(Path.GetTempPath(), purpose, Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>The folder under which every version is written.</summary>
    public string Root { get; }

    /// <summary>Compiles one version (once per distinct source); returns the path of its main assembly.</summary>
    /// <param name="program">The assembly name, the same for every version of a program.</param>
    /// <param name="version">A label for the version (its folder).</param>
    /// <param name="source">The program's C# source.</param>
    /// <exception cref="InvalidOperationException">The source does not compile.</exception>
    public string Build(string program, string version, string source) => Build(program, version, source, []);

    /// <summary>
    /// Compiles one version with libraries of its own, shipped beside it (each compiled first, into the same
    /// folder, and referenced by the program); returns the path of its main assembly.
    /// </summary>
    /// <param name="program">The assembly name, the same for every version of a program.</param>
    /// <param name="version">A label for the version (its folder).</param>
    /// <param name="source">The program's C# source.</param>
    /// <param name="libraries">Each library's assembly name and C# source.</param>
    /// <exception cref="InvalidOperationException">A source does not compile.</exception>
    public string Build(string program, string version, string source, IReadOnlyList<(string Name, string Source)> libraries)
    {
        var text = string.Concat(libraries.Select(l => l.Name + "\0" + l.Source + "\0"));
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(program + "\0" + version + "\0" + source + "\0" + text)))[..16];
        return _built.GetOrAdd(key, _ =>
        {
            var folder = Path.Combine(Root, program, $"{version}-{key}");
            Directory.CreateDirectory(folder);
            var references = (_hosted ? HostedReferences : References).Value.ToList();
            foreach (var (name, librarySource) in libraries)
            {
                var library = Path.Combine(folder, name + ".dll");
                Compile(name, librarySource, OutputKind.DynamicallyLinkedLibrary, references, library, $"Library {name} of {program} {version}");
                references.Add(MetadataReference.CreateFromFile(library));
            }
            var path = Path.Combine(folder, program + ".dll");
            Compile(program, source, OutputKind.ConsoleApplication, references, path, $"Program {program} {version}");
            return path;
        });
    }

    private static void Compile(string name, string source, OutputKind kind, IEnumerable<MetadataReference> references, string path, string what)
    {
        var compilation = CSharpCompilation.Create(
            name,
            [CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest))],
            references,
            new CSharpCompilationOptions(kind, optimizationLevel: OptimizationLevel.Release, nullableContextOptions: NullableContextOptions.Disable,
                // The same source and references give the same module version id: an unchanged library is shared by two versions.
                deterministic: true));
        using var output = File.Create(path);
        var emitted = compilation.Emit(output);
        if (!emitted.Success)
        {
            throw new InvalidOperationException($"{what} does not compile:\n" +
                string.Join("\n", emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        }
    }
}
