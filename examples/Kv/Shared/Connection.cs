using System.Net.Sockets;
using System.Text;

namespace Kv;

/// <summary>
/// One client: its socket, the bytes it sent that are not yet a whole command (the parser's state), the replies
/// being written, and its per-connection settings (CLIENT SETNAME, SELECT, the protocol chosen with HELLO), the
/// transaction it is queueing and the keys it watches: all of it crosses every update with the connection.
/// </summary>
internal sealed class Connection(long id, Socket socket)
{
    /// <summary>The size a receive buffer starts with, and shrinks back to after a large command.</summary>
    public const int InitialBufferSize = 16 * 1024;

    /// <summary>The largest receive buffer: a command bigger than this is answered an error and the connection closed.</summary>
    public const int MaxBufferSize = 2 * RespParser.MaxBulkLength;

    /// <summary>The client id (CLIENT ID).</summary>
    public long Id { get; } = id;

    /// <summary>The client's socket.</summary>
    public Socket Socket { get; } = socket;

    /// <summary>Bytes received: <c>Received[0..ReceivedCount)</c>, whole commands not yet executed and a partial one.</summary>
    public byte[] Received = new byte[InitialBufferSize];

    /// <summary>How many bytes of <see cref="Received"/> are data.</summary>
    public int ReceivedCount;

    /// <summary>The replies to the current batch.</summary>
    public ReplyBuffer Output = new();

    /// <summary>The name set with CLIENT SETNAME, if any.</summary>
    public string? Name;

    /// <summary>The selected database (SELECT): 0 to 15 from release 7, always 0 before (SELECT accepts no other). The command loop selects it before each command.</summary>
    public int Db;

    /// <summary>The pop or move this client is blocked in (BLPOP, BRPOP, BLMPOP, BLMOVE, BRPOPLPUSH), null when none: the commands it sent after wait behind it.</summary>
    public BlockedPop? Blocked;

    /// <summary>The transaction opened with MULTI: the commands queued for EXEC; null outside MULTI.</summary>
    public Transaction? Transaction;

    /// <summary>The keys this client WATCHes, null when none; whether one was modified since is <see cref="WatchedKeyTouched"/>.</summary>
    public List<WatchedKey>? Watched;

    /// <summary>True once a key this client watches was modified: its next EXEC aborts (answers a null array).</summary>
    public bool WatchedKeyTouched;

    /// <summary>The protocol replies are written in, 2 or 3 (HELLO); kept by <see cref="Output"/>, which writes them.</summary>
    public int Protocol
    {
        get => Output.Protocol;
        set => Output.Protocol = value;
    }

    /// <summary>The arguments of the command being executed: positions and lengths in <see cref="Received"/>.</summary>
    public int[] ArgOffsets = new int[16];

    /// <summary>The length of each argument.</summary>
    public int[] ArgLengths = new int[16];

    /// <summary>How many arguments the command being executed has, its name included.</summary>
    public int ArgCount;

    /// <summary>Where the next bytes received go; the buffer grows when a command does not fit.</summary>
    public Memory<byte> FreeSpace => Received.AsMemory(ReceivedCount);

    /// <summary>Argument <paramref name="index"/> of the current command, as bytes.</summary>
    public ReadOnlySpan<byte> Arg(int index) => new(Received, ArgOffsets[index], ArgLengths[index]);

    /// <summary>Argument <paramref name="index"/> as a key: Latin-1, one char per byte, so binary keys round-trip.</summary>
    public string Key(int index) => Encoding.Latin1.GetString(Received, ArgOffsets[index], ArgLengths[index]);

    /// <summary>Argument <paramref name="index"/> as a value of its own.</summary>
    public byte[] Value(int index) => Arg(index).ToArray();

    /// <summary>Whether argument <paramref name="index"/> is <paramref name="word"/> (upper case ASCII), ignoring case.</summary>
    public bool Is(int index, string word)
    {
        var arg = Arg(index);
        if (arg.Length != word.Length)
        {
            return false;
        }
        for (var i = 0; i < arg.Length; i++)
        {
            var b = arg[i];
            if ((b is >= (byte)'a' and <= (byte)'z' ? b - 32 : b) != word[i])
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Drops the bytes of the commands executed; lets a grown buffer go once it is empty.</summary>
    public void Consumed(int count)
    {
        ReceivedCount -= count;
        if (ReceivedCount > 0 && count > 0)
        {
            Buffer.BlockCopy(Received, count, Received, 0, ReceivedCount);
        }
        else if (ReceivedCount == 0 && Received.Length > 1024 * 1024)
        {
            Received = new byte[InitialBufferSize];
        }
    }

    /// <summary>Makes room to receive: doubles a full buffer; false when it may not grow any more.</summary>
    public bool MakeRoom()
    {
        if (ReceivedCount < Received.Length)
        {
            return true;
        }
        if (Received.Length >= MaxBufferSize)
        {
            return false;
        }
        Array.Resize(ref Received, Math.Min(MaxBufferSize, Received.Length * 2));
        return true;
    }
}
