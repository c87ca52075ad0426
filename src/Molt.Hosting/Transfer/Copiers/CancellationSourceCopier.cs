using System.Collections;
using System.Reflection;

namespace Molt.Hosting.Transfer.Copiers;

/// <summary>
/// <see cref="CancellationTokenSource"/>: its registered callbacks would run when the new version cancels it. One registered by
/// the old version's code refuses the update (the new version must register its own); with none, or only the framework's,
/// it passes by reference (its other slots checked like any framework object's). The callbacks are found through its
/// private fields (.NET 10: _registrations.Callbacks, a list linked by Next); if those change, this copier says so.
/// </summary>
internal sealed class CancellationSourceCopier(OpenSlotsCopier? slots) : TypeCopier
{
    private static readonly FieldInfo? Registrations = typeof(CancellationTokenSource).GetField("_registrations", BindingFlags.Instance | BindingFlags.NonPublic);

    public override object Transfer(object old, StateTransfer transfer)
    {
        if (!transfer.TryGetNew(old, out _))
        {
            foreach (var (callback, state) in Callbacks(old))
            {
                // Register(Action) stores the program's delegate as the state of a framework callback that calls it.
                if ((Carriers.OldCodeIn(callback, transfer.Map) ?? (state is Delegate d ? Carriers.OldCodeIn(d, transfer.Map) : null)) is { } oldCode)
                {
                    throw new StateTransferException(
                        $"it is a CancellationTokenSource with a callback registered by the old version's code ({Carriers.Describe(oldCode)}), which would run " +
                        "in the new version when it is cancelled (dispose the registration before the update, mark the field [NotMigrated], or compute it with a transformer)", old);
                }
            }
        }
        if (slots is not null)
        {
            return slots.Transfer(old, transfer);
        }
        transfer.ReferencesPassed++;
        return old;
    }

    private static IEnumerable<(Delegate Callback, object? State)> Callbacks(object source)
    {
        if (Registrations is null)
        {
            throw new StateTransferException("Molt cannot read a CancellationTokenSource's callbacks in this version of .NET (no field _registrations)", source);
        }
        if (Registrations.GetValue(source) is not { } registrations)
        {
            yield break;
        }
        var first = registrations.GetType().GetField("Callbacks", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            ?? throw new StateTransferException("Molt cannot read a CancellationTokenSource's callbacks in this version of .NET (no field Callbacks)", source);
        var node = first.GetValue(registrations);
        while (node is not null)
        {
            var nodeType = node.GetType();
            if (nodeType.GetField("Callback", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)?.GetValue(node) is Delegate callback)
            {
                yield return (callback, nodeType.GetField("CallbackState", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)?.GetValue(node));
            }
            node = nodeType.GetField("Next", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)?.GetValue(node);
        }
    }
}
