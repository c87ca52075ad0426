using Molt.Hosting.Loading;

namespace Molt.Hosting.Tests;

/// <summary>Releasing a kept-loaded version's statics: every kind of static field, those that hold no reference left as they are.</summary>
public class StaticStateTests
{
    private sealed class Entry;

    private struct Pair
    {
        public Entry? Ref;
        public int N;
    }

    private static unsafe class Holder
    {
        public static Entry? Single = new();
        public static readonly Entry[] Array = [new()];
        public static Pair WithReference = new() { Ref = new(), N = 5 };
        public static int Count = 3;
        public static int* Pointer = (int*)16;
        public static delegate*<void> Function = &Nothing;

        private static void Nothing()
        {
        }
    }

    [Fact]
    public unsafe void Release_ClearsReferences_LeavesPointersAndPlainValues_ReturnsWhatTheVersionsTypesHeld()
    {
        var held = StaticState.Release([typeof(Holder)], t => t == typeof(Entry));

        Assert.Null(Holder.Single);
        Assert.Null(Holder.Array);
        Assert.Null(Holder.WithReference.Ref);
        Assert.Equal(0, Holder.WithReference.N); // the whole struct is reset: it held a reference
        Assert.Equal(3, Holder.Count);
        Assert.True(Holder.Pointer == (int*)16);
        Assert.True(Holder.Function != null);
        // The objects of the version's types (Entry, Entry[]) are watched; the struct holding one is not an Entry.
        Assert.Collection(held,
            h => Assert.EndsWith("Holder.Single", h.Field, StringComparison.Ordinal),
            h => Assert.EndsWith("Holder.Array", h.Field, StringComparison.Ordinal));
    }
}
