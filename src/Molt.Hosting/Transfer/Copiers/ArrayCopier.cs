using System.Runtime.CompilerServices;

namespace Molt.Hosting.Transfer.Copiers;

/// <summary>Rebuilds an array of the program's types (or of framework types that may hold them) element by element.</summary>
internal sealed class ArrayCopier(Type newArray) : ReferenceCopier(allocatesAlone: true)
{
    private readonly Type _newElement = newArray.GetElementType()!;

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
    public override void Fill(object old, object created, StateTransfer transfer)
    {
        if (old is object?[] sourceReferences && created is object?[] targetReferences)
        {
            // Arrays of references are covariant: one loop serves every element type, with no generic code over both versions.
            var i = 0;
            try
            {
                for (; i < sourceReferences.Length; i++)
                {
                    targetReferences[i] = transfer.TransferObject(sourceReferences[i]);
                }
            }
            catch (ArrayTypeMismatchException e)
            {
                // An element whose class no longer derives from the element type (or implements it): name the element.
                throw new StateTransferException($"it becomes a {TypeFacts.Describe(transfer.TransferObject(sourceReferences[i])!.GetType())}, which an array of " +
                    $"{TypeFacts.Describe(_newElement)} cannot hold: the new version changed the class's base or interfaces " +
                    "(add a [TransformType] method)", sourceReferences[i], e);
            }
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
