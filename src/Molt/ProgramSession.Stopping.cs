namespace Molt;

// Stopping: every unit leaves its next update point by exception, so its finally blocks run.
internal sealed partial class ProgramSession
{
    /// <summary>Ends every unit: each leaves its next update point by exception, so its finally blocks run.</summary>
    /// <returns>True when every unit ended before the deadline.</returns>
    public async Task<bool> StopAsync(TimeSpan deadline, TimeProvider time)
    {
        CancellationTokenSource wake;
        Task ended;
        lock (_lock)
        {
            _pending = Pending.Stop;
            UpdateCountLocked();
            _allEnded ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_current.Count == 0 && _incoming is null)
            {
                _allEnded.TrySetResult();
            }
            ended = _allEnded.Task;
            wake = _wake;
            foreach (var unit in _current.Values.ToList())
            {
                if (unit.Status == UnitStatus.Parked)
                {
                    ReleaseLocked(unit, ParkDecision.Stop);
                    unit.Status = UnitStatus.Ended;
                }
            }
        }
        CancelQuietly(wake);
        using var timeout = new CancellationTokenSource(deadline, time);
        try
        {
            await ended.WaitAsync(timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
