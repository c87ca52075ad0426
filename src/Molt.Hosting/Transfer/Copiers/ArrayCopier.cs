using System.Runtime.CompilerServices;

namespace Molt.Hosting.Transfer.Copiers;

/// <summary>Rebuilds an array of the program's types (or of framework types that may hold them) element by element.</summary>
internal sealed class ArrayCopier : ReferenceCopier
{
    private readonly Type _newElement;

    public ArrayCopier(Type newArray)
        : base(allocatesAlone: true)
    {
        _newElement = newArray.GetElementType()!;
        Concurrent = true;
    }

    protected override object Allocate(object old, StateTransfer transfer)
    {
        var array = (Array)old;
        var lengths = new int[array.Rank];
        for (var i = 0; i < lengths.Length; i++)
        {
            lengths[i] = array.GetLength(i);
        }
        return Array.CreateInstance(_newElement, lengths);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CopyReferences(object?[] source, object?[] target, int from, int to, StateTransfer transfer)
    {
        var i = from;
        try
        {
            for (; i < to; i++)
            {
                transfer.PrefetchAheadOfTransfer(source, i, to);
                target[i] = transfer.TransferObject(source[i]);
            }
        }
        catch (ArrayTypeMismatchException e)
        {
            // An element whose class no longer derives from the element type (or implements it): name the element.
            throw new StateTransferException($"it becomes a {TypeFacts.Describe(transfer.TransferObject(source[i])!.GetType())}, which an array of " +
                $"{TypeFacts.Describe(_newElement)} cannot hold: the new version changed the class's base or interfaces " +
                "(add a [TransformType] method)", source[i], e);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Fill(object old, object created, StateTransfer transfer)
    {
        if (old is object?[] sourceReferences && created is object?[] targetReferences)
        {
            // Arrays of references are covariant: one loop serves every element type, with no generic code over both versions.
            transfer.Expect(sourceReferences.Length);
            transfer.ForEachChunk(sourceReferences.Length, (transfer, from, to) => CopyReferences(sourceReferences, targetReferences, from, to, transfer));
            return;
        }
        // Arrays of structs (and multi-dimensional arrays): element by element, boxed.
        var source = (Array)old;
        var target = (Array)created;
        var index = new int[source.Rank];
        for (var n = 0; n < source.Length; n++)
        {
            var rest = n;
            for (var d = source.Rank - 1; d >= 0; d--)
            {
                index[d] = rest % source.GetLength(d);
                rest /= source.GetLength(d);
            }
            target.SetValue(transfer.TransferObject(source.GetValue(index)), index);
        }
    }
}
