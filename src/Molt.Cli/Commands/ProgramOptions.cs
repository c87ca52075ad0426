using System.CommandLine;
using System.Globalization;
using Molt.Hosting;

namespace Molt.Cli.Commands;

/// <summary>The options a program runs with, shared by <c>molt run</c> and the program process it starts (<c>molt serve</c>).</summary>
internal sealed class ProgramOptions
{
    public Argument<string> Program { get; } = new("program") { Description = "The program: its main assembly (.dll) or its project folder (built in Release)." };
    public Option<string?> Name { get; } = new("--name", "-n") { Description = "The name to control it by (default: the assembly's name)." };
    public Option<bool> KeepOldCode { get; } = new("--keep-old-code")
    {
        Description = "Keep each version's code loaded after an in-process update (its memory is never returned) so that the runtime tiers it " +
            "as it does a standalone program's; the old version's state is still released. Default: unload it (code in a collectible context is not tiered).",
    };
    public Option<bool> NoSharedLibraries { get; } = new("--no-shared-libraries")
    {
        Description = "Load each version's own copy of the program's libraries. Default: a library that two versions ship in the same build is " +
            "loaded once and shared, and its objects pass by reference at an update instead of being rebuilt.",
    };
    public Option<TimeSpan?> QuiesceTimeout { get; } = CommandSupport.DurationOption("--quiesce-timeout",
        "How long the units have to reach an update point at each update, unless 'molt update --timeout' says otherwise (default 5s).");
    public Option<TimeSpan?> RestartTimeout { get; } = CommandSupport.DurationOption("--restart-timeout",
        "How long a new version's start-up and units have to reach their first update point before the update rolls back; across processes, also each step of the new process (default 10s).");
    public Option<TimeSpan?> StopTimeout { get; } = CommandSupport.DurationOption("--stop-timeout",
        "How long the units have to end when the program is stopped (default 10s).");
    public Argument<string[]> ProgramArgs { get; } = new("program-args") { Description = "Arguments for the program, after '--'.", Arity = ArgumentArity.ZeroOrMore };

    public void AddTo(Command command)
    {
        command.Add(Program);
        command.Add(Name);
        command.Add(KeepOldCode);
        command.Add(NoSharedLibraries);
        command.Add(QuiesceTimeout);
        command.Add(RestartTimeout);
        command.Add(StopTimeout);
        command.Add(ProgramArgs);
    }

    public MoltHostOptions HostOptions(ParseResult parse)
    {
        var options = new MoltHostOptions { UnloadOldCode = !parse.GetValue(KeepOldCode), ShareLibraries = !parse.GetValue(NoSharedLibraries) };
        options.QuiesceTimeout = parse.GetValue(QuiesceTimeout) ?? options.QuiesceTimeout;
        options.RestartTimeout = parse.GetValue(RestartTimeout) ?? options.RestartTimeout;
        options.StopTimeout = parse.GetValue(StopTimeout) ?? options.StopTimeout;
        return options;
    }

    /// <summary>The <c>serve</c> arguments that run <paramref name="programPath"/> with these options, named <paramref name="name"/>.</summary>
    public static List<string> ServeArguments(string programPath, string name, MoltHostOptions options, IReadOnlyList<string> programArgs, bool successor)
    {
        List<string> arguments = [programPath, "--name", name];
        if (successor)
        {
            arguments.Add("--successor");
        }
        if (!options.UnloadOldCode)
        {
            arguments.Add("--keep-old-code");
        }
        if (!options.ShareLibraries)
        {
            arguments.Add("--no-shared-libraries");
        }
        arguments.AddRange(["--quiesce-timeout", Ms(options.QuiesceTimeout), "--restart-timeout", Ms(options.RestartTimeout), "--stop-timeout", Ms(options.StopTimeout)]);
        arguments.Add("--");
        arguments.AddRange(programArgs);
        return arguments;

        static string Ms(TimeSpan t) => ((long)Math.Ceiling(t.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture) + "ms";
    }
}
