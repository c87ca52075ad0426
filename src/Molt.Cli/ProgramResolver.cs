using System.Diagnostics;
using System.Security.Cryptography;

namespace Molt.Cli;

/// <summary>
/// Turns what the operator names as a program into its main assembly: a .dll as it is; a project folder or a
/// project file is built (<c>dotnet build -c Release</c>) and a snapshot of its output used.
/// </summary>
internal static class ProgramResolver
{
    /// <summary>The main assembly of <paramref name="program"/>, building it first when it is a project.</summary>
    /// <exception cref="UsageException">It is neither an assembly nor a project, or it does not build.</exception>
    public static async Task<string> ResolveAsync(string program, CancellationToken cancellationToken)
    {
        var path = Path.GetFullPath(program);
        if (File.Exists(path) && path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
        {
            return path;
        }
        var project = FindProject(path) ?? throw new UsageException(
            $"'{program}' is neither a program's main assembly (.dll) nor a project (a folder with one project file, or the project file).");

        // Build output goes to stderr: stdout is the program's (for `molt run`) or the result's.
        await Console.Error.WriteLineAsync($"Building {project} (Release)...").ConfigureAwait(false);
        var (code, output) = await DotnetAsync(["build", project, "-c", "Release", "-nologo", "-v", "q"], cancellationToken).ConfigureAwait(false);
        if (code != 0)
        {
            await Console.Error.WriteLineAsync(output).ConfigureAwait(false);
            throw new UsageException($"'{project}' does not build (dotnet build exited with {code}).");
        }
        var (_, targetPath) = await DotnetAsync(["msbuild", project, "-getProperty:TargetPath", "-p:Configuration=Release", "-nologo"], cancellationToken).ConfigureAwait(false);
        var dll = targetPath.Trim();
        return File.Exists(dll)
            ? Snapshot(dll)
            : throw new UsageException($"'{project}' built, but its output assembly was not found (TargetPath '{dll}').");
    }

    /// <summary>
    /// Copies a build's output folder to a folder of its own, named by the main assembly's hash, and returns the
    /// copy's main assembly. The host maps a version's files while it runs: the next build of the same project
    /// must not overwrite them in place (a later <c>molt update</c> of that project would crash the running version).
    /// </summary>
    private static string Snapshot(string dll)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(dll)))[..16];
        var root = Path.Combine(Path.GetTempPath(), $"molt-builds-{Environment.UserName}");
        if (!Directory.Exists(root) && !OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var folder = Path.Combine(root, $"{Path.GetFileNameWithoutExtension(dll)}-{hash}");
        if (!Directory.Exists(folder))
        {
            // Copied beside, then moved into place: a folder under its final name is always complete.
            var partial = $"{folder}.partial-{Guid.NewGuid():N}";
            CopyFolder(Path.GetDirectoryName(dll)!, partial);
            try
            {
                Directory.Move(partial, folder);
            }
            catch (IOException) when (Directory.Exists(folder))
            {
                Directory.Delete(partial, recursive: true); // Another molt made the same snapshot first.
            }
        }
        return Path.Combine(folder, Path.GetFileName(dll));
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
        foreach (var folder in Directory.EnumerateDirectories(from))
        {
            CopyFolder(folder, Path.Combine(to, Path.GetFileName(folder)));
        }
    }

    private static string? FindProject(string path)
    {
        if (File.Exists(path) && Path.GetExtension(path) is ".csproj" or ".fsproj" or ".vbproj")
        {
            return path;
        }
        if (!Directory.Exists(path))
        {
            return null;
        }
        var projects = Directory.GetFiles(path, "*.??proj");
        return projects.Length switch
        {
            1 => projects[0],
            0 => null,
            _ => throw new UsageException($"'{path}' holds several project files; name the one to run."),
        };
    }

    private static async Task<(int Code, string Output)> DotnetAsync(string[] arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start) ?? throw new UsageException("Could not start 'dotnet' to build the project.");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        return (process.ExitCode, await stdout.ConfigureAwait(false) + await stderr.ConfigureAwait(false));
    }
}

/// <summary>The operator asked for something that cannot be done as asked; the message says why (exit code 1).</summary>
internal sealed class UsageException(string message) : Exception(message);
