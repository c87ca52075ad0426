using System.Runtime;
using Molt.Hosting.Transfer.Stream;
using Xunit;

namespace Molt.Hosting.Tests.Transfer.Stream;

/// <summary>The writer's identity map keys objects by address: ids must hold while collections move the objects.</summary>
public class IdentityMapTests
{
    [Fact]
    public void Ids_AreInTheOrderMet_AndFoundAgain()
    {
        var map = new IdentityMap();
        var a = new object();
        var b = "b" + Environment.TickCount;
        Assert.Equal(0, map.GetOrAdd(a, out var added));
        Assert.True(added);
        Assert.Equal(1, map.GetOrAdd(b, out added));
        Assert.True(added);
        Assert.Equal(0, map.GetOrAdd(a, out added));
        Assert.False(added);
        // An equal string is another object: another id.
        Assert.Equal(2, map.GetOrAdd(new string(b.AsSpan()), out added));
        Assert.True(added);
        Assert.Equal(3, map.Count);
    }

    [Fact]
    public async Task Ids_Hold_WhileCollectionsMoveTheObjects()
    {
        var map = new IdentityMap();
        var objects = new List<object>();
        using var stop = new CancellationTokenSource();
        // Another thread collecting (compacting) at any moment, as another thread's allocations would.
        var collector = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                Thread.Sleep(1);
            }
        });
        var collections = GC.CollectionCount(0);
        for (var round = 0; round < 20; round++)
        {
            for (var i = 0; i < 5000; i++)
            {
                // Fresh objects among garbage: the next collection compacts and moves them.
                _ = new byte[64];
                var item = new object[] { i };
                objects.Add(item);
                Assert.Equal(objects.Count - 1, map.GetOrAdd(item, out var added));
                Assert.True(added);
            }
            for (var id = 0; id < objects.Count; id += 7)
            {
                Assert.Equal(id, map.GetOrAdd(objects[id], out var added));
                Assert.False(added);
            }
        }
        stop.Cancel();
        await collector;
        Assert.Equal(objects.Count, map.Count);
        Assert.True(GC.CollectionCount(0) - collections > 5, "the objects were never moved: the test shows nothing");
    }
}
