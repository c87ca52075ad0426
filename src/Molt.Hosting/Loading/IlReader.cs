using System.Reflection;
using System.Reflection.Emit;

namespace Molt.Hosting.Loading;

/// <summary>Walks a method body's IL instruction by instruction: its opcodes and where their operands are.</summary>
internal static class IlReader
{
    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    /// <summary>Every method and constructor a type declares, static or not, whatever its visibility.</summary>
    public const BindingFlags AllDeclared =
        BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;

    /// <summary>The IL of a method, or null when it has none or it cannot be read.</summary>
    public static byte[]? Body(MethodBase method)
    {
        try
        {
            return method.GetMethodBody()?.GetILAsByteArray();
        }
        catch (Exception e) when (e is BadImageFormatException or InvalidOperationException or TypeLoadException)
        {
            return null;
        }
    }

    /// <summary>The instructions of a body, in order: each opcode and the offset of its operand. Stops at IL it does not know.</summary>
    public static IEnumerable<(OpCode Op, int Operand)> Instructions(byte[] il)
    {
        var at = 0;
        while (at < il.Length)
        {
            short value = il[at++];
            if (value == 0xFE)
            {
                if (at >= il.Length)
                {
                    yield break;
                }
                value = unchecked((short)(0xFE00 | il[at++]));
            }
            if (!OpCodesByValue.TryGetValue(value, out var op))
            {
                yield break; // Not IL this reader knows: stop rather than misread the rest.
            }
            var operand = at;
            at += OperandSize(op.OperandType, il, at);
            yield return (op, operand);
        }
    }

    /// <summary>The 4-byte operand (a metadata token, say) at <paramref name="at"/>.</summary>
    public static int ReadInt32(byte[] il, int at) => BitConverter.ToInt32(il, at);

    /// <summary>Resolves a token, or null when it cannot be (another generic context, a missing assembly).</summary>
    public static T? Resolve<T>(Func<T?> resolve) where T : class
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
