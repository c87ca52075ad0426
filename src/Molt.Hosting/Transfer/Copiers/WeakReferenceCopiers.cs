using System.Collections;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace Molt.Hosting.Transfer.Copiers;

/// <summary>
/// <see cref="WeakReference"/> and <see cref="WeakReference{T}"/>: a weak reference to an object of the old version becomes a
/// new weak reference (keeping its trackResurrection) to that object's new object, which lives as long as the new
/// version's state holds it; one whose target is the framework's, or collected, passes by reference.
/// </summary>
internal sealed class WeakReferenceCopier : TypeCopier
{
    private readonly bool _involvesOld;
    private readonly MethodInfo? _tryGetTarget;
    private readonly MethodInfo _isTrackResurrection;
    private readonly ConstructorInfo _construct;

    public WeakReferenceCopier(Type oldType, Type newType)
    {
        _involvesOld = oldType != newType;
        _tryGetTarget = oldType.IsGenericType ? oldType.GetMethod("TryGetTarget")! : null;
        _isTrackResurrection = oldType.GetMethod("IsTrackResurrection", BindingFlags.Instance | BindingFlags.NonPublic, Type.EmptyTypes)
            ?? throw new MissingMethodException(oldType.FullName, "IsTrackResurrection");
        var target = newType.IsGenericType ? newType.GetGenericArguments()[0] : typeof(object);
        _construct = newType.GetConstructor([target, typeof(bool)])!;
    }

    public override object Transfer(object old, StateTransfer transfer)
    {
        if (transfer.TryGetNew(old, out var known))
        {
            return known;
        }
        var target = Target(old);
        var newTarget = transfer.TransferObject(target);
        if (!_involvesOld && ReferenceEquals(newTarget, target))
        {
            return transfer.Pass(old);
        }
        var created = _construct.Invoke([newTarget, _isTrackResurrection.Invoke(old, null)]);
        return transfer.RegisterBuilt(old, created);
    }

    private object? Target(object old)
    {
        if (_tryGetTarget is null)
        {
            return ((WeakReference)old).Target;
        }
        object?[] arguments = [null];
        return _tryGetTarget.Invoke(old, arguments) is true ? arguments[0] : null;
    }
}

/// <summary>
/// <see cref="ConditionalWeakTable{TKey, TValue}"/> over the program's types (or over object): a new table of the new
/// version's types, with each live entry added again under its key's new object (the table hashes keys by identity).
/// Read through its non-generic enumeration and written through a compiled call, never through generic code over both versions.
/// </summary>
internal sealed class WeakTableCopier(Type oldType, Type newType) : ReferenceCopier(allocatesAlone: true)
{
    private readonly Func<object, object?, object?, object?> _add = CopierEmitter.CallInstance(newType.GetMethod("AddOrUpdate")!);
    private readonly PropertyInfo _key = typeof(KeyValuePair<,>).MakeGenericType(oldType.GetGenericArguments()).GetProperty("Key")!;
    private readonly PropertyInfo _value = typeof(KeyValuePair<,>).MakeGenericType(oldType.GetGenericArguments()).GetProperty("Value")!;

    protected override object Allocate(object old, StateTransfer transfer) => Activator.CreateInstance(newType)!;

    public override void Fill(object old, object created, StateTransfer transfer)
    {
        foreach (var entry in (IEnumerable)old)
        {
            var key = transfer.TransferObject(_key.GetValue(entry));
            var value = transfer.TransferObject(_value.GetValue(entry));
            _add(created, key, value);
        }
    }
}
