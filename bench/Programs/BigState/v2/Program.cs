// BigState v2: v1 with one field added to Entry (Version, initialized to 2), and Describe() to read the
// migrated state back. The program the transfer benchmarks update. It holds either program-typed objects
// (Entries) or plain byte arrays (Blobs), and runs one unit that reaches an update point every 10 ms.
// Started with "objects N" it fills N entries; with "bytes MiB" it fills MiB one-MiB arrays.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Molt;

public sealed class Entry
{
    public long Id;
    public int Count;
    public string Name;
    public byte[] Data;
    public int Version = 2;
}

public sealed class Ticker
{
    public long Ticks;
}

public static class Program
{
    public static Dictionary<string, Entry> Entries = new();
    public static Dictionary<string, byte[]> Blobs = new();

    public static async Task Main(string[] args)
    {
        if (!Live.IsUpdating && args.Length == 2)
        {
            var n = int.Parse(args[1]);
            if (args[0] == "objects")
            {
                Entries = Fill(n);
            }
            else if (args[0] == "bytes")
            {
                Blobs = FillBytes(n);
            }
        }
        Live.StartUnit("ticker", new Ticker(), Tick);
        await Live.RunAsync();
    }

    public static async Task Tick(Ticker ticker)
    {
        while (true)
        {
            await Live.UpdatePointAsync("tick");
            ticker.Ticks++;
            try
            {
                await Task.Delay(10, Live.UpdateRequested);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    public static Dictionary<string, Entry> Fill(int n)
    {
        var entries = new Dictionary<string, Entry>();
        for (var i = 0; i < n; i++)
        {
            var data = new byte[16];
            data[0] = (byte)i;
            entries.Add("key" + i, new Entry { Id = i, Count = i % 1000, Name = "name" + i, Data = data });
        }
        return entries;
    }

    public static Dictionary<string, byte[]> FillBytes(int mebibytes)
    {
        var blobs = new Dictionary<string, byte[]>();
        for (var i = 0; i < mebibytes; i++)
        {
            var blob = GC.AllocateUninitializedArray<byte>(1 << 20);
            Array.Fill(blob, (byte)i);
            blobs.Add("blob" + i, blob);
        }
        return blobs;
    }

    public static string Describe()
    {
        long bytes = 0;
        foreach (var blob in Blobs.Values)
        {
            bytes += blob.Length;
        }
        var versions = 0;
        foreach (var e in Entries.Values)
        {
            versions += e.Version == 2 ? 1 : 0;
        }
        return $"v2 {Entries.Count} entries ({versions} with Version 2), {Blobs.Count} blobs ({bytes} bytes)";
    }
}
