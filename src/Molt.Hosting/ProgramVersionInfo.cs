namespace Molt.Hosting;

/// <summary>One version of a program, as the operator identifies it.</summary>
/// <param name="AssemblyPath">The full path of the program's main assembly.</param>
/// <param name="AssemblyName">The main assembly's simple name.</param>
/// <param name="Version">The assembly's informational version (or its assembly version).</param>
/// <param name="Sha256">The SHA-256 of the main assembly file, in lowercase hex.</param>
/// <param name="Generation">0 for the version the host started with, then one more for each committed update.</param>
/// <param name="LoadedAt">When the host loaded it.</param>
public sealed record ProgramVersionInfo(string AssemblyPath, string AssemblyName, string Version, string Sha256, int Generation, DateTimeOffset LoadedAt)
{
    /// <inheritdoc/>
    public override string ToString() => $"{AssemblyName} {Version} ({Sha256[..12]}, generation {Generation})";
}
