using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace Molt.Hosting.Processes;

/// <summary>
/// The end of a hand-off socket pair that one child process is to inherit. It stays close-on-exec until
/// <see cref="Start"/>, which clears that flag only for the child's start and then closes this process's copy: from
/// then on only the child holds it, and nobody else can connect to a socket pair.
/// </summary>
internal sealed class HandoffChildEnd : IDisposable
{
    // Molt's own starts are serialized so that no other child of Molt inherits the end by accident. A process the
    // program starts in the same microseconds could still inherit it (.NET has no per-start descriptor list).
    private static readonly Lock InheritLock = new();

    private readonly SafeSocketHandle _handle;

    internal HandoffChildEnd(int fd) => _handle = new SafeSocketHandle(fd, ownsHandle: true);

    /// <summary>
    /// Starts the child with this end inherited, its number in <see cref="HandoffChannel.DescriptorVariable"/>; then
    /// closes this process's copy, whether or not the start succeeded. The child takes it with
    /// <see cref="HandoffChannel.FromEnvironment()"/>.
    /// </summary>
    public Process Start(ProcessStartInfo start) => StartWith(start, [(this, HandoffChannel.DescriptorVariable)]);

    /// <summary>
    /// Starts a child that inherits several ends, each named by its variable; then closes this process's copies of all of
    /// them, whether or not the start succeeded.
    /// </summary>
    public static Process StartWith(ProcessStartInfo start, IReadOnlyList<(HandoffChildEnd End, string Variable)> ends)
    {
        foreach (var (end, variable) in ends)
        {
            ObjectDisposedException.ThrowIf(end._handle.IsClosed, end);
            start.Environment[variable] = end.Descriptor.ToString(CultureInfo.InvariantCulture);
        }
        lock (InheritLock)
        {
            try
            {
                foreach (var (end, _) in ends)
                {
                    Libc.SetCloseOnExec(end.Descriptor, false);
                }
                return Process.Start(start) ?? throw new InvalidOperationException($"{start.FileName} was not started.");
            }
            finally
            {
                foreach (var (end, _) in ends)
                {
                    end.Dispose();
                }
            }
        }
    }

    private int Descriptor => (int)_handle.DangerousGetHandle();

    /// <summary>Closes this process's copy of the end.</summary>
    public void Dispose() => _handle.Dispose();
}
