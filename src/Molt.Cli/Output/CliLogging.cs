using Microsoft.Extensions.Logging;

namespace Molt.Cli.Output;

/// <summary>
/// Molt's own log lines: one line each, timestamped, with the process that wrote it (the supervisor and the program's
/// processes share one stderr: during a process update the old and the new process log side by side), to stderr
/// (stdout is the program's).
/// </summary>
internal static class CliLogging
{
    public static ILoggerFactory Create() => LoggerFactory.Create(logging => logging
        .SetMinimumLevel(LogLevel.Information)
        .AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = $"HH:mm:ss '[{Environment.ProcessId}]' ";
            o.ColorBehavior = Console.IsErrorRedirected ? Microsoft.Extensions.Logging.Console.LoggerColorBehavior.Disabled : Microsoft.Extensions.Logging.Console.LoggerColorBehavior.Default;
        })
        .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
}
