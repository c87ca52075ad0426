using System.Reflection;
using System.Runtime.CompilerServices;

namespace Molt.Hosting.Transfer.Copiers;

/// <summary>
/// Rebuilds a value as the new version's struct (the program's, or a framework struct over the program's types). The old
/// value is a boxed struct, or an object of a class that became a struct: each reference to it then becomes a copy of its
/// own (a struct has no identity), and a null reference the struct's default (see <see cref="CopierEmitter.EmitUnboxOrDefault"/>).
/// </summary>
internal sealed class StructCopier : TypeCopier
{
    private readonly Func<object, StateTransfer, object> _copy;
    private readonly Action<object>? _initialize;
    private readonly (Action<OldObject, object> Compute, MethodInfo Transformer)[] _computed;

    public StructCopier(FieldPlan plan)
    {
        Plan = plan;
        _copy = CopierEmitter.StructCopy(plan);
        _initialize = FieldInitializers.Compile(plan.AddedValues);
        _computed = [.. plan.Computed.Select(c => (CopierEmitter.ComputeField(c.Field, c.Transformer), c.Transformer))];
        Concurrent = _computed.Length == 0 && !plan.AddedValues.Any(a => a.CallsCode);
    }

    public FieldPlan Plan { get; }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override object Transfer(object old, StateTransfer transfer)
    {
        transfer.ObjectsRebuilt++;
        object created;
        try
        {
            if (Plan.OldType.IsValueType)
            {
                created = _copy(old, transfer);
            }
            else
            {
                // A class that became a struct is copied inline; an old object that reaches itself through open-typed fields would never end.
                using var nesting = transfer.EnterInlineCopy(old);
                created = _copy(old, transfer);
            }
        }
        catch (InvalidCastException e)
        {
            throw transfer.ExplainMisfit(Plan.Copies, old, e);
        }
        if (_initialize is { } initialize)
        {
            // Written into the new box before anyone else sees it.
            transfer.RunInitializers(Plan, old, initialize, created);
        }
        if (_computed.Length > 0)
        {
            var view = transfer.View(old);
            foreach (var (compute, method) in _computed)
            {
                transfer.RunTransformer(method, old, () => compute(view, created));
            }
        }
        return created;
    }
}
