using System.Reflection;
using System.Runtime.CompilerServices;

namespace Molt.Hosting.Transfer.Copiers;

/// <summary>
/// Rebuilds objects of a class (the program's, or a framework generic over the program's types) as the
/// new version's class: compiled field copies, then field transformers, then a filling type transformer.
/// </summary>
internal sealed class ClassCopier : ReferenceCopier
{
    private readonly Type _newType;
    private readonly Func<object>? _construct;
    private readonly Action<object, object, StateTransfer> _fill;
    private readonly (Action<OldObject, object> Compute, MethodInfo Transformer)[] _computed;
    private readonly (Action<OldObject, object> Fill, MethodInfo Transformer)? _transformer;

    public ClassCopier(FieldPlan plan, TypeTransformer? fillTransformer)
        : base(allocatesAlone: true)
    {
        Plan = plan;
        _newType = plan.NewType;
        // Fields the new version added get their initializers only from a constructor: run the parameterless one when there is one.
        if (plan.Added.Count > 0 && plan.NewType.GetConstructor(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic, Type.EmptyTypes) is { } constructor
            && !plan.NewType.IsAbstract)
        {
            _construct = CopierEmitter.Construct(constructor);
        }
        _fill = CopierEmitter.ClassFill(plan);
        _computed = [.. plan.Computed.Select(c => (CopierEmitter.ComputeField(c.Field, c.Transformer), c.Transformer))];
        if (fillTransformer is not null)
        {
            _transformer = (CopierEmitter.CallFill(fillTransformer.Method, plan.NewType), fillTransformer.Method);
        }
    }

    public FieldPlan Plan { get; }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override object Allocate(object old, StateTransfer transfer)
    {
        if (_newType.IsAbstract)
        {
            throw new StateTransferException($"the new version made {TypeFacts.Describe(_newType)} abstract; add a [TransformType] factory for {TypeFacts.Describe(Plan.OldType)}", old);
        }
        return _construct is not null ? _construct() : RuntimeHelpers.GetUninitializedObject(_newType);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Fill(object old, object created, StateTransfer transfer)
    {
        _fill(old, created, transfer);
        if (_computed.Length == 0 && _transformer is null)
        {
            return;
        }
        var view = transfer.View(old);
        foreach (var (compute, method) in _computed)
        {
            transfer.RunTransformer(method, old, () => compute(view, created));
        }
        if (_transformer is { } t)
        {
            transfer.RunTransformer(t.Transformer, old, () => t.Fill(view, created));
        }
    }
}
