using System.Reflection;

namespace Molt.Hosting.Tests;

/// <summary>
/// The public API of each library is committed as a text file beside its project (PublicAPI.txt) and
/// changes only deliberately: a change shows up here, and the actual listing is written next to the file
/// as PublicAPI.received.txt to review and copy over.
/// </summary>
public class PublicApiTests
{
    [Theory]
    [InlineData("Molt", "src/Molt/PublicAPI.txt")]
    [InlineData("Molt.Hosting", "src/Molt.Hosting/PublicAPI.txt")]
    [InlineData("Molt.Extensions.Hosting", "src/Molt.Extensions.Hosting/PublicAPI.txt")]
    public void PublicApi_MatchesCommittedListing(string assemblyName, string listing)
    {
        var assembly = Assembly.Load(assemblyName);
        var actual = string.Join("\n", Describe(assembly)) + "\n";
        var path = DocsTests.FindDoc(listing.Replace("PublicAPI.txt", "", StringComparison.Ordinal) + (assemblyName + ".csproj"));
        var file = Path.Combine(Path.GetDirectoryName(path)!, "PublicAPI.txt");
        var expected = File.Exists(file) ? File.ReadAllText(file).ReplaceLineEndings("\n") : "";
        if (expected != actual)
        {
            File.WriteAllText(Path.Combine(Path.GetDirectoryName(file)!, "PublicAPI.received.txt"), actual);
        }
        Assert.Equal(expected, actual);
    }

    private static IEnumerable<string> Describe(Assembly assembly)
    {
        const BindingFlags declared = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        foreach (var type in assembly.GetExportedTypes().OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            var kind = type.IsEnum ? "enum" : type.IsInterface ? "interface" : type.IsValueType ? "struct"
                : type.IsAbstract && type.IsSealed ? "static class" : type.IsSealed ? "sealed class" : "class";
            var baseType = type.BaseType is { } b && b != typeof(object) && b != typeof(ValueType) && b != typeof(Enum) ? $" : {Name(b)}" : "";
            yield return $"{kind} {Name(type)}{baseType}";
            var members = type.GetMembers(declared)
                .Where(m => m is not MethodInfo { IsSpecialName: true } && !(type.IsEnum && m.Name == "value__"))
                .Select(m => "  " + Member(m))
                .Where(m => !m.Contains("<Clone>$", StringComparison.Ordinal))
                .OrderBy(m => m, StringComparer.Ordinal);
            foreach (var member in members)
            {
                yield return member;
            }
        }
    }

    private static string Member(MemberInfo member) => member switch
    {
        ConstructorInfo c => $"ctor({Parameters(c)})",
        MethodInfo m => $"{(m.IsStatic ? "static " : "")}{Name(m.ReturnType)} {m.Name}{(m.IsGenericMethod ? $"<{string.Join(", ", m.GetGenericArguments().Select(Name))}>" : "")}({Parameters(m)})",
        PropertyInfo p => $"{(p.GetMethod?.IsStatic == true ? "static " : "")}{Name(p.PropertyType)} {p.Name} {{ {(p.GetMethod?.IsPublic == true ? "get; " : "")}{(p.SetMethod?.IsPublic == true ? (p.SetMethod.ReturnParameter.GetRequiredCustomModifiers().Any(t => t.Name == "IsExternalInit") ? "init; " : "set; ") : "")}}}",
        FieldInfo f => $"{(f.IsStatic ? "static " : "")}{Name(f.FieldType)} {f.Name}",
        EventInfo e => $"event {Name(e.EventHandlerType!)} {e.Name}",
        Type t => $"nested {Name(t)}",
        _ => member.ToString() ?? member.Name,
    };

    private static string Parameters(MethodBase method) =>
        string.Join(", ", method.GetParameters().Select(p => $"{Name(p.ParameterType)} {p.Name}{(p.HasDefaultValue ? " = " + (p.DefaultValue ?? "null") : "")}"));

    private static string Name(Type type)
    {
        if (type.IsGenericParameter)
        {
            return type.Name;
        }
        if (type.IsArray)
        {
            return Name(type.GetElementType()!) + "[]";
        }
        var name = type.Namespace is "System" or "System.Threading" or "System.Threading.Tasks" or "System.Collections.Generic" ? type.Name : type.FullName ?? type.Name;
        if (!type.IsGenericType)
        {
            return name;
        }
        var tick = name.IndexOf('`', StringComparison.Ordinal);
        return $"{(tick < 0 ? name : name[..tick])}<{string.Join(", ", type.GetGenericArguments().Select(Name))}>";
    }
}
