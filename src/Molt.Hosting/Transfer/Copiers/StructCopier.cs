using System.Runtime.CompilerServices;

namespace Molt.Hosting.Transfer.Copiers;

/// <summary>Rebuilds a boxed struct (the program's, or a framework struct over the program's types) as the new version's struct.</summary>
internal sealed class StructCopier(FieldPlan plan) : TypeCopier
{
    private readonly Func<object, StateTransfer, object> _copy = CopierEmitter.StructCopy(plan);

    public FieldPlan Plan { get; } = plan;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override object Transfer(object old, StateTransfer transfer)
    {
        transfer.ObjectsRebuilt++;
        return _copy(old, transfer);
    }
}
