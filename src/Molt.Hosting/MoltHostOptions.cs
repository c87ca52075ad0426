using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Molt.Hosting;

/// <summary>Options of a <see cref="MoltHost"/>.</summary>
public sealed class MoltHostOptions
{
    /// <summary>
    /// How long every unit has to reach an update point once an update is requested. Past it the update is
    /// cancelled and the units go on in the old version. Default: 5 seconds.
    /// </summary>
    public TimeSpan QuiesceTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long the new version's start-up and its units have to reach their first update point. Past it
    /// the update rolls back. Default: 10 seconds.
    /// </summary>
    public TimeSpan RestartTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long the units have to end when the host stops. Default: 10 seconds.</summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Whether to JIT-compile the new version's code before the pause. Default: true.</summary>
    public bool PrepareCode { get; set; } = true;

    /// <summary>Whether to wait for the old version's context to be collected before an update returns. Default: true.</summary>
    public bool VerifyUnload { get; set; } = true;

    /// <summary>The clock for deadlines. Default: <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Where the host logs. Default: nowhere.</summary>
    public ILoggerFactory LoggerFactory { get; set; } = NullLoggerFactory.Instance;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(QuiesceTimeout, TimeSpan.Zero, nameof(QuiesceTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(RestartTimeout, TimeSpan.Zero, nameof(RestartTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(StopTimeout, TimeSpan.Zero, nameof(StopTimeout));
        ArgumentNullException.ThrowIfNull(TimeProvider);
        ArgumentNullException.ThrowIfNull(LoggerFactory);
    }
}
