using Molt.Testing;

namespace Molt.Hosting.Tests;

/// <summary>
/// Compiles the versions of a test program (see <see cref="ProgramCompiler"/>). Sources live in the tests,
/// side by side, so that each test shows exactly what changed between its versions.
/// </summary>
internal static class TestPrograms
{
    private static readonly ProgramCompiler Compiler = new("molt-tests");

    /// <summary>Compiles one version; returns the path of its main assembly.</summary>
    /// <param name="program">The assembly name, the same for every version of a program.</param>
    /// <param name="version">A label for the version (its folder).</param>
    /// <param name="source">The program's C# source.</param>
    public static string Build(string program, string version, string source) => Compiler.Build(program, version, source);

    /// <summary>Compiles one version with libraries shipped beside it; returns the path of its main assembly.</summary>
    public static string Build(string program, string version, string source, params (string Name, string Source)[] libraries) =>
        Compiler.Build(program, version, source, libraries);

    /// <summary>The usings every test program starts with.</summary>
    public const string Usings = ProgramCompiler.Usings;
}
