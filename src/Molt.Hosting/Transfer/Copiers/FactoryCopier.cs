using System.Reflection;

namespace Molt.Hosting.Transfer.Copiers;

/// <summary>Builds each new object with the new version's factory type transformer (no default mapping).</summary>
internal sealed class FactoryCopier(MethodInfo transformer, Type oldType) : TypeCopier
{
    private readonly Func<OldObject, object> _factory = CopierEmitter.CallFactory(transformer);

    public override object Transfer(object old, StateTransfer transfer)
    {
        if (!oldType.IsValueType && transfer.TryGetNew(old, out var known))
        {
            return known;
        }
        object? created = null;
        transfer.RunTransformer(transformer, old, () => created = _factory(transfer.View(old)));
        if (created is null)
        {
            throw new StateTransferException($"type transformer {transformer.DeclaringType?.Name}.{transformer.Name} returned null", old);
        }
        return oldType.IsValueType ? created : transfer.RegisterBuilt(old, created);
    }
}
