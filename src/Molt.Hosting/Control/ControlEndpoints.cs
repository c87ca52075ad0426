using System.Runtime.InteropServices;
using System.Text.Json;

namespace Molt.Hosting.Control;

/// <summary>
/// Where the control endpoints of this user's programs live: one Unix domain socket per program, and beside
/// it a small JSON file that describes the program, in <c>$XDG_RUNTIME_DIR/molt</c> or, when that is unset, a
/// private directory <c>/tmp/molt-{uid}</c>. The directory is 0700 and each socket 0600.
/// </summary>
public static class ControlEndpoints
{
    /// <summary>The directory of this user's endpoints: created 0700 when missing, set back to 0700 when found wider.</summary>
    /// <exception cref="InvalidOperationException">The directory is a symbolic link or another user's: it is not used.</exception>
    public static string Directory =>
        Prepare(Environment.GetEnvironmentVariable("MOLT_RUNTIME_DIR") is { Length: > 0 } overridden
            ? overridden
            : Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } xdg
                ? Path.Combine(xdg, "molt")
                : Path.Combine(Path.GetTempPath(), $"molt-{PeerCredentials.CurrentUserId}"));

    /// <summary>
    /// Makes sure an endpoint directory is this user's own and private: created 0700 when missing; one found
    /// wider is set back to 0700. One that is a symbolic link, or belongs to another user (who could swap the
    /// sockets in it: think of <c>/tmp/molt-{uid}</c> made in advance by someone else), is refused.
    /// </summary>
    /// <exception cref="InvalidOperationException">The directory is a symbolic link or another user's.</exception>
    internal static string Prepare(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return directory;
        }
        const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        if (!System.IO.Directory.Exists(directory))
        {
            System.IO.Directory.CreateDirectory(directory, Private);
        }
        if (new DirectoryInfo(directory).LinkTarget is not null)
        {
            throw new InvalidOperationException($"The endpoint directory {directory} is a symbolic link: Molt uses only a directory of its own.");
        }
        // Only the owner may chmod (root may anything, so root first makes the directory its own).
        if (PeerCredentials.CurrentUserId == 0 && lchown(directory, 0, 0) != 0)
        {
            throw new InvalidOperationException($"The endpoint directory {directory} cannot be made root's (errno {Marshal.GetLastPInvokeError()}).");
        }
        try
        {
            File.SetUnixFileMode(directory, Private);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new InvalidOperationException($"The endpoint directory {directory} belongs to another user: Molt uses only a directory of its own.", e);
        }
        return directory;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int lchown([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint owner, uint group);

    /// <summary>The socket path of a program's endpoint.</summary>
    /// <exception cref="ArgumentException">The name is not a plain name (letters, digits, '-', '_', '.').</exception>
    public static string SocketPath(string name) => SocketPath(name, Directory);

    internal static string SocketPath(string name, string directory) => Path.Combine(directory, ValidName(name) + ".sock");

    /// <summary>
    /// Takes the lock of a program's name in the endpoint directory, for starting an endpoint: between binding its socket
    /// and listening on it, a second start of the same name would find a socket nobody answers on and take it over. An
    /// advisory lock (flock) on <c>NAME.lock</c>, released when disposed; the file stays (removing it would race too).
    /// </summary>
    /// <exception cref="InvalidOperationException">Another start of the name held it for longer than <paramref name="timeout"/>.</exception>
    internal static FileStream LockName(string name, string directory, TimeSpan timeout)
    {
        var path = Path.Combine(directory, ValidName(name) + ".lock");
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
                if (!OperatingSystem.IsWindows())
                {
                    options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                }
                return new FileStream(path, options);
            }
            catch (IOException) when (DateTime.UtcNow < until)
            {
                Thread.Sleep(10); // Held by another start of the same name: it takes milliseconds.
            }
            catch (IOException e)
            {
                throw new InvalidOperationException($"A program named '{name}' is starting already (its lock {path} stayed held for {timeout.TotalSeconds:0} s).", e);
            }
        }
    }

    /// <summary>The description file beside a program's socket.</summary>
    public static string InfoPath(string name) => InfoPath(name, Directory);

    internal static string InfoPath(string name, string directory) => Path.Combine(directory, ValidName(name) + ".json");

    /// <summary>
    /// The programs with an endpoint here. An endpoint whose process is gone (it died without cleaning up) is
    /// removed on the way.
    /// </summary>
    public static IReadOnlyList<EndpointInfo> List() => List(Directory);

    /// <summary>The programs with an endpoint in the given directory (stale ones removed).</summary>
    internal static IReadOnlyList<EndpointInfo> List(string directory)
    {
        var found = new List<EndpointInfo>();
        foreach (var file in System.IO.Directory.EnumerateFiles(Prepare(directory), "*.json"))
        {
            EndpointInfo? info;
            try
            {
                info = JsonSerializer.Deserialize(File.ReadAllText(file), ControlJson.Default.EndpointInfo);
            }
            catch (Exception e) when (e is JsonException or IOException)
            {
                info = null;
            }
            var name = Path.GetFileNameWithoutExtension(file);
            // The process id alone could have been reused by another process since: the socket must answer too.
            if (info is null || !IsAlive(info.ProcessId) || !Answers(Path.ChangeExtension(file, ".sock")))
            {
                TryDelete(file);
                TryDelete(Path.ChangeExtension(file, ".sock"));
                continue;
            }
            found.Add(info with { Name = name });
        }
        return [.. found.OrderBy(i => i.Name, StringComparer.Ordinal)];
    }

    internal static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>
    /// Whether someone listens on a socket file: false only when it is missing or the connection is refused
    /// (nobody listens); a busy endpoint (no answer within a second) counts as alive.
    /// </summary>
    internal static bool Answers(string socketPath)
    {
        if (!File.Exists(socketPath))
        {
            return false;
        }
        using var probe = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try
        {
            probe.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(socketPath), timeout.Token).AsTask().GetAwaiter().GetResult();
            return true;
        }
        catch (System.Net.Sockets.SocketException e) when (e.SocketErrorCode is System.Net.Sockets.SocketError.ConnectionRefused)
        {
            return false;
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or OperationCanceledException)
        {
            return true;
        }
    }

    private static bool IsAlive(int processId)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static string ValidName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') || name.StartsWith('.'))
        {
            throw new ArgumentException($"'{name}' is not a valid program name: use letters, digits, '-', '_' and '.', at most 64.", nameof(name));
        }
        return name;
    }
}

/// <summary>A running program with a control endpoint.</summary>
/// <param name="Name">The program's name (its endpoint).</param>
/// <param name="ProcessId">The host process.</param>
/// <param name="ProgramPath">The main assembly of the version running now (the description is rewritten when an update or a rollback commits).</param>
/// <param name="StartedAt">When it started.</param>
public sealed record EndpointInfo(string Name, int ProcessId, string ProgramPath, DateTimeOffset StartedAt)
{
    /// <summary>The version running now (its informational version); null in a description written by an older Molt.</summary>
    public string? Version { get; init; }

    /// <summary>How many updates and rollbacks have committed since the program started: 0 for the version it started with.</summary>
    public int Generation { get; init; }
}
