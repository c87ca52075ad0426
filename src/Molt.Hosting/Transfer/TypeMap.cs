using System.Reflection;
using Molt.Hosting.Loading;

namespace Molt.Hosting.Transfer;

/// <summary>
/// Which type of the new version each type of the old version becomes. Framework types stay what they
/// are; the program's types map by full name (or by a rename or a type transformer); generic
/// instantiations and arrays map through their arguments. Independent of how objects are produced, so
/// the same map can drive an in-process copy or, later, a stream.
/// </summary>
internal sealed class TypeMap(ProgramVersion oldVersion, ProgramVersion newVersion, TransformerSet transformers)
{
    private readonly Dictionary<Type, bool> _involvesOld = [];
    private readonly Dictionary<Type, Type?> _mapped = [];

    public ProgramVersion Old { get; } = oldVersion;

    public ProgramVersion New { get; } = newVersion;

    public TransformerSet Transformers { get; } = transformers;

    /// <summary>The field initializers read from the new version's constructors, by declaring type.</summary>
    public Dictionary<Type, FieldInitializers.TypeInitializers> Initializers { get; } = [];

    /// <summary>Whether a type is, or is built from, one of the old version's types.</summary>
    public bool InvolvesOld(Type type)
    {
        if (_involvesOld.TryGetValue(type, out var known))
        {
            return known;
        }
        bool involves;
        if (type.HasElementType)
        {
            involves = InvolvesOld(type.GetElementType()!);
        }
        else if (type.IsGenericType && !type.IsGenericTypeDefinition)
        {
            involves = Old.Owns(type.Assembly) || type.GetGenericArguments().Any(InvolvesOld);
        }
        else
        {
            involves = Old.Owns(type.Assembly);
        }
        _involvesOld[type] = involves;
        return involves;
    }

    /// <summary>The new version's type for an old type, or null when the new version has none.</summary>
    public Type? Map(Type oldType)
    {
        if (!InvolvesOld(oldType))
        {
            return oldType;
        }
        if (_mapped.TryGetValue(oldType, out var known))
        {
            return known;
        }
        var mapped = MapUncached(oldType);
        _mapped[oldType] = mapped;
        return mapped;
    }

    private Type? MapUncached(Type oldType)
    {
        if (oldType.IsArray)
        {
            var element = Map(oldType.GetElementType()!);
            return element is null ? null : oldType.IsSZArray ? element.MakeArrayType() : element.MakeArrayType(oldType.GetArrayRank());
        }
        if (oldType.IsGenericType && !oldType.IsGenericTypeDefinition)
        {
            var definition = oldType.GetGenericTypeDefinition();
            var newDefinition = Old.Owns(definition.Assembly) ? MapNamed(definition) : definition;
            var arguments = oldType.GetGenericArguments().Select(Map).ToArray();
            if (newDefinition is null || arguments.Any(a => a is null))
            {
                return null;
            }
            try
            {
                return newDefinition.MakeGenericType(arguments!);
            }
            catch (ArgumentException)
            {
                return null; // The new version's constraints no longer fit.
            }
        }
        return MapNamed(oldType);
    }

    private Type? MapNamed(Type oldType)
    {
        var name = oldType.FullName!;
        if (Transformers.Renames.TryGetValue(name, out var renamed))
        {
            return renamed;
        }
        var candidate = New.FindType(name, oldType.Assembly.GetName().Name);
        // A type that the new version renamed from another type of the old version is that type's successor, not this one's.
        // (When the old version has no type of that name, the attribute was left in place from an earlier rename.)
        if (candidate?.GetCustomAttributes(typeof(RenamedFromAttribute), false) is [RenamedFromAttribute r] && r.OldName != name
            && Old.FindType(r.OldName, oldType.Assembly.GetName().Name) is not null)
        {
            return null;
        }
        // Going back to an earlier version (a rollback): a type that was renamed maps back to its former name.
        if (candidate is null && oldType.GetCustomAttributes(typeof(RenamedFromAttribute), false) is [RenamedFromAttribute back])
        {
            candidate = New.FindType(back.OldName, oldType.Assembly.GetName().Name);
        }
        return candidate is not null && candidate.IsGenericTypeDefinition == oldType.IsGenericTypeDefinition ? candidate : null;
    }

    /// <summary>
    /// The first of the old version's types inside <paramref name="oldType"/> (itself, an array's element, a generic argument)
    /// whose new type is of a kind that its objects cannot become (an enum that became a class, a class that became an
    /// interface), with that new type; null when every kind converts (class and struct convert either way).
    /// </summary>
    public (Type Old, Type New)? KindChange(Type oldType)
    {
        if (!InvolvesOld(oldType))
        {
            return null;
        }
        if (oldType.HasElementType)
        {
            return KindChange(oldType.GetElementType()!);
        }
        if (oldType.IsGenericType && !oldType.IsGenericTypeDefinition)
        {
            foreach (var argument in oldType.GetGenericArguments())
            {
                if (KindChange(argument) is { } inside)
                {
                    return inside;
                }
            }
            return null;
        }
        return Map(oldType) is { } mapped && !TypeFacts.KindsConvert(oldType, mapped) ? (oldType, mapped) : null;
    }

    /// <summary>
    /// Why a value of this declared type cannot cross to the new version (a delegate, a task, a thread, a timer, a
    /// compiler-generated object of the old version, a reflection object, or a collection of them), or null.
    /// </summary>
    public string? WhyCannotCross(Type type)
    {
        if (type.HasElementType)
        {
            return WhyCannotCross(type.GetElementType()!);
        }
        if (typeof(Delegate).IsAssignableFrom(type))
        {
            return "a delegate (it calls the old version's code)";
        }
        if (TypeFacts.WhyCannotCross(type) is { } why)
        {
            return why;
        }
        if (InvolvesOld(type) && TypeFacts.IsCompilerGeneratedCode(type.IsGenericType ? type.GetGenericTypeDefinition() : type))
        {
            return "an object of a compiler-generated type (a lambda closure, an async state machine or an iterator)";
        }
        if (typeof(MemberInfo).IsAssignableFrom(type) && !typeof(Type).IsAssignableFrom(type))
        {
            return "a reflection object (one of the program's methods, fields or properties cannot cross: the new version must look it up again)";
        }
        if (type.IsGenericType)
        {
            return type.GetGenericArguments().Select(WhyCannotCross).FirstOrDefault(w => w is not null);
        }
        return null;
    }
}
