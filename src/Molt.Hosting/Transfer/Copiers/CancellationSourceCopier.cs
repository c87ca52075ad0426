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
        return transfer.Pass(old);
    }

    private const BindingFlags Fields = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;
    private static readonly FieldInfo? Registrations = typeof(CancellationTokenSource).GetField("_registrations", Fields);
    private static readonly Type? RegistrationsType = typeof(CancellationTokenSource).GetNestedType("Registrations", BindingFlags.NonPublic);
    private static readonly Type? NodeType = typeof(CancellationTokenSource).GetNestedType("CallbackNode", BindingFlags.NonPublic);
    private static readonly FieldInfo? First = RegistrationsType?.GetField("Callbacks", Fields);
    private static readonly FieldInfo? Next = NodeType?.GetField("Next", Fields);
    private static readonly FieldInfo? Callback = NodeType?.GetField("Callback", Fields);
    private static readonly FieldInfo? CallbackState = NodeType?.GetField("CallbackState", Fields);

    /// <summary>The registered callbacks of a source, with their states.</summary>
    /// <exception cref="StateTransferException">This .NET keeps them elsewhere: refusing beats letting old code run unseen.</exception>
    private static IEnumerable<(Delegate Callback, object? State)> Callbacks(object source)
    {
        if (Registrations is null || First is null || Next is null || Callback is null || CallbackState is null)
        {
            throw new StateTransferException("Molt cannot read a CancellationTokenSource's callbacks in this version of .NET " +
                "(_registrations.Callbacks, CallbackNode.Next, Callback, CallbackState)", source);
        }
        if (Registrations.GetValue(source) is not { } registrations)
        {
            yield break;
        }
        for (var node = First.GetValue(registrations); node is not null; node = Next.GetValue(node))
        {
            if (Callback.GetValue(node) is Delegate callback)
            {
                yield return (callback, CallbackState.GetValue(node));
            }
        }
    }
}
