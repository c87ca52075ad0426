using System.Runtime.CompilerServices;

namespace Molt.Hosting.Transfer.Copiers;

/// <summary>What the transfer does with every object of one old runtime type.</summary>
internal abstract class TypeCopier
{
    /// <summary>The new object (or value) for an old one: the same object, a rebuilt one, or an error.</summary>
    public abstract object Transfer(object old, StateTransfer transfer);

    /// <summary>
    /// Whether <see cref="Transfer"/> and <see cref="Fill"/> may run on several threads at once (a parallel transfer's
    /// workers): they run no code of the program (no transformer, no initializer that calls a method) and change nothing
    /// but the objects they rebuild. Otherwise the workers run them one at a time.
    /// </summary>
    public bool Concurrent { get; protected init; }

    /// <summary>
    /// Whether <see cref="Fill"/> may run as soon as the new object is allocated, from inside the transfer of the reference
    /// that reached it, rather than later from the work list: it runs no code of the program (so the order of fills cannot
    /// show), and defers nothing. Set by <see cref="ClassCopier"/> for the plain copy of fields.
    /// </summary>
    public bool FillsAtOnce { get; protected init; }

    /// <summary>Fills a new object allocated by <see cref="Transfer"/> (called later, from the transfer's work list).</summary>
    public virtual void Fill(object old, object created, StateTransfer transfer)
    {
    }
}

/// <summary>Objects that rebuild into a new object with an identity: allocate now, register, fill later (no recursion, cycles work).</summary>
/// <param name="allocatesAlone">Whether <see cref="Allocate"/> transfers nothing itself (so the identity map cannot change meanwhile).</param>
internal abstract class ReferenceCopier(bool allocatesAlone) : TypeCopier
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public sealed override object Transfer(object old, StateTransfer transfer) => transfer.Rebuild(old, this, allocatesAlone);

    /// <summary>The new object, not yet filled (see <see cref="StateTransfer.Rebuild"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal object AllocateFor(object old, StateTransfer transfer) => Allocate(old, transfer);

    protected abstract object Allocate(object old, StateTransfer transfer);
}

/// <summary>Framework objects that hold nothing of the program: the new version gets the same object.</summary>
internal sealed class ByReferenceCopier : TypeCopier
{
    public static readonly ByReferenceCopier Instance = new();

    private ByReferenceCopier() => Concurrent = true;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override object Transfer(object old, StateTransfer transfer)
    {
        return transfer.Pass(old);
    }
}

/// <summary>
/// <see cref="Type"/> objects (in a <c>Dictionary&lt;Type, ...&gt;</c>, say): a framework type passes as it is; a type of the
/// old version becomes the new version's type, or the old version would be referenced for ever and typeof checks would fail.
/// </summary>
internal sealed class TypeObjectCopier : TypeCopier
{
    public static readonly TypeObjectCopier Instance = new();

    public override object Transfer(object old, StateTransfer transfer)
    {
        var type = (Type)old;
        if (!transfer.Map.InvolvesOld(type))
        {
            return transfer.Pass(old);
        }
        transfer.ObjectsRebuilt++;
        return transfer.Map.Map(type)
            ?? throw new StateTransferException($"it is the Type object of {TypeFacts.Describe(type)}, which the new version no longer has", old);
    }
}

/// <summary>Reflection objects (methods, fields, properties): they cross only when they belong to no type of the old version.</summary>
internal sealed class MemberObjectCopier : TypeCopier
{
    public static readonly MemberObjectCopier Instance = new();

    public override object Transfer(object old, StateTransfer transfer)
    {
        var member = (System.Reflection.MemberInfo)old;
        if (member.DeclaringType is { } declaring && transfer.Map.InvolvesOld(declaring) || member.Module.Assembly is { } assembly && transfer.Map.IsOld(assembly))
        {
            throw new StateTransferException(
                $"a reflection object of the old version's code ({member.DeclaringType?.Name}.{member.Name}): the new version must look it up again", old);
        }
        return transfer.Pass(old);
    }
}

/// <summary>State that cannot cross an update (a lambda, an async state machine, a thread...).</summary>
internal sealed class CannotCrossCopier(string reason) : TypeCopier
{
    public override object Transfer(object old, StateTransfer transfer) => throw new StateTransferException($"it is {reason}", old);
}

/// <summary>Delegates of framework types: they cross only when they call no code of the old version.</summary>
internal sealed class DelegateCopier : TypeCopier
{
    public static readonly DelegateCopier Instance = new();

    public override object Transfer(object old, StateTransfer transfer)
    {
        foreach (var d in ((Delegate)old).GetInvocationList())
        {
            if (transfer.Map.InvolvesOld(d.Method.DeclaringType ?? typeof(object)) || d.Target is { } target && transfer.Map.InvolvesOld(target.GetType()))
            {
                throw new StateTransferException(
                    $"it is a delegate to the old version's code ({d.Method.DeclaringType?.Name}.{d.Method.Name}): " +
                    "the new version must create its own (mark the static [NotMigrated], or compute the field with a transformer)", old);
            }
        }
        return transfer.Pass(old);
    }
}
