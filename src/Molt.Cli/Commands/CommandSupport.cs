using System.CommandLine;
using System.Globalization;
using Molt.Cli.Output;
using Molt.Hosting.Control;

namespace Molt.Cli.Commands;

/// <summary>What the commands share: common options, and the mapping of failures to exit codes.</summary>
internal static class CommandSupport
{
    /// <summary>The program's name, as <c>molt run --name</c> gave it (see <c>molt list</c>).</summary>
    public static Argument<string> NameArgument() => new("name") { Description = "The running program's name (see 'molt list')." };

    /// <summary>Output as JSON for scripts.</summary>
    public static Option<bool> JsonOption() => new("--json") { Description = "Print the result as JSON (for scripts)." };

    /// <summary>The quiescence deadline of an update.</summary>
    public static Option<TimeSpan?> TimeoutOption() => DurationOption("--timeout",
        "How long the program's units have to reach an update point (e.g. 5s, 500ms, 2m; a bare number is seconds). Default: the host's (5 s).", "-t");

    /// <summary>An option that takes a duration: 5s, 500ms, 2m, or a bare number of seconds.</summary>
    public static Option<TimeSpan?> DurationOption(string name, string description, params string[] aliases) => new(name, aliases)
    {
        Description = description,
        CustomParser = result =>
        {
            var text = result.Tokens.Single().Value;
            if (TryParseDuration(text, out var value))
            {
                return value;
            }
            result.AddError($"'{text}' is not a duration for {name}: use e.g. 5s, 500ms, 2m or a number of seconds (more than 0, at most 49 days).");
            return null;
        },
    };

    /// <summary>
    /// Runs a command's body and turns its failures into the documented exit codes: unreachable 4, refused 3,
    /// usage and anything else 1.
    /// </summary>
    public static async Task<int> GuardAsync(Func<Task<int>> body, bool json = false)
    {
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (ProgramUnreachableException e)
        {
            return Render.Error(e.Message, ExitCodes.Unreachable, json);
        }
        catch (ControlRequestRefusedException e)
        {
            return Render.Error($"the program refused: {e.Message}", ExitCodes.Refused, json);
        }
        catch (Exception e) when (e is UsageException or ArgumentException)
        {
            return Render.Error(e.Message, ExitCodes.Error, json);
        }
        catch (OperationCanceledException)
        {
            return Render.Error("cancelled", ExitCodes.Error, json);
        }
#pragma warning disable CA1031 // The command line's last resort: say what went wrong, exit 1.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return Render.Error($"{e.GetType().Name}: {e.Message}", ExitCodes.Error, json);
        }
    }

    /// <summary>Parses 5s, 500ms, 2m, 1.5 (seconds).</summary>
    public static bool TryParseDuration(string text, out TimeSpan value)
    {
        var (number, scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.OrdinalIgnoreCase) => (text[..^2], 0.001),
            _ when text.EndsWith('s') || text.EndsWith('S') => (text[..^1], 1.0),
            _ when text.EndsWith('m') || text.EndsWith('M') => (text[..^1], 60.0),
            _ => (text, 1.0),
        };
        // At most what the host's timers reach (uint.MaxValue - 1 ms, about 49.7 days).
        if (double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) && amount > 0 && amount * scale * 1000 <= uint.MaxValue - 1)
        {
            value = TimeSpan.FromSeconds(amount * scale);
            return true;
        }
        value = default;
        return false;
    }
}
