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
    private Func<object>? _construct;
    private readonly Action<object, object, StateTransfer> _fill;
    private readonly (Action<OldObject, object> Compute, MethodInfo Transformer)[] _computed;
    private readonly (Action<OldObject, object> Fill, MethodInfo Transformer)? _transformer;

    public ClassCopier(FieldPlan plan, TypeTransformer? fillTransformer)
        : base(allocatesAlone: true)
    {
        Plan = plan;
        _newType = plan.NewType;
        // Fields the new version added get their initializers only from a constructor: run the one with the fewest
        // parameters (given default values) before the mapped fields are copied over what it set.
        if (plan.Added.Count > 0 && !plan.NewType.IsAbstract
            && plan.NewType.GetConstructors(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
                .Where(c => c.GetParameters().All(p => !p.ParameterType.IsByRef && !p.ParameterType.IsPointer)
                    && !(c.GetParameters() is [{ } only] && only.ParameterType == plan.NewType)) // not a record's copy constructor
                .MinBy(c => c.GetParameters().Length) is { } constructor)
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
        if (_construct is { } construct)
        {
            try
            {
                return construct();
            }
            catch (Exception e)
            {
                // The constructor rejects default arguments (it validates them): added fields get default values instead.
                _construct = null;
                transfer.Warn($"{TypeFacts.Describe(_newType)}'s constructor threw {e.GetType().Name} when given default arguments, " +
                    $"so the fields the new version added ({string.Join(", ", Plan.Added.Select(TypeFacts.LogicalName))}) have default values, " +
                    "not their initializers; compute them with [TransformField] if that matters.");
            }
        }
        return RuntimeHelpers.GetUninitializedObject(_newType);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Fill(object old, object created, StateTransfer transfer)
    {
        _fill(old, created, transfer);
        if (created is Exception exception)
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
