using System.Runtime.InteropServices;

namespace Molt;

// A standalone program's lifetime: <c>Live.RunAsync</c> waits for the units, and Ctrl-C or SIGTERM stops them.
internal sealed partial class ProgramSession
{
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (IsHosted)
        {
            return;
        }
        Task ended;
        lock (_lock)
        {
            if (_allEnded is null || _allEnded.Task.IsCompleted && _current.Count > 0)
            {
                // A new wait when units were started again after the last one ended.
                _allEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            if (_current.Count == 0)
            {
                _allEnded.TrySetResult();
            }
            ended = _allEnded.Task;
        }
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);
        try
        {
            await ended.WaitAsync(stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await StopAsync(TimeSpan.FromSeconds(10), TimeProvider.System).ConfigureAwait(false);
        }

        void Cancel(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }
    }
}
