using System.Reflection;

namespace Molt.Hosting.Transfer;

/// <summary>
/// How the values of an old enum become values of the new one: by member name, never by number. A new member with
/// <see cref="RenamedFromAttribute"/> takes the values of the old member it names (and, going back to an earlier version, an
/// old member's [RenamedFrom] is read backwards). A [Flags] value maps bit group by bit group, each by its name. The value
/// 0, every enum's default, stays 0 when the old enum has no name for it. An enum that did not change (the same names with
/// the same numbers) copies its values as they are, named or not.
/// </summary>
internal sealed class EnumMapping
{
    private readonly Type _old;
    private readonly Type _new;
    private readonly bool _flags;
    private readonly (ulong Bits, string Name, ulong? NewBits, string? NewName)[] _members;
    private readonly Dictionary<ulong, object> _cache = [];

    private EnumMapping(Type oldEnum, Type newEnum)
    {
        _old = oldEnum;
        _new = newEnum;
        Identical = FieldPlan.EnumsMatch(oldEnum, newEnum);
        _flags = oldEnum.IsDefined(typeof(FlagsAttribute), false);
        var newMembers = Members(newEnum).ToDictionary(m => m.Name, StringComparer.Ordinal);
        var renamedTo = Members(newEnum).Where(m => m.RenamedFrom is not null).GroupBy(m => m.RenamedFrom!).ToDictionary(g => g.Key, g => g.First());
        var oldNames = Members(oldEnum).Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        _members = [.. Members(oldEnum).Select(m =>
        {
            // A rename names an old member; a new member of the old name is that member only when nothing was renamed from it.
            (string Name, ulong Bits, string? RenamedFrom)? target =
                renamedTo.TryGetValue(m.Name, out var renamed) ? renamed
                : newMembers.TryGetValue(m.Name, out var same) && (same.RenamedFrom is null || !oldNames.Contains(same.RenamedFrom)) ? same
                : m.RenamedFrom is { } back && newMembers.TryGetValue(back, out var earlier) ? earlier // a rollback reads the rename backwards
                : null;
            return (m.Bits, m.Name, target?.Bits, target?.Name);
        })];
    }

    /// <summary>Whether the two enums are the same but for their version: values are copied as they are.</summary>
    public bool Identical { get; }

    /// <summary>The mapping from one enum to another.</summary>
    public static EnumMapping Create(Type oldEnum, Type newEnum) => new(oldEnum, newEnum);

    /// <summary>Each old member and the new member it becomes (null when the new enum has none), for the check.</summary>
    public IEnumerable<(string Old, string? New, bool Renamed, bool Renumbered)> Members()
    {
        foreach (var (bits, name, newBits, newName) in _members)
        {
            yield return (name, newName, newName is not null && newName != name, newBits is { } nb && nb != bits);
        }
    }

    /// <summary>The new value for an old one (boxed), or why there is none.</summary>
    public object Map(object oldValue, out string? whyNot)
    {
        whyNot = null;
        var bits = Bits(oldValue);
        if (_cache.TryGetValue(bits, out var known))
        {
            return known;
        }
        ulong? mapped = Identical ? bits : MapBits(bits, out whyNot);
        if (mapped is not { } result)
        {
            return oldValue;
        }
        var created = Enum.ToObject(_new, result);
        _cache[bits] = created;
        return created;
    }

    private ulong? MapBits(ulong bits, out string? whyNot)
    {
        whyNot = null;
        foreach (var (b, name, newBits, _) in _members)
        {
            if (b == bits)
            {
                if (newBits is null)
                {
                    whyNot = $"its value {name} has no member in the new version's {TypeFacts.Describe(_new)} " +
                        $"(add [RenamedFrom(\"{name}\")] to its successor, or a [TransformType(\"{_old.FullName}\")] method)";
                }
                return newBits;
            }
        }
        if (bits == 0)
        {
            return 0; // The default of every enum, unnamed.
        }
        if (!_flags)
        {
            whyNot = $"its value {bits} has no name in {TypeFacts.Describe(_old)}, so it cannot be mapped by name " +
                $"(add a [TransformType(\"{_old.FullName}\")] method)";
            return null;
        }
        // Flags: the widest named groups of bits first, each by its name.
        ulong result = 0, left = bits;
        foreach (var (b, name, newBits, _) in _members.Where(m => m.Bits != 0).OrderByDescending(m => ulong.PopCount(m.Bits)))
        {
            if ((left & b) != b)
            {
                continue;
            }
            if (newBits is null)
            {
                whyNot = $"its flag {name} has no member in the new version's {TypeFacts.Describe(_new)} " +
                    $"(add [RenamedFrom(\"{name}\")] to its successor, or a [TransformType(\"{_old.FullName}\")] method)";
                return null;
            }
            result |= newBits.Value;
            left &= ~b;
        }
        if (left != 0)
        {
            whyNot = $"its bits 0x{left:X} have no name in {TypeFacts.Describe(_old)}, so they cannot be mapped by name " +
                $"(add a [TransformType(\"{_old.FullName}\")] method)";
            return null;
        }
        return result;
    }

    private static IEnumerable<(string Name, ulong Bits, string? RenamedFrom)> Members(Type enumType) =>
        enumType.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => (f.Name, Bits(f.GetRawConstantValue()!), f.GetCustomAttribute<RenamedFromAttribute>()?.OldName));

    /// <summary>An enum value's bits, whatever its underlying type (sign-extended, as the runtime compares them).</summary>
    private static ulong Bits(object value) => Type.GetTypeCode(value.GetType().IsEnum ? Enum.GetUnderlyingType(value.GetType()) : value.GetType()) switch
    {
        TypeCode.SByte => (ulong)(long)Convert.ToSByte(value, null),
        TypeCode.Int16 => (ulong)(long)Convert.ToInt16(value, null),
        TypeCode.Int32 => (ulong)(long)Convert.ToInt32(value, null),
        TypeCode.Int64 => (ulong)Convert.ToInt64(value, null),
        TypeCode.Byte => Convert.ToByte(value, null),
        TypeCode.UInt16 => Convert.ToUInt16(value, null),
        TypeCode.UInt32 => Convert.ToUInt32(value, null),
        TypeCode.Char => Convert.ToChar(value, null),
        _ => Convert.ToUInt64(value, null),
    };
}
