using System.Reflection;
using System.Runtime.CompilerServices;

namespace Molt.Hosting.Transfer.Copiers;

/// <summary>Rebuilds a boxed struct (the program's, or a framework struct over the program's types) as the new version's struct.</summary>
internal sealed class StructCopier(FieldPlan plan) : TypeCopier
{
    private readonly Func<object, StateTransfer, object> _copy = CopierEmitter.StructCopy(plan);
    private readonly (Action<OldObject, object> Compute, MethodInfo Transformer)[] _computed =
        [.. plan.Computed.Select(c => (CopierEmitter.ComputeField(c.Field, c.Transformer), c.Transformer))];

    public FieldPlan Plan { get; } = plan;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override object Transfer(object old, StateTransfer transfer)
    {
        transfer.ObjectsRebuilt++;
        var created = _copy(old, transfer);
        if (_computed.Length > 0)
        {
            // Field transformers write into the new box before anyone else sees it.
            var view = transfer.View(old);
            foreach (var (compute, method) in _computed)
            {
                transfer.RunTransformer(method, old, () => compute(view, created));
            }
        }
        return created;
    }
}
