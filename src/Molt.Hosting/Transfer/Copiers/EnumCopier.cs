using System.Globalization;

namespace Molt.Hosting.Transfer.Copiers;

/// <summary>Maps a value of an old enum to the new enum by member name, else by number.</summary>
internal sealed class EnumCopier(Type newType) : TypeCopier
{
    public override object Transfer(object old, StateTransfer transfer)
    {
        transfer.ObjectsRebuilt++;
        var name = Enum.GetName(old.GetType(), old);
        if (name is not null && Enum.IsDefined(newType, name))
        {
            return Enum.Parse(newType, name);
        }
        return Enum.ToObject(newType, Convert.ToInt64(old, CultureInfo.InvariantCulture));
    }
}
