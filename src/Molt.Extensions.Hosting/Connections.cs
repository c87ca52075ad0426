using System.Reflection;
using Microsoft.AspNetCore.Http;

namespace Molt.Extensions.Hosting;

/// <summary>Long-lived connections handed to units (<see cref="ConnectionUnit"/>).</summary>
internal static class Connections
{
    public static async Task RunAsync(HttpContext context, object state, MethodInfo turn)
    {
        Live.ValidateEntry(turn);
        var aborted = context.RequestAborted;
        try
        {
            while (!aborted.IsCancellationRequested)
            {
                if (!await ((Task<bool>)turn.Invoke(null, [state, aborted])!).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away.
        }
    }
}
