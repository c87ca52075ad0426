using System.Net;
using Microsoft.AspNetCore.Connections;

namespace Molt.Extensions.Hosting;

/// <summary>
/// Kestrel's socket transport, whose accepting can be paused: during a process update the old process stops taking new
/// connections, which wait in the listening socket's backlog for the new process (the listening socket is shared).
/// </summary>
internal sealed class PausableTransport(IConnectionListenerFactory inner) : IConnectionListenerFactory
{
    private readonly object _lock = new();
    private TaskCompletionSource? _paused;

    public void Pause()
    {
        lock (_lock)
        {
            _paused ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    public void Resume()
    {
        TaskCompletionSource? paused;
        lock (_lock)
        {
            paused = _paused;
            _paused = null;
        }
        paused?.TrySetResult();
    }

    public async ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default) =>
        new Listener(this, await inner.BindAsync(endpoint, cancellationToken).ConfigureAwait(false));

    private Task WhilePaused()
    {
        lock (_lock)
        {
            return _paused?.Task ?? Task.CompletedTask;
        }
    }

    private sealed class Listener(PausableTransport transport, IConnectionListener inner) : IConnectionListener
    {
        public EndPoint EndPoint => inner.EndPoint;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            await transport.WhilePaused().WaitAsync(cancellationToken).ConfigureAwait(false);
            return await inner.AcceptAsync(cancellationToken).ConfigureAwait(false);
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default) => inner.UnbindAsync(cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
