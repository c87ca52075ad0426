namespace Molt.Tests;

/// <summary>
/// Stopping a program that runs on its own: <see cref="Live.RunAsync"/> cancelled (as by Ctrl-C) ends every unit
/// at its update point by exception, so finally blocks run; and once every unit has ended, update points anywhere
/// in the process are back to their fast path.
/// </summary>
/// <remarks>
/// Each test runs its program in a session of its own (the process's standalone session cannot be stopped
/// without stopping every other test's units).
/// </remarks>
[Collection(nameof(ProgramSession.PendingSessions))]
public class StoppingTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    public sealed class Probe
    {
        public readonly TaskCompletionSource Started = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public volatile bool FinallyRan;
        public volatile string? EndedBy;
    }

    private static async Task Wait(Probe p)
    {
        try
        {
            p.Started.TrySetResult();
            while (true)
            {
                await Live.UpdatePointAsync("wait");
                try
                {
                    await Task.Delay(Timeout.Infinite, Live.UpdateRequested);
                }
                catch (OperationCanceledException)
                {
                    // Woken: go to the update point.
                }
            }
        }
        catch (UnitRetiredException e)
        {
            p.EndedBy = e.GetType().Name;
            throw;
        }
        finally
        {
            p.FinallyRan = true;
        }
    }

    private static void Work(Probe p)
    {
        try
        {
            p.Started.TrySetResult();
            for (var i = 0; i < 100_000; i++)
            {
                Live.UpdatePoint("work");
                Live.UpdateRequested.WaitHandle.WaitOne(2);
            }
        }
        catch (UnitRetiredException e)
        {
            p.EndedBy = e.GetType().Name;
            throw;
        }
        finally
        {
            p.FinallyRan = true;
        }
    }

    [Fact]
    public async Task RunAsyncCancelled_EndsEveryUnitByExceptionAtItsUpdatePoint_AndReleasesTheFastPath()
    {
        var session = new ProgramSession(isHosted: false);
        Live.CurrentScope.Value = new LiveScope(session, unit: null, isStartingUpdate: false, epoch: 0);
        var task = new Probe();
        var thread = new Probe();
        Live.StartUnit("wait", task, Wait);
        Live.StartThreadUnit("work", thread, Work);
        await task.Started.Task.WaitAsync(Patience);
        await thread.Started.Task.WaitAsync(Patience);
        using var stop = new CancellationTokenSource();
        var running = Live.RunAsync(stop.Token);
        Assert.False(running.IsCompleted);

        await stop.CancelAsync();
        await running.WaitAsync(Patience);

        Assert.True(task.FinallyRan);
        Assert.True(thread.FinallyRan);
        Assert.Equal(nameof(UnitRetiredException), task.EndedBy);
        Assert.Equal(nameof(UnitRetiredException), thread.EndedBy);
        Assert.Empty(session.DescribeUnits());
        Assert.Throws<InvalidOperationException>(() => Live.StartUnit("late", new Probe(), Wait));
        // The stopped program has no unit left that needs the slow path: update points cost one read again.
        Assert.Equal(0, Volatile.Read(ref ProgramSession.PendingSessions));
    }
}
