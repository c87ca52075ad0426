using System.Reflection;

namespace Molt.Hosting.Transfer;

/// <summary>How one field's value moves from the old object to the new one.</summary>
internal enum Conversion
{
    /// <summary>Copy the value as it is: a plain value, a string, an array of plain values, an identical enum.</summary>
    Direct,
    /// <summary>A widening numeric conversion (int to long, float to double...).</summary>
    Widen,
    /// <summary>Through the transfer: passed by reference or rebuilt, according to the value's runtime type.</summary>
    Transfer,
    /// <summary>Through the transfer, then wrapped: T became T?.</summary>
    WrapNullable,
}

/// <summary>One field copied by the default mapping.</summary>
internal sealed record FieldCopy(FieldInfo Old, FieldInfo New, Conversion Kind);

/// <summary>How the fields of one old type (instance or static) map onto the fields of its new type.</summary>
internal sealed class FieldPlan
{
    public required Type OldType { get; init; }

    public required Type NewType { get; init; }

    public List<FieldCopy> Copies { get; } = [];

    /// <summary>New fields computed by a field transformer.</summary>
    public List<(FieldInfo Field, MethodInfo Transformer)> Computed { get; } = [];

    /// <summary>New fields with no counterpart in the old type: they get their declared initializer's value, or the default.</summary>
    public List<FieldInfo> Added { get; } = [];

    /// <summary>For each field of <see cref="Added"/> (instance fields only), the value it gets and why.</summary>
    public List<AddedField> AddedValues { get; } = [];

    /// <summary>Old fields that the new type does not have (logical names).</summary>
    public List<string> Dropped { get; } = [];

    /// <summary>The old fields behind <see cref="Dropped"/>.</summary>
    public List<FieldInfo> DroppedFields { get; } = [];

    /// <summary>
    /// Statics of a library the program ships whose declared type cannot cross (a delegate cache, say): left to the new
    /// version's initializer, with why. The program's own such statics fail the update unless marked [NotMigrated]; a
    /// library's author could not know to mark them.
    /// </summary>
    public List<(FieldInfo Old, string Why)> LeftToInitializer { get; } = [];

    /// <summary>Fields whose type changed in a way the default mapping cannot convert (covered only by a type transformer, if any).</summary>
    public List<(FieldInfo Old, FieldInfo New)> Unconverted { get; } = [];

    /// <summary>Changes that nothing covers: the update cannot go ahead.</summary>
    public List<string> Problems { get; } = [];

    public static FieldPlan Create(Type oldType, Type newType, TypeMap map, bool statics, bool filledByTransformer)
    {
        // Statics of a library shipped beside the program: what cannot cross is left, not refused.
        var library = statics && !map.Old.IsMainAssembly(oldType.Assembly);
        var plan = new FieldPlan { OldType = oldType, NewType = newType };
        var oldFields = statics ? TypeFacts.StaticFields(oldType).ToList() : TypeFacts.InstanceFields(oldType);
        var newFields = statics ? TypeFacts.StaticFields(newType).ToList() : TypeFacts.InstanceFields(newType);
        if (statics)
        {
            oldFields.RemoveAll(f => f.IsDefined(typeof(ThreadStaticAttribute), false));
            newFields.RemoveAll(f => f.IsDefined(typeof(ThreadStaticAttribute), false));
        }
        var oldByName = oldFields.ToLookup(TypeFacts.LogicalName, StringComparer.Ordinal);
        var newNames = newFields.Select(TypeFacts.LogicalName).ToHashSet(StringComparer.Ordinal);
        var used = new HashSet<FieldInfo>();
        foreach (var newField in newFields)
        {
            if (!statics && map.Transformers.ByNewField.TryGetValue(newField, out var transformer))
            {
                plan.Computed.Add((newField, transformer));
                foreach (var old in oldByName[TypeFacts.LogicalName(newField)])
                {
                    used.Add(old);
                }
                continue;
            }
            var oldField = TypeFacts.OldFieldFor(newField, oldByName, newNames);
            if (oldField is null)
            {
                plan.Added.Add(newField);
                continue;
            }
            used.Add(oldField);
            if (statics && (TypeFacts.IsNotMigrated(newField) || TypeFacts.IsNotMigrated(oldField)))
            {
                continue;
            }
            if (library && map.WhyCannotCross(oldField.FieldType) is { } why)
            {
                plan.LeftToInitializer.Add((oldField, why));
                continue;
            }
            if (Classify(oldField.FieldType, newField.FieldType, map) is { } kind)
            {
                plan.Copies.Add(new FieldCopy(oldField, newField, kind));
                continue;
            }
            plan.Unconverted.Add((oldField, newField));
            if (!filledByTransformer)
            {
                plan.Problems.Add(
                    $"{(statics ? "static " : "")}{TypeFacts.Describe(newType)}.{TypeFacts.LogicalName(newField)} changed from " +
                    $"{TypeFacts.Describe(oldField.FieldType)} to {TypeFacts.Describe(newField.FieldType)}{WhyNotConverted(oldField.FieldType, newField.FieldType, map)}, " +
                    "and no transformer covers it (add a [TransformField] or [TransformType] method to the new version)");
            }
        }
        if (!statics && plan.Added.Count > 0)
        {
            plan.AddedValues.AddRange(FieldInitializers.Describe(plan.Added, map.Initializers));
            foreach (var added in plan.AddedValues.Where(a => a.Source == AddedFieldSource.Unevaluable))
            {
                plan.Problems.Add($"{TypeFacts.Describe(newType)}.{TypeFacts.LogicalName(added.Field)} is added, and {added.Detail}");
            }
        }
        plan.DroppedFields.AddRange(oldFields.Where(f => !used.Contains(f)));
        plan.Dropped.AddRange(plan.DroppedFields.Select(TypeFacts.LogicalName));
        return plan;
    }

    /// <summary>What the default mapping lacks for a field's change, said in a few words (or nothing when the types say it).</summary>
    private static string WhyNotConverted(Type oldType, Type newType, TypeMap map) =>
        map.KindChange(oldType) is var (from, to)
            ? $" ({TypeFacts.Describe(from)} was {Article(TypeFacts.Kind(from))} and is now {Article(TypeFacts.Kind(to))}: they have no fields in common to copy)"
        : map.Map(oldType) is not { } mapped ? ""
        : Nullable.GetUnderlyingType(oldType) is not null && Nullable.GetUnderlyingType(newType) is null ? " (a null has no value of the new type)"
        : oldType.IsPrimitive && newType.IsPrimitive ? " (a narrowing conversion could lose the value)"
        : !newType.IsAssignableFrom(mapped) ? " (the new type cannot hold every old value)"
        : "";

    private static string Article(string kind) => (kind[0] is 'a' or 'e' or 'i' or 'o' or 'u' ? "an " : "a ") + kind;

    /// <summary>How a value of the old field type becomes a value of the new field type, or null when it cannot by default.</summary>
    public static Conversion? Classify(Type oldType, Type newType, TypeMap map)
    {
        if (map.KindChange(oldType) is not null)
        {
            return null; // An enum that became a class, a class that became an interface...: nothing to copy.
        }
        var mapped = map.Map(oldType);
        if (mapped == newType)
        {
            if (!map.InvolvesOld(oldType))
            {
                if (oldType.IsValueType)
                {
                    return TypeFacts.IsPlainValue(oldType) || !TypeFacts.MayHoldProgramObjects(oldType) ? Conversion.Direct : Conversion.Transfer;
                }
                return TypeFacts.IsPlainReference(oldType) ? Conversion.Direct : Conversion.Transfer;
            }
            return oldType.IsEnum && EnumsMatch(oldType, newType) ? Conversion.Direct : Conversion.Transfer;
        }
        if (mapped is null)
        {
            return null;
        }
        if (Widening.CanWiden(oldType, newType))
        {
            return Conversion.Widen;
        }
        if (Nullable.GetUnderlyingType(newType) == mapped)
        {
            return Conversion.WrapNullable;
        }
        if (newType.IsAssignableFrom(mapped))
        {
            return Conversion.Transfer;
        }
        return null;
    }

    /// <summary>Two enums with the same underlying type and the same names for the same values: copy the bits.</summary>
    public static bool EnumsMatch(Type oldEnum, Type newEnum)
    {
        if (!newEnum.IsEnum || Enum.GetUnderlyingType(oldEnum) != Enum.GetUnderlyingType(newEnum))
        {
            return false;
        }
        var oldNames = Enum.GetNames(oldEnum);
        var newNames = Enum.GetNames(newEnum);
        if (!oldNames.SequenceEqual(newNames))
        {
            return false;
        }
        return oldNames.All(n => Convert.ToInt64(Enum.Parse(oldEnum, n), System.Globalization.CultureInfo.InvariantCulture)
            == Convert.ToInt64(Enum.Parse(newEnum, n), System.Globalization.CultureInfo.InvariantCulture));
    }
}
