using Xunit;
using static Molt.Hosting.Tests.Transfer.TransferTestKit;

namespace Molt.Hosting.Tests.Transfer.Stream;

/// <summary>
/// A <see cref="System.Threading.Lock"/> in the state: once two threads have met on it, it holds a wait event (a handle of
/// this process), which the stream refuses. It crosses as a new, unheld Lock with its identity kept (kv's Store.Gate: every
/// process update of kv under load was refused before).
/// </summary>
public class StateStreamLockTests
{
    private const string Source = """
        public static partial class Program
        {
            public static Lock Gate = new();
            public static object Same;
            public static bool Contended;
            public static void Init()
            {
                Same = Gate;
                // A thread holds the lock while this one waits for it: the lock makes its wait event.
                using var held = new ManualResetEventSlim();
                var owner = new Thread(() => { lock (Gate) { held.Set(); Thread.Sleep(300); } });
                owner.Start();
                held.Wait();
                lock (Gate) { }
                owner.Join();
                Contended = typeof(Lock).GetField("_waitEvent", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)!.GetValue(Gate) is not null;
            }
            public static string Report()
            {
                var entered = Gate.TryEnter();
                if (entered) { Gate.Exit(); }
                return $"contended {Contended}, same object {ReferenceEquals(Same, Gate)}, free {entered}";
            }
        }

        """;

    [Fact]
    public async Task AContendedLock_CrossesTheStream_AsAFreeLockWithItsIdentity()
    {
        await using var host = await MoltHost.StartAsync(TestPrograms.Build("stream-lock", "v1", Program(Source)));
        Assert.Equal("contended True, same object True, free True", Report(host));

        var result = await host.UpdateAsync(TestPrograms.Build("stream-lock", "v2", Program(Source + "public static partial class Program { public static int V2; }\n")),
            new UpdateOptions { ThroughStream = true });

        AssertCommitted(result);
        Assert.Equal("contended True, same object True, free True", Report(host));
    }
}
