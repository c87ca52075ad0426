using System.Reflection;
using System.Reflection.Emit;

namespace Molt.Hosting.Updating;

/// <summary>
/// Finds the update point names a version uses, from its IL: a <c>ldstr "name"</c> right before a call to
/// <see cref="Live.UpdatePoint"/> or <see cref="Live.UpdatePointAsync"/>. Names computed at run time are not seen.
/// </summary>
internal static class UpdatePointScanner
{
    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    private const BindingFlags AllDeclared =
        BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;

    /// <summary>The update point names used by the methods of these types (compiler-generated ones included: async code lives there).</summary>
    public static HashSet<string> Scan(IEnumerable<Type> types)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var type in types)
        {
            foreach (var method in type.GetMethods(AllDeclared).Cast<MethodBase>().Concat(type.GetConstructors(AllDeclared)))
            {
                byte[]? il;
                try
                {
                    il = method.GetMethodBody()?.GetILAsByteArray();
                }
                catch (Exception e) when (e is BadImageFormatException or InvalidOperationException or TypeLoadException)
                {
                    continue;
                }
                if (il is not null)
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
        var at = 0;
        while (at < il.Length)
        {
            short value = il[at++];
            if (value == 0xFE)
            {
                if (at >= il.Length)
                {
                    return;
                }
                value = unchecked((short)(0xFE00 | il[at++]));
            }
            if (!OpCodesByValue.TryGetValue(value, out var op))
            {
                return; // Not IL this reader knows: stop rather than misread the rest.
            }
            var operand = at;
            at += OperandSize(op.OperandType, il, at);
            if (op == OpCodes.Ldstr)
            {
                lastString = Resolve(() => module.ResolveString(ReadInt32(il, operand)));
                continue;
            }
            if ((op == OpCodes.Call || op == OpCodes.Callvirt) && lastString is not null
                && Resolve(() => module.ResolveMethod(ReadInt32(il, operand))) is { Name: "UpdatePoint" or "UpdatePointAsync", DeclaringType.FullName: "Molt.Live" })
            {
                names.Add(lastString);
            }
            lastString = null;
        }
    }

    private static T? Resolve<T>(Func<T?> resolve) where T : class
    {
        try
        {
            return resolve();
        }
        catch (Exception e) when (e is ArgumentException or BadImageFormatException or TypeLoadException or MissingMemberException or FileNotFoundException)
        {
            return null;
        }
    }

    private static int ReadInt32(byte[] il, int at) => BitConverter.ToInt32(il, at);

    private static int OperandSize(OperandType type, byte[] il, int at) => type switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        OperandType.InlineSwitch => 4 + (4 * ReadInt32(il, at)),
        _ => 4,
    };
}
