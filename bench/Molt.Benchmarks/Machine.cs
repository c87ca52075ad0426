using System.Runtime;
using System.Runtime.InteropServices;

namespace Molt.Benchmarks;

/// <summary>What the numbers were measured on.</summary>
internal static class Machine
{
    public static void Print()
    {
        Console.WriteLine($"{RuntimeInformation.FrameworkDescription} on {RuntimeInformation.OSDescription} {RuntimeInformation.ProcessArchitecture}, " +
            $"{Environment.ProcessorCount} cores, {(GCSettings.IsServerGC ? "server" : "workstation")} GC" +
            $"{(GCSettings.LatencyMode == GCLatencyMode.Interactive ? " (concurrent)" : "")}");
        Console.WriteLine();
    }
}
