using System.Net;
using System.Net.Sockets;
using System.Text;
using Molt.Hosting.Processes;

// The other process of the hand-off tests. Every wait is bounded: the whole run by 30 s (exit 4).
//   serve           Takes the hand-off channel it inherited, receives [listening socket, connected socket], answers
//                   "adopted <pid> <sockets held at start> <channel close-on-exec at start>
//                   <close-on-exec of channel,listener,connection after adoption> <variable still set>",
//                   notifies $NOTIFY_SOCKET (MAINPID + READY), accepts one client on the listener and serves both
//                   connections ("<pid> <client port> <line>" per line) until their clients close; then answers "done".
//   connect <path>  Connects to a path-based hand-off channel, prints "connected", waits for a message: answers
//                   "hello from <pid>" and exits 0, or exits 3 when the channel is closed on it (refused).
var pid = Environment.ProcessId;
var patience = TimeSpan.FromSeconds(10);
using var run = new CancellationTokenSource(TimeSpan.FromSeconds(30));
try
{
    switch (args)
    {
        case ["serve"]:
            return await ServeAsync();
        case ["connect", var path]:
            return Connect(path);
        default:
            Console.Error.WriteLine("usage: Molt.Handoff.Child serve | connect <path>");
            return 2;
    }
}
catch (OperationCanceledException) when (run.IsCancellationRequested)
{
    Console.Error.WriteLine("gave up after 30 s");
    return 4;
}

async Task<int> ServeAsync()
{
    // Which sockets this process holds before taking anything: only the inherited channel end should be among them.
    var socketsAtStart = SocketInodes();
    var channelFd = int.Parse(Environment.GetEnvironmentVariable(HandoffChannel.DescriptorVariable) ?? "-1");
    var inheritedCloseOnExec = IsCloseOnExec(channelFd);
    using var channel = HandoffChannel.FromEnvironment() ?? throw new InvalidOperationException("started without a hand-off channel");
    var variableLeft = Environment.GetEnvironmentVariable(HandoffChannel.DescriptorVariable) is not null;
    using var message = channel.Receive(patience, run.Token);
    using var listener = message.TakeSocket(0);
    var connection = message.TakeSocket(1);
    var closeOnExec = new[] { channelFd, (int)listener.Handle, (int)connection.Handle }.Select(IsCloseOnExec);
    channel.Send(Encoding.UTF8.GetBytes(
        $"adopted {pid} {string.Join(',', socketsAtStart)} {inheritedCloseOnExec} {string.Join(',', closeOnExec)} {variableLeft}"), patience, run.Token);
    using (var notifier = SystemdNotifier.FromEnvironment())
    {
        notifier.Ready(pid);
    }
    var accepted = await listener.AcceptAsync(run.Token);
    await Task.WhenAll(ServeClientAsync(connection), ServeClientAsync(accepted));
    channel.Send("done"u8, patience, run.Token);
    return 0;
}

async Task ServeClientAsync(Socket socket)
{
    await using var stream = new NetworkStream(socket, ownsSocket: true);
    using var reader = new StreamReader(stream, Encoding.ASCII);
    var port = ((IPEndPoint)socket.RemoteEndPoint!).Port;
    for (var lines = 0; lines < 1000 && await reader.ReadLineAsync(run.Token) is { } line; lines++)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"{pid} {port} {line}\n"), run.Token);
    }
}

int Connect(string path)
{
    using var channel = HandoffChannel.Connect(path);
    Console.WriteLine("connected");
    try
    {
        using var message = channel.Receive(patience, run.Token);
        channel.Send(Encoding.UTF8.GetBytes($"hello from {pid}"), patience, run.Token);
        return 0;
    }
    catch (HandoffException e)
    {
        Console.WriteLine($"refused: {e.Message}");
        return 3;
    }
}

static List<string> SocketInodes() =>
    [.. Directory.GetFiles("/proc/self/fd").Select(fd => new FileInfo(fd).LinkTarget).OfType<string>().Where(t => t.StartsWith("socket:", StringComparison.Ordinal))];

static bool IsCloseOnExec(int fd) =>
    fd >= 0 && File.ReadAllLines($"/proc/self/fdinfo/{fd}").First(l => l.StartsWith("flags:", StringComparison.Ordinal)) is var flags &&
    (Convert.ToInt32(flags["flags:".Length..].Trim(), 8) & 0x80000) != 0; // O_CLOEXEC as fdinfo shows it
