using System.Reflection;
using System.Runtime.CompilerServices;

namespace Molt.Hosting.Transfer.Copiers;

/// <summary>
/// Rebuilds objects as the new version's class (the program's, or a framework generic over the program's types):
/// compiled field copies, the initializers of the fields the new version added, then field transformers, then a filling
/// type transformer. The old object is a class instance, or a boxed struct of a type that became a class (each box a new
/// object). No constructor of the new class runs: it is allocated uninitialized.
/// </summary>
internal sealed class ClassCopier : ReferenceCopier
{
    private readonly Type _newType;
    private readonly bool _newTypeIsAbstract;
    private readonly bool _isException;
    private readonly Action<object, object, StateTransfer> _fill;
    private readonly Action<object>? _initialize;
    private readonly (Action<OldObject, object> Compute, MethodInfo Transformer)[] _computed;
    private readonly (Action<OldObject, object> Fill, MethodInfo Transformer)? _transformer;

    public ClassCopier(FieldPlan plan, TypeTransformer? fillTransformer)
        : base(allocatesAlone: true)
    {
        Plan = plan;
        _newType = plan.NewType;
        // Asked once here rather than for each object: a Type's properties are calls into the runtime.
        _newTypeIsAbstract = plan.NewType.IsAbstract;
        _isException = typeof(Exception).IsAssignableFrom(plan.NewType);
        _fill = CopierEmitter.ClassFill(plan);
        _initialize = FieldInitializers.Compile(plan.AddedValues);
        _computed = [.. plan.Computed.Select(c => (CopierEmitter.ComputeField(c.Field, c.Transformer), c.Transformer))];
        if (fillTransformer is not null)
        {
            _transformer = (CopierEmitter.CallFill(fillTransformer.Method, plan.NewType), fillTransformer.Method);
        }
        Concurrent = _computed.Length == 0 && _transformer is null && !plan.AddedValues.Any(a => a.CallsCode);
        FillsAtOnce = Concurrent;
    }

    public FieldPlan Plan { get; }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override object Allocate(object old, StateTransfer transfer)
    {
        if (_newTypeIsAbstract)
        {
            throw new StateTransferException($"the new version made {TypeFacts.Describe(_newType)} abstract; add a [TransformType] factory for {TypeFacts.Describe(Plan.OldType)}", old);
        }
        return RuntimeHelpers.GetUninitializedObject(_newType);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Fill(object old, object created, StateTransfer transfer)
    {
        try
        {
            _fill(old, created, transfer);
        }
        catch (InvalidCastException e)
        {
            throw transfer.ExplainMisfit(Plan.Copies, old, e);
        }
        if (_initialize is { } initialize)
        {
            transfer.RunInitializers(Plan, old, initialize, created);
        }
        if (_isException && created is Exception exception)
        {
            ExceptionStackTrace.Detach((Exception)old, exception);
        }
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
