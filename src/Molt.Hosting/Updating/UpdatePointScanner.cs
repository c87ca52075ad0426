using System.Reflection;
using System.Reflection.Emit;
using Molt.Hosting.Loading;

namespace Molt.Hosting.Updating;

/// <summary>
/// Finds the update point names a version uses, from its IL: a <c>ldstr "name"</c> right before a call to
/// <see cref="Live.UpdatePoint"/> or <see cref="Live.UpdatePointAsync"/>. Names computed at run time are not seen.
/// </summary>
internal static class UpdatePointScanner
{
    /// <summary>The update point names used by the methods of these types (compiler-generated ones included: async code lives there).</summary>
    public static HashSet<string> Scan(IEnumerable<Type> types)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var type in types)
        {
            foreach (var method in type.GetMethods(IlReader.AllDeclared).Cast<MethodBase>().Concat(type.GetConstructors(IlReader.AllDeclared)))
            {
                if (IlReader.Body(method) is { } il)
                {
                    ScanBody(method.Module, il, names);
                }
            }
        }
        return names;
    }

    private static void ScanBody(Module module, byte[] il, HashSet<string> names)
    {
        string? lastString = null;
        foreach (var (op, operand) in IlReader.Instructions(il))
        {
            if (op == OpCodes.Ldstr)
            {
                lastString = IlReader.Resolve(() => module.ResolveString(IlReader.ReadInt32(il, operand)));
                continue;
            }
            if ((op == OpCodes.Call || op == OpCodes.Callvirt) && lastString is not null
                && IlReader.Resolve(() => module.ResolveMethod(IlReader.ReadInt32(il, operand))) is { Name: "UpdatePoint" or "UpdatePointAsync", DeclaringType.FullName: "Molt.Live" })
            {
                names.Add(lastString);
            }
            lastString = null;
        }
    }
}
