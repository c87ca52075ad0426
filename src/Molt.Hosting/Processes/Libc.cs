using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Molt.Hosting.Processes;

/// <summary>
/// The few Linux system calls the hand-off needs and .NET does not expose (dotnet/runtime#932: no managed API passes a
/// descriptor). Layouts are those of 64-bit Linux (x64 and arm64 agree); <see cref="EnsureSupported"/> guards the rest.
/// </summary>
internal static class Libc
{
    public const int AfUnix = 1;
    public const int SockSeqpacket = 5;
    public const int SockCloexec = 0x80000;
    public const int SolSocket = 1;
    public const int ScmRights = 1;
    public const int SoType = 3;
    public const int SoDomain = 39;

    public const int MsgCtrunc = 0x8;
    public const int MsgTrunc = 0x20;
    public const int MsgDontwait = 0x40;
    public const int MsgNosignal = 0x4000;
    public const int MsgCmsgCloexec = 0x40000000;

    public const short PollIn = 0x1;
    public const short PollOut = 0x4;
    public const short PollErr = 0x8;
    public const short PollHup = 0x10;
    public const short PollNval = 0x20;

    public const int Eintr = 4;
    public const int Eagain = 11;
    public const int Epipe = 32;
    public const int Emsgsize = 90;
    public const int Econnreset = 104;

    /// <summary>The size of a <c>cmsghdr</c>; the descriptors follow it.</summary>
    public const int ControlHeaderBytes = 16;

    private const int FGetfd = 1;
    private const int FSetfd = 2;
    private const int FdCloexec = 1;

    /// <summary>Whether this is 64-bit Linux, the only platform whose layouts this file encodes.</summary>
    [SupportedOSPlatformGuard("linux")]
    public static bool IsSupported => OperatingSystem.IsLinux() && IntPtr.Size == 8;

    /// <summary>Throws unless <see cref="IsSupported"/>.</summary>
    public static void EnsureSupported()
    {
        if (!IsSupported)
        {
            throw NotSupported();
        }
    }

    /// <summary>What is said on any other platform.</summary>
    public static PlatformNotSupportedException NotSupported() => new("Passing descriptors between processes is implemented for 64-bit Linux only.");

    /// <summary>Whether a descriptor is closed when the process calls exec.</summary>
    public static bool IsCloseOnExec(int fd)
    {
        var flags = fcntl(fd, FGetfd, 0);
        return flags < 0 ? throw Failure($"reading the flags of descriptor {fd}") : (flags & FdCloexec) != 0;
    }

    /// <summary>Sets or clears <c>FD_CLOEXEC</c>: Molt holds every descriptor close-on-exec except the one a child must inherit.</summary>
    public static void SetCloseOnExec(int fd, bool closeOnExec)
    {
        var flags = fcntl(fd, FGetfd, 0);
        if (flags < 0 || fcntl(fd, FSetfd, closeOnExec ? flags | FdCloexec : flags & ~FdCloexec) < 0)
        {
            throw Failure($"setting close-on-exec {(closeOnExec ? "on" : "off")} for descriptor {fd}");
        }
    }

    /// <summary>An integer socket option (<c>SO_TYPE</c>, <c>SO_DOMAIN</c>), or -1 when the descriptor is not a socket.</summary>
    public static int SocketOption(int fd, int option)
    {
        var value = 0;
        var length = sizeof(int);
        return getsockopt(fd, SolSocket, option, ref value, ref length) == 0 ? value : -1;
    }

    /// <summary>The error of the last call, in words, with what was being done.</summary>
    public static IOException Failure(string doing)
    {
        var errno = Marshal.GetLastPInvokeError();
        return new IOException($"{doing} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
    }

    /// <summary><c>CLOCK_MONOTONIC</c> in microseconds, the clock systemd reads <c>MONOTONIC_USEC</c> against.</summary>
    public static long MonotonicMicroseconds()
    {
        if (clock_gettime(1, out var now) != 0)
        {
            throw Failure("reading CLOCK_MONOTONIC");
        }
        return now.Seconds * 1_000_000 + now.Nanoseconds / 1_000;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct MessageHeader
    {
        public nint Name;
        public uint NameLength;
        public nint Vectors;
        public nuint VectorCount;
        public nint Control;
        public nuint ControlLength;
        public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct IoVector
    {
        public nint Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct PollDescriptor
    {
        public int Fd;
        public short Events;
        public short ReturnedEvents;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", SetLastError = true)]
    public static extern int socketpair(int domain, int type, int protocol, [Out] int[] fds);

    [DllImport("libc", SetLastError = true)]
    public static extern nint sendmsg(int fd, ref MessageHeader message, int flags);

    [DllImport("libc", SetLastError = true)]
    public static extern nint recvmsg(int fd, ref MessageHeader message, int flags);

    [DllImport("libc", SetLastError = true)]
    public static extern int poll(ref PollDescriptor fds, nuint count, int timeoutMilliseconds);

    [DllImport("libc", SetLastError = true)]
    public static extern int close(int fd);

    public const int Sigkill = 9;
    public const int Sigterm = 15;

    [DllImport("libc", SetLastError = true)]
    public static extern int kill(int pid, int signal);

    /// <summary>Ends this process at once: no exit handler, no finalizer, no flush beyond what was written (see the process update's commit).</summary>
    [DllImport("libc")]
    public static extern void _exit(int status);

    // fcntl is variadic in C; its one int argument is passed as a fixed one is, on x64 and arm64 Linux alike.
    [DllImport("libc", SetLastError = true)]
    private static extern int fcntl(int fd, int command, int argument);

    [DllImport("libc", SetLastError = true)]
    private static extern int getsockopt(int fd, int level, int option, ref int value, ref int length);

    [DllImport("libc", SetLastError = true)]
    private static extern int clock_gettime(int clock, out TimeSpec time);
}
