using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using Molt.Hosting.Transfer;

namespace Molt.Hosting.Loading;

/// <summary>
/// The closed instantiations of a program's own generic types that its code uses (<c>Pool&lt;int&gt;</c>,
/// <c>Cache&lt;Entry&gt;</c>): each has static fields of its own, which no list of the assembly's types includes, and the
/// runtime lists none. The assembly's metadata names every instantiation, of a type or of a generic method, that
/// non-generic code uses (its type and method specifications). Then the IL of each one found, read with its type
/// arguments, names those it forms over its type parameters (<c>Pool&lt;T&gt;</c> inside <c>Cache&lt;T&gt;</c> is
/// <c>Pool&lt;Entry&gt;</c> in <c>Cache&lt;Entry&gt;</c>; inside <c>Put&lt;T&gt;</c> called as <c>Put&lt;Entry&gt;</c>, too),
/// until no new one appears. Not found: instantiations that only reflection forms (<c>MakeGenericType</c>).
/// </summary>
internal static class GenericInstantiations
{
    // Generic code can form ever deeper instantiations (Node<T> using Node<List<T>>): the search stops there.
    private const int Limit = 4096;

    /// <summary>The instantiations of these assemblies' generic types (and methods) that their code uses.</summary>
    public static Type[] Find(IReadOnlyCollection<Assembly> assemblies)
    {
        var search = new Search(assemblies);
        foreach (var assembly in assemblies.Where(a => !a.IsDynamic && TypesOnlyImage.PathOf(a) is { } path && File.Exists(path)))
        {
            var module = assembly.ManifestModule;
            var (typeSpecs, methodSpecs) = Specifications(assembly);
            foreach (var token in typeSpecs)
            {
                search.Add(IlReader.Resolve(() => module.ResolveType(token)));
            }
            foreach (var token in methodSpecs)
            {
                search.Add(IlReader.Resolve(() => module.ResolveMethod(token)));
            }
        }
        search.Run();
        return [.. search.Types];
    }

    /// <summary>The tokens of the assembly's type and method specifications: every generic instantiation its code names.</summary>
    private static (int[] Types, int[] Methods) Specifications(Assembly assembly)
    {
        using var pe = new PEReader(File.OpenRead(TypesOnlyImage.PathOf(assembly)!));
        if (!pe.HasMetadata)
        {
            return ([], []);
        }
        var metadata = pe.GetMetadataReader();
        return (
            [.. Enumerable.Range(1, metadata.GetTableRowCount(TableIndex.TypeSpec)).Select(r => MetadataTokens.GetToken(MetadataTokens.TypeSpecificationHandle(r)))],
            [.. Enumerable.Range(1, metadata.GetTableRowCount(TableIndex.MethodSpec)).Select(r => MetadataTokens.GetToken(MetadataTokens.MethodSpecificationHandle(r)))]);
    }

    /// <summary>The instantiations found so far, and those whose code is still to read.</summary>
    private sealed class Search(IReadOnlyCollection<Assembly> assemblies)
    {
        private readonly HashSet<MethodBase> _methods = [];
        private readonly Queue<object> _work = new();

        public HashSet<Type> Types { get; } = [];

        public void Add(Type? type)
        {
            if (type is null || Types.Count >= Limit)
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
            if (assemblies.Contains(type.GetGenericTypeDefinition().Assembly) && !TypeFacts.IsCompilerGeneratedCode(type) && Types.Add(type))
            {
                _work.Enqueue(type);
            }
        }

        /// <summary>A method the code calls: its declaring type, and, when it is a closed instantiation of one of the assembly's generic methods, its code.</summary>
        public void Add(MethodBase? method)
        {
            if (method is null)
            {
                return;
            }
            Add(method.DeclaringType);
            if (method is MethodInfo { IsGenericMethod: true, ContainsGenericParameters: false } && assemblies.Contains(method.Module.Assembly)
                && _methods.Count < Limit && _methods.Add(method))
            {
                foreach (var argument in method.GetGenericArguments())
                {
                    Add(argument);
                }
                _work.Enqueue(method);
            }
        }

        public void Run()
        {
            while (_work.TryDequeue(out var next))
            {
                if (next is Type type)
                {
                    // Its generic methods have no method arguments here: their instantiations are reached as methods.
                    foreach (var method in type.GetMethods(IlReader.AllDeclared).Cast<MethodBase>().Concat(type.GetConstructors(IlReader.AllDeclared))
                        .Where(m => !m.IsGenericMethodDefinition))
                    {
                        Read(method, type.GetGenericArguments(), null);
                    }
                }
                else if (next is MethodInfo method)
                {
                    Read(method, method.DeclaringType is { IsGenericType: true } declaring ? declaring.GetGenericArguments() : null, method.GetGenericArguments());
                }
            }
        }

        /// <summary>Reads a method's IL in its generic context: every type, field and method it refers to.</summary>
        private void Read(MethodBase method, Type[]? typeArguments, Type[]? methodArguments)
        {
            if (IlReader.Body(method) is not { } il)
            {
                return;
            }
            var module = method.Module;
            foreach (var (op, operand) in IlReader.Instructions(il))
            {
                var token = op.OperandType is OperandType.InlineType or OperandType.InlineTok or OperandType.InlineField or OperandType.InlineMethod
                    ? IlReader.ReadInt32(il, operand) : 0;
                switch (op.OperandType)
                {
                    case OperandType.InlineType:
                    case OperandType.InlineTok:
                        // A token operand may name a type, a field or a method.
                        var member = IlReader.Resolve(() => module.ResolveMember(token, typeArguments, methodArguments));
                        if (member is Type t)
                        {
                            Add(t);
                        }
                        else if (member is MethodBase m)
                        {
                            Add(m);
                        }
                        else
                        {
                            Add(member?.DeclaringType);
                        }
                        break;
                    case OperandType.InlineField:
                        Add(IlReader.Resolve(() => module.ResolveField(token, typeArguments, methodArguments))?.DeclaringType);
                        break;
                    case OperandType.InlineMethod:
                        Add(IlReader.Resolve(() => module.ResolveMethod(token, typeArguments, methodArguments)));
                        break;
                }
            }
        }
    }
}
