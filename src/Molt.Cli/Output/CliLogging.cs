using Microsoft.Extensions.Logging;

namespace Molt.Cli.Output;

/// <summary>Molt's own log lines: one line each, timestamped, to stderr (stdout is the program's).</summary>
internal static class CliLogging
{
    public static ILoggerFactory Create() => LoggerFactory.Create(logging => logging
        .SetMinimumLevel(LogLevel.Information)
        .AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
            o.ColorBehavior = Console.IsErrorRedirected ? Microsoft.Extensions.Logging.Console.LoggerColorBehavior.Disabled : Microsoft.Extensions.Logging.Console.LoggerColorBehavior.Default;
        })
        .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
}
