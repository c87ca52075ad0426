using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Molt.Extensions.Hosting;

/// <summary>
/// The logging of Molt's Kestrel, which outlives the versions: each message goes to the logging of the version that runs
/// when it is written (its providers, its levels), looked up then, so that nothing here holds a version that has ended.
/// What Kestrel reports this way (an exception a request's pipeline did not handle, a bad request) is logged as a
/// standalone application's Kestrel would log it.
/// </summary>
internal sealed class RunningVersionLoggerFactory(Func<VersionPipeline?> running) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("Molt's Kestrel logs through the running version's logging.");

    public void Dispose()
    {
    }

    private ILogger Current(string category) =>
        running()?.Version.Container?.Provider.GetService<ILoggerFactory>()?.CreateLogger(category) ?? NullLogger.Instance;

    private sealed class Logger(RunningVersionLoggerFactory factory, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => factory.Current(category).BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => factory.Current(category).IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            factory.Current(category).Log(logLevel, eventId, state, exception, formatter);
    }
}
