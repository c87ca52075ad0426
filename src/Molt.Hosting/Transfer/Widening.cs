using System.Reflection.Emit;

namespace Molt.Hosting.Transfer;

/// <summary>The implicit numeric conversions of C# that lose nothing (int to long, float to double...), as IL.</summary>
internal static class Widening
{
    private static readonly Dictionary<Type, Type[]> To = new()
    {
        [typeof(sbyte)] = [typeof(short), typeof(int), typeof(long), typeof(float), typeof(double)],
        [typeof(byte)] = [typeof(short), typeof(ushort), typeof(int), typeof(uint), typeof(long), typeof(ulong), typeof(float), typeof(double)],
        [typeof(short)] = [typeof(int), typeof(long), typeof(float), typeof(double)],
        [typeof(ushort)] = [typeof(int), typeof(uint), typeof(long), typeof(ulong), typeof(float), typeof(double)],
        [typeof(char)] = [typeof(ushort), typeof(int), typeof(uint), typeof(long), typeof(ulong), typeof(float), typeof(double)],
        [typeof(int)] = [typeof(long), typeof(double)],
        [typeof(uint)] = [typeof(long), typeof(ulong), typeof(double)],
        [typeof(float)] = [typeof(double)],
    };

    private static readonly HashSet<Type> Unsigned = [typeof(byte), typeof(ushort), typeof(char), typeof(uint), typeof(ulong)];

    public static bool CanWiden(Type from, Type to) => To.TryGetValue(from, out var targets) && targets.Contains(to);

    /// <summary>Emits the conversion of the value on the evaluation stack.</summary>
    public static void Emit(ILGenerator il, Type from, Type to)
    {
        var unsigned = Unsigned.Contains(from);
        if (to == typeof(double) || to == typeof(float))
        {
            if (unsigned)
            {
                il.Emit(OpCodes.Conv_R_Un);
            }
            il.Emit(to == typeof(double) ? OpCodes.Conv_R8 : OpCodes.Conv_R4);
        }
        else if (to == typeof(long) || to == typeof(ulong))
        {
            il.Emit(unsigned ? OpCodes.Conv_U8 : OpCodes.Conv_I8);
        }
        // Smaller integers are already 32-bit values on the evaluation stack.
    }
}
