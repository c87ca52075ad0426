using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;

namespace Molt.Extensions.Hosting;

/// <summary>One version's request pipeline (its middleware, endpoints, container scopes), and how many of its requests are in flight.</summary>
internal abstract class VersionPipeline(HostedApplication version)
{
    private int _inFlight;
    private TaskCompletionSource? _drained;

    public HostedApplication Version { get; } = version;

    public abstract object CreateContext(IFeatureCollection features);

    public abstract Task ProcessRequestAsync(object context);

    public abstract void DisposeContext(object context, Exception? exception);

    public void Enter() => Interlocked.Increment(ref _inFlight);

    public void Exit()
    {
        if (Interlocked.Decrement(ref _inFlight) == 0)
        {
            Volatile.Read(ref _drained)?.TrySetResult();
        }
    }

    /// <summary>Completes when no request of this version is in flight (a handed-off connection is not: it is a unit's).</summary>
    public Task DrainedAsync()
    {
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _drained, drained);
        if (Volatile.Read(ref _inFlight) == 0)
        {
            drained.TrySetResult();
        }
        return drained.Task;
    }
}

internal sealed class VersionPipeline<TContext>(HostedApplication version, IHttpApplication<TContext> application) : VersionPipeline(version)
    where TContext : notnull
{
    public override object CreateContext(IFeatureCollection features) => application.CreateContext(features);

    public override Task ProcessRequestAsync(object context) => application.ProcessRequestAsync((TContext)context);

    public override void DisposeContext(object context, Exception? exception) => application.DisposeContext((TContext)context, exception);
}
