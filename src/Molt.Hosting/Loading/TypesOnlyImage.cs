using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Runtime.CompilerServices;

namespace Molt.Hosting.Loading;

/// <summary>
/// An assembly's image with every static constructor's body reduced to <c>ret</c>: the old version loaded again to read a
/// state stream (issue 11) is there for its types only. Allocating an object uninitialized runs its class's static
/// constructor (<c>RuntimeHelpers.GetUninitializedObject</c> does), and the old version's static constructors must not run
/// again (a timer started, a file written): they ran once, in the process that wrote the stream. The metadata, and so the
/// MVID the stream is checked against, stay as they are.
/// </summary>
internal static class TypesOnlyImage
{
    private const byte Ret = 0x2A;

    /// <summary>Where each assembly loaded from a types-only image came from (such an assembly has no location).</summary>
    private static readonly ConditionalWeakTable<Assembly, string> Paths = new();

    public static void Remember(Assembly assembly, string path) => Paths.AddOrUpdate(assembly, path);

    /// <summary>An assembly's file: its location, or the file its types-only image was made from.</summary>
    public static string? PathOf(Assembly assembly) =>
        !string.IsNullOrEmpty(assembly.Location) ? assembly.Location : Paths.TryGetValue(assembly, out var path) ? path : null;

    public static byte[] Read(string path)
    {
        var image = File.ReadAllBytes(path);
        using var pe = new PEReader(new MemoryStream(image, writable: false));
        if (!pe.HasMetadata)
        {
            return image;
        }
        var metadata = pe.GetMetadataReader();
        foreach (var handle in metadata.MethodDefinitions)
        {
            var method = metadata.GetMethodDefinition(handle);
            if (method.RelativeVirtualAddress == 0 || !metadata.StringComparer.Equals(method.Name, ".cctor"))
            {
                continue;
            }
            var offset = FileOffset(pe.PEHeaders, method.RelativeVirtualAddress);
            if ((image[offset] & 3) == 2)
            {
                image[offset + 1] = Ret; // Tiny header: the code follows its one byte.
                continue;
            }
            // Fat header: no more sections (its exception clauses would name code that is no longer reached), code after 4 * size bytes.
            image[offset] = (byte)(image[offset] & ~0x08);
            image[offset + ((image[offset + 1] >> 4) * 4)] = Ret;
        }
        return image;
    }

    private static int FileOffset(PEHeaders headers, int rva)
    {
        foreach (var section in headers.SectionHeaders)
        {
            if (rva >= section.VirtualAddress && rva < section.VirtualAddress + Math.Max(section.VirtualSize, section.SizeOfRawData))
            {
                return rva - section.VirtualAddress + section.PointerToRawData;
            }
        }
        throw new BadImageFormatException($"a method body at RVA {rva:x} is in no section");
    }
}
