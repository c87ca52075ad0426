using System.Collections;
using System.Runtime.CompilerServices;

namespace Molt.Hosting.Transfer.Copiers;

/// <summary>
/// A framework container of carriers (a List&lt;CancellationTokenSource&gt;, a Dictionary&lt;string, WeakReference&gt;, a
/// Dictionary&lt;string, HashSet&lt;string&gt;&gt; whose sets may have a comparer of the program's): its elements are checked
/// one by one; when all cross as themselves, the container passes by reference, else it is rebuilt as the same type.
/// A container that cannot be enumerated (a Lazy&lt;CancellationTokenSource&gt;) is always rebuilt.
/// </summary>
internal sealed class ElementsCheckCopier(Func<TypeCopier> rebuild) : TypeCopier
{
    private TypeCopier? _rebuild;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override object Transfer(object old, StateTransfer transfer)
    {
        if (AllCrossAsThemselves(old, transfer))
        {
            return transfer.Pass(old);
        }
        return Rebuild(old, transfer);
    }

    /// <summary>Rebuilds the container as the same type, its elements transferred.</summary>
    public object Rebuild(object old, StateTransfer transfer)
    {
        _rebuild ??= rebuild();
        return _rebuild.Transfer(old, transfer);
    }

    /// <summary>Whether every element (key and value, for a dictionary) crosses as itself; a container that cannot be enumerated does not.</summary>
    public static bool AllCrossAsThemselves(object old, StateTransfer transfer)
    {
        // What the elements are is checked, not passed: they are neither counted nor recorded as references of the new version's state.
        // Only a check within a check can come back to a container (through its own elements): the outermost one is not
        // tracked, so that the common case costs nothing more; a container that holds itself is seen once more, then stops.
        var tracked = transfer.CheckDepth > 0;
        if (tracked && !transfer.Checking.Add(old))
        {
            return true; // Reached again through its own elements: what else it holds is being checked already.
        }
        transfer.CheckDepth++;
        try
        {
            return EachCrossesAsItself(old, transfer);
        }
        finally
        {
            transfer.CheckDepth--;
            if (tracked)
            {
                transfer.Checking.Remove(old);
            }
        }
    }

    private static bool EachCrossesAsItself(object old, StateTransfer transfer)
    {
        if (old is not IEnumerable)
        {
            return false;
        }
        var keys = default(CopierCache);
        var values = default(CopierCache);
        if (old is IDictionary dictionary)
        {
            var entries = dictionary.GetEnumerator();
            while (entries.MoveNext())
            {
                if (!Same(entries.Key, ref keys, transfer) || !Same(entries.Value, ref values, transfer))
                {
                    return false;
                }
            }
        }
        else
        {
            foreach (var element in (IEnumerable)old)
            {
                if (!Same(element, ref keys, transfer))
                {
                    return false;
                }
            }
        }
        return true;
    }

    private static bool Same(object? element, ref CopierCache cache, StateTransfer transfer) =>
        element is null || ReferenceEquals(transfer.TransferObject(element, ref cache), element);
}
