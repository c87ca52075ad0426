namespace Molt.Hosting.Transfer.Copiers;

/// <summary>Maps a value of an old enum to the new enum by member name (<see cref="EnumMapping"/>), or fails the update with why.</summary>
internal sealed class EnumCopier(Type oldType, Type newType) : TypeCopier
{
    private readonly EnumMapping _mapping = EnumMapping.Create(oldType, newType);

    public override object Transfer(object old, StateTransfer transfer)
    {
        transfer.ObjectsRebuilt++;
        var created = _mapping.Map(old, out var whyNot);
        return whyNot is null ? created : throw new StateTransferException(whyNot, old);
    }
}
