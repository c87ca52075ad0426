using System.Reflection;
using System.Runtime.CompilerServices;

namespace Molt.Hosting.Transfer;

/// <summary>Facts about types and fields that do not depend on which two versions are involved.</summary>
internal static class TypeFacts
{
    public const BindingFlags DeclaredInstance = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
    public const BindingFlags DeclaredStatic = BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;

    /// <summary>Every instance field of a type, base types first.</summary>
    /// <remarks>In a hosted application, the fields that hold the framework's services are not state: they are left out (<see cref="HostedFields"/>).</remarks>
    public static List<FieldInfo> InstanceFields(Type type)
    {
        var levels = new List<FieldInfo[]>();
        for (var t = type; t is not null && t != typeof(object) && t != typeof(ValueType); t = t.BaseType)
        {
            levels.Add(t.GetFields(DeclaredInstance));
        }
        levels.Reverse();
        var fields = levels.SelectMany(l => l);
        return HostedFields.AppliesTo(type) ? [.. fields.Where(f => !HostedFields.IsFrameworkOwned(f))] : [.. fields];
    }

    /// <summary>The static fields of a type that can hold state: not constants.</summary>
    public static IEnumerable<FieldInfo> StaticFields(Type type)
    {
        var fields = type.GetFields(DeclaredStatic).Where(f => !f.IsLiteral);
        return HostedFields.AppliesTo(type) ? fields.Where(f => !HostedFields.IsFrameworkOwned(f)) : fields;
    }

    /// <summary>A field's name as the program wrote it: an auto-property's backing field is named after the property.</summary>
    public static string LogicalName(FieldInfo field)
    {
        var name = field.Name;
        const string suffix = ">k__BackingField";
        return name.StartsWith('<') && name.EndsWith(suffix, StringComparison.Ordinal) ? name[1..^suffix.Length] : name;
    }

    /// <summary>The auto-property a backing field belongs to, if any.</summary>
    public static PropertyInfo? PropertyOf(FieldInfo field)
    {
        var logical = LogicalName(field);
        if (logical == field.Name)
        {
            return null;
        }
        var flags = (field.IsStatic ? BindingFlags.Static : BindingFlags.Instance) | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
        return field.DeclaringType?.GetProperty(logical, flags);
    }

    /// <summary>
    /// The name the field (or its auto-property) had in the old version: its [RenamedFrom] name when the old version has
    /// a field of that name, else its own. A [RenamedFrom] left in place in later versions (or met on the way back) names
    /// a field the old version no longer has, and the field of the same name is the one.
    /// </summary>
    public static string OldNameOf(FieldInfo newField, Func<string, bool> oldHas) =>
        RenamedFrom(newField) is { } renamed && oldHas(renamed) ? renamed : LogicalName(newField);

    /// <summary>The name a field (or its auto-property) was renamed from, if it says so with <see cref="RenamedFromAttribute"/>.</summary>
    public static string? RenamedFrom(FieldInfo field) =>
        field.GetCustomAttribute<RenamedFromAttribute>()?.OldName
        ?? PropertyOf(field)?.GetCustomAttribute<RenamedFromAttribute>()?.OldName;

    /// <summary>
    /// The old field that a new field takes its value from: the one of the same (or [RenamedFrom]) name, or else, when
    /// going back to an earlier version (a rollback), the old field whose [RenamedFrom] names the new field — a
    /// rename read backwards, so that the earlier version, which cannot know of it, still gets its field's value.
    /// </summary>
    public static FieldInfo? OldFieldFor(FieldInfo newField, ILookup<string, FieldInfo> oldByName, IReadOnlySet<string> newNames)
    {
        var candidates = oldByName[OldNameOf(newField, oldByName.Contains)].ToList();
        if (candidates.Count == 0)
        {
            var name = LogicalName(newField);
            candidates = [.. oldByName.SelectMany(g => g).Where(f => RenamedFrom(f) == name && !newNames.Contains(LogicalName(f)))];
        }
        return candidates.FirstOrDefault(f => f.DeclaringType?.Name == newField.DeclaringType?.Name) ?? candidates.FirstOrDefault();
    }

    public static bool IsNotMigrated(FieldInfo field) =>
        field.IsDefined(typeof(NotMigratedAttribute), false) || PropertyOf(field)?.IsDefined(typeof(NotMigratedAttribute), false) == true;

    /// <summary>An anonymous type (<c>new { a, b }</c>).</summary>
    public static bool IsAnonymous(Type type) => type.Name.StartsWith("<>f__AnonymousType", StringComparison.Ordinal);

    /// <summary>A type the compiler made for a lambda, a local function, an async method or an iterator.</summary>
    public static bool IsCompilerGeneratedCode(Type type)
    {
        for (var t = type; t is not null; t = t.DeclaringType)
        {
            if (t.Name.StartsWith('<') && !t.Name.StartsWith("<>f__AnonymousType", StringComparison.Ordinal))
            {
                return true;
            }
        }
        return typeof(IAsyncStateMachine).IsAssignableFrom(type);
    }

    /// <summary>
    /// Whether a value of this (framework) type may hold objects of the program's types, so that it must be
    /// rebuilt rather than passed by reference. Open types (object, interfaces, abstract classes) may hold
    /// anything; sealed and concrete framework types are taken at their word.
    /// </summary>
    public static bool MayHoldProgramObjects(Type type)
    {
        if (type == typeof(CancellationToken))
        {
            // A token holds its source, whose callbacks may be the program's: checked like the source itself, not copied as bits.
            return true;
        }
        if (type.IsArray)
        {
            return IsOpen(type.GetElementType()!) || MayHoldProgramObjects(type.GetElementType()!);
        }
        if (type.IsGenericType)
        {
            return type.GetGenericArguments().Any(a => IsOpen(a) || MayHoldProgramObjects(a));
        }
        return false;
    }

    /// <summary>A type of ASP.NET Core's server (Kestrel's connection and stream objects): the server outlives a hosted application's versions.</summary>
    public static bool IsServerObject(Type type) =>
        type.Assembly.GetName().Name is { } name && name.StartsWith("Microsoft.AspNetCore.", StringComparison.Ordinal);

    /// <summary>A type whose values may be of the program's types or run its code: object, interfaces, abstract classes, delegates, tasks.</summary>
    private static bool IsOpen(Type type) =>
        type == typeof(object) || type.IsInterface || (type.IsAbstract && !type.IsSealed) || type == typeof(ValueType) || type == typeof(Enum)
        || typeof(Delegate).IsAssignableFrom(type) || WhyCannotCross(type) is not null;

    /// <summary>A reference type whose objects never hold other objects that could need rebuilding: copy the reference.</summary>
    public static bool IsPlainReference(Type type) =>
        type == typeof(string) || (type.IsArray && type.GetElementType() is { } e && (e.IsPrimitive || e == typeof(string) || e == typeof(decimal)));

    /// <summary>A value type with no references to rebuild inside: copy the bits.</summary>
    public static bool IsPlainValue(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(decimal) || type == typeof(DateTime) || type == typeof(DateTimeOffset)
        || type == typeof(TimeSpan) || type == typeof(Guid) || type == typeof(DateOnly) || type == typeof(TimeOnly)
        || (type.IsValueType && !type.IsGenericType && type.Assembly == typeof(object).Assembly
            && type.GetFields(DeclaredInstance).All(f => f.FieldType != type && IsPlainValue(f.FieldType)));

    /// <summary>Framework objects that run code of the version that made them: they cannot cross an update.</summary>
    public static string? WhyCannotCross(Type type)
    {
        if (typeof(Task).IsAssignableFrom(type))
        {
            return "a Task (its continuations run the old version's code)";
        }
        if (type == typeof(Thread))
        {
            return "a Thread (it runs the old version's code; start a unit instead)";
        }
        if (type == typeof(Timer) || type.FullName == "System.Timers.Timer")
        {
            return "a timer (its callback is the old version's code)";
        }
        if (type.IsGenericType && type.GetGenericTypeDefinition() is var definition
            && (definition == typeof(ThreadLocal<>) || definition == typeof(AsyncLocal<>)))
        {
            return $"a {definition.Name[..^2]}<T> (its values belong to threads or flows of the old version, which the update re-creates; " +
                "mark it [NotMigrated] and let the new version create its own)";
        }
        return null;
    }

    /// <summary>The kind of a type, as the rules of an update name it: enum, interface, delegate, struct or class.</summary>
    public static string Kind(Type type) =>
        type.IsEnum ? "enum" : type.IsInterface ? "interface" : typeof(Delegate).IsAssignableFrom(type) ? "delegate" : type.IsValueType ? "struct" : "class";

    /// <summary>
    /// Whether objects of one kind of type can become objects of another by copying fields: the same kind, or a class and a
    /// struct either way. An enum and anything else, or an interface and a class, have nothing to copy between them.
    /// </summary>
    public static bool KindsConvert(Type oldType, Type newType)
    {
        var (from, to) = (Kind(oldType), Kind(newType));
        return from == to || from is "class" or "struct" && to is "class" or "struct";
    }

    /// <summary>A readable name for a type, generic arguments included.</summary>
    public static string Describe(Type type)
    {
        if (type.IsArray)
        {
            return Describe(type.GetElementType()!) + "[]";
        }
        if (!type.IsGenericType)
        {
            return type.FullName ?? type.Name;
        }
        var name = type.GetGenericTypeDefinition().FullName ?? type.Name;
        var tick = name.IndexOf('`');
        return $"{(tick < 0 ? name : name[..tick])}<{string.Join(", ", type.GetGenericArguments().Select(Describe))}>";
    }
}
