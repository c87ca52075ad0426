using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using Molt.Hosting.Transfer;

namespace Molt.Hosting.Loading;

/// <summary>
/// The closed instantiations of an assembly's own generic types that its code uses (<c>Pool&lt;int&gt;</c>,
/// <c>Cache&lt;Entry&gt;</c>): each has static fields of its own, which no list of the assembly's types includes, and the
/// runtime lists none. Found in two steps. The assembly's type specifications name every instantiation that
/// non-generic code uses. Then the IL of each instantiation found, read in its own generic context, names those it
/// forms over its type parameters (<c>Pool&lt;T&gt;</c> inside <c>Cache&lt;T&gt;</c> is <c>Pool&lt;Entry&gt;</c> in
/// <c>Cache&lt;Entry&gt;</c>), until no new one appears. Not found: instantiations formed only inside generic methods,
/// over the method's own type parameters.
/// </summary>
internal static class GenericInstantiations
{
    // Generic code can form ever deeper instantiations (Node<T> using Node<List<T>>): the search stops there.
    private const int Limit = 4096;

    public static Type[] Find(Assembly assembly)
    {
        if (assembly.IsDynamic || string.IsNullOrEmpty(assembly.Location) || !File.Exists(assembly.Location))
        {
            return [];
        }
        var found = new HashSet<Type>();
        var work = new Queue<Type>();
        void Add(Type? type)
        {
            if (type is null || found.Count >= Limit)
            {
                return;
            }
            if (type.HasElementType)
            {
                Add(type.GetElementType());
                return;
            }
            if (!type.IsGenericType || type.ContainsGenericParameters)
            {
                return;
            }
            foreach (var argument in type.GetGenericArguments())
            {
                Add(argument);
            }
            if (type.GetGenericTypeDefinition().Assembly == assembly && !TypeFacts.IsCompilerGeneratedCode(type) && found.Add(type))
            {
                work.Enqueue(type);
            }
        }

        foreach (var token in TypeSpecifications(assembly))
        {
            Add(IlReader.Resolve(() => assembly.ManifestModule.ResolveType(token)));
        }
        while (work.TryDequeue(out var instantiation))
        {
            foreach (var used in UsedBy(instantiation))
            {
                Add(used);
            }
        }
        return [.. found];
    }

    /// <summary>The tokens of the assembly's type specifications: every generic instantiation its code names.</summary>
    private static IEnumerable<int> TypeSpecifications(Assembly assembly)
    {
        using var pe = new PEReader(File.OpenRead(assembly.Location));
        if (!pe.HasMetadata)
        {
            return [];
        }
        var count = pe.GetMetadataReader().GetTableRowCount(TableIndex.TypeSpec);
        return [.. Enumerable.Range(1, count).Select(row => MetadataTokens.GetToken(MetadataTokens.TypeSpecificationHandle(row)))];
    }

    /// <summary>The types an instantiation's own code refers to, resolved with its type arguments.</summary>
    private static IEnumerable<Type> UsedBy(Type instantiation)
    {
        var arguments = instantiation.GetGenericArguments();
        var module = instantiation.Module;
        foreach (var method in instantiation.GetMethods(IlReader.AllDeclared).Cast<MethodBase>().Concat(instantiation.GetConstructors(IlReader.AllDeclared)))
        {
            if (method.IsGenericMethodDefinition || IlReader.Body(method) is not { } il)
            {
                continue; // A generic method's own type parameters have no arguments here.
            }
            foreach (var (op, operand) in IlReader.Instructions(il))
            {
                var type = op.OperandType switch
                {
                    OperandType.InlineType or OperandType.InlineTok =>
                        IlReader.Resolve(() => module.ResolveType(IlReader.ReadInt32(il, operand), arguments, null)),
                    OperandType.InlineField => IlReader.Resolve(() => module.ResolveField(IlReader.ReadInt32(il, operand), arguments, null))?.DeclaringType,
                    OperandType.InlineMethod => IlReader.Resolve(() => module.ResolveMethod(IlReader.ReadInt32(il, operand), arguments, null))?.DeclaringType,
                    _ => null,
                };
                if (type is not null)
                {
                    yield return type;
                }
            }
        }
    }
}
