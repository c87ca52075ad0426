using System.Text;

namespace Kv;

/// <summary>
/// The commands: parsed from a connection's buffer, executed under the store's lock, answered into its output. This
/// part, the same in every release, runs a batch of received commands; each release's command table (its
/// <c>CommandTable.cs</c>) says which method runs which command.
/// </summary>
internal static partial class Commands
{
    private const string SyntaxError = "ERR syntax error";
    private const string NotInteger = "ERR value is not an integer or out of range";

    /// <summary>The release, as INFO's <c>kv_version</c> tells clients.</summary>
    private static int ReleaseNumber => typeof(Commands).Assembly.GetName().Version!.Major;

    /// <summary>
    /// Executes every whole command received, in order, appending the replies; the bytes of a partial command
    /// stay. False when the connection is to be closed (QUIT, a protocol error).
    /// </summary>
    public static bool ExecuteAll(Connection c)
    {
        var position = 0;
        var keepOpen = true;
        lock (Store.Gate)
        {
            var now = Clock.NowMs;
            while (position < c.ReceivedCount)
            {
                var status = RespParser.TryParse(c.Received, position, c.ReceivedCount, ref c.ArgOffsets, ref c.ArgLengths,
                    out var count, out var next, out var error);
                if (status == ParseStatus.Incomplete)
                {
                    break;
                }
                if (status == ParseStatus.Error)
                {
                    c.Output.Error(error!);
                    position = c.ReceivedCount;
                    keepOpen = false;
                    break;
                }
                position = next;
                if (count == 0)
                {
                    continue;
                }
                c.ArgCount = count;
                if (!Execute(c, now))
                {
                    position = c.ReceivedCount;
                    keepOpen = false;
                    break;
                }
            }
        }
        c.Consumed(position);
        return keepOpen;
    }

    /// <summary>Checks the argument count as Redis declares it: exactly <paramref name="arity"/>, or at least -arity when negative.</summary>
    private static bool Arity(Connection c, int arity, string name)
    {
        if (arity >= 0 ? c.ArgCount == arity : c.ArgCount >= -arity)
        {
            return true;
        }
        c.Output.Error($"ERR wrong number of arguments for '{name}' command");
        return false;
    }

    private static void Unknown(Connection c)
    {
        var message = new StringBuilder("ERR unknown command '").Append(Printable(c.Arg(0))).Append("', with args beginning with: ");
        for (var i = 1; i < c.ArgCount && message.Length < 256; i++)
        {
            message.Append('\'').Append(Printable(c.Arg(i))).Append("' ");
        }
        c.Output.Error(message.ToString());
    }

    /// <summary>An argument as error text: at most 128 bytes, with no line end to break the reply.</summary>
    private static string Printable(ReadOnlySpan<byte> bytes) =>
        Encoding.Latin1.GetString(bytes[..Math.Min(bytes.Length, 128)]).Replace('\r', ' ').Replace('\n', ' ');
}
