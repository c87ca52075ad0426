using Molt.Cli.Output;
using Molt.Hosting;
using Molt.Hosting.Control;

namespace Molt.Cli.Commands;

/// <summary>An update or rollback as the operator sees it: the phases as they arrive, the result, the exit code.</summary>
internal static class UpdateFlow
{
    public static async Task<int> RunAsync(string what, bool json, Func<IProgress<UpdateProgress>?, Task<UpdateSummary>> update)
    {
        if (!json)
        {
            Render.Starting(what);
        }
        var result = await update(json ? null : new InlineProgress()).ConfigureAwait(false);
        Render.Result(result, json);
        return ExitCode(result.Outcome);
    }

    /// <summary>The exit code of an update's outcome.</summary>
    public static int ExitCode(string outcome) => outcome switch
    {
        nameof(UpdateOutcome.Committed) => ExitCodes.Ok,
        nameof(UpdateOutcome.RolledBack) => ExitCodes.RolledBack,
        nameof(UpdateOutcome.Refused) => ExitCodes.Refused,
        _ => ExitCodes.Error,
    };

    /// <summary>Prints each phase as the client reads it off the channel (in order: the client reports inline).</summary>
    private sealed class InlineProgress : IProgress<UpdateProgress>
    {
        public void Report(UpdateProgress value) => Render.Phase(value);
    }
}
