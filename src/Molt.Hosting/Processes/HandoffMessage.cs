using System.Net.Sockets;

namespace Molt.Hosting.Processes;

/// <summary>
/// One message received over a <see cref="HandoffChannel"/>: its bytes and the descriptors that came with it, owned by
/// this message (close-on-exec) until taken. Disposing closes every descriptor not taken, so none leaks.
/// </summary>
internal sealed class HandoffMessage : IDisposable
{
    private readonly int[] _descriptors;

    public HandoffMessage(byte[] payload, int[] descriptors)
    {
        Payload = payload;
        _descriptors = descriptors;
    }

    /// <summary>The message's bytes, as sent.</summary>
    public byte[] Payload { get; }

    /// <summary>How many descriptors came with the message, in the order they were sent.</summary>
    public int DescriptorCount => _descriptors.Length;

    /// <summary>
    /// Adopts descriptor <paramref name="index"/> as a socket (listening or connected, any family): the same kernel
    /// socket as the sender's, so bytes the sender did not read are read here. The socket owns the descriptor.
    /// </summary>
    /// <exception cref="InvalidOperationException">The descriptor was already taken.</exception>
    public Socket TakeSocket(int index)
    {
        var fd = Take(index);
        var handle = new SafeSocketHandle(fd, ownsHandle: true);
        try
        {
            return new Socket(handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Adopts descriptor <paramref name="index"/> as a hand-off channel (a Unix <c>SOCK_SEQPACKET</c> socket).</summary>
    public HandoffChannel TakeChannel(int index) => HandoffChannel.Adopt(Take(index));

    /// <summary>Closes every descriptor not taken.</summary>
    public void Dispose()
    {
        for (var i = 0; i < _descriptors.Length; i++)
        {
            if (_descriptors[i] >= 0)
            {
                Libc.close(_descriptors[i]);
                _descriptors[i] = -1;
            }
        }
    }

    private int Take(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _descriptors.Length);
        var fd = _descriptors[index];
        if (fd < 0)
        {
            throw new InvalidOperationException($"Descriptor {index} of the message was already taken or closed.");
        }
        _descriptors[index] = -1;
        return fd;
    }
}
