using System.Reflection;
using Molt.Hosting.Loading;

namespace Molt.Hosting.Transfer;

/// <summary>The transformers, renames and state checks that a new version declares.</summary>
internal sealed class TransformerSet
{
    /// <summary>Type transformers by old type name.</summary>
    public Dictionary<string, TypeTransformer> ByOldType { get; } = new(StringComparer.Ordinal);

    /// <summary>Field transformers by the new field they compute.</summary>
    public Dictionary<FieldInfo, MethodInfo> ByNewField { get; } = [];

    /// <summary>New types renamed from an old name, by old name.</summary>
    public Dictionary<string, Type> Renames { get; } = new(StringComparer.Ordinal);

    public List<MethodInfo> AfterTransfer { get; } = [];

    public List<(MethodInfo Method, string Description)> StateChecks { get; } = [];

    /// <summary>Finds and checks every declaration in the new version.</summary>
    /// <exception cref="UpdateFailedException">A declaration has the wrong shape.</exception>
    public static TransformerSet Discover(ProgramVersion version)
    {
        var set = new TransformerSet();
        foreach (var type in version.ProgramTypes())
        {
            if (type.GetCustomAttribute<RenamedFromAttribute>() is { } renamed)
            {
                set.Renames[renamed.OldName] = type;
            }
            foreach (var method in type.GetMethods(TypeFacts.DeclaredStatic))
            {
                set.Add(method);
            }
        }
        return set;
    }

    /// <summary>
    /// Forgets the transformers, renames, after-transfer steps and state checks that libraries both versions share declare:
    /// they were written for the update that brought the library, and its state does not move in this one (a check of a whole
    /// keyspace would cost the pause what sharing it saved).
    /// </summary>
    public void LeaveOut(IReadOnlySet<Assembly> shared)
    {
        if (shared.Count == 0)
        {
            return;
        }
        bool In(MethodInfo m) => m.DeclaringType is { } t && shared.Contains(t.Assembly);
        foreach (var (name, _) in ByOldType.Where(t => In(t.Value.Method)).ToList())
        {
            ByOldType.Remove(name);
        }
        foreach (var (field, _) in ByNewField.Where(t => In(t.Value)).ToList())
        {
            ByNewField.Remove(field);
        }
        foreach (var (name, _) in Renames.Where(r => shared.Contains(r.Value.Assembly)).ToList())
        {
            Renames.Remove(name);
        }
        AfterTransfer.RemoveAll(In);
        StateChecks.RemoveAll(c => In(c.Method));
    }

    private void Add(MethodInfo method)
    {
        var where = $"{method.DeclaringType?.FullName}.{method.Name}";
        var parameters = method.GetParameters();
        if (method.GetCustomAttribute<TransformTypeAttribute>() is { } typeTransformer)
        {
            TypeTransformer transformer;
            if (parameters.Length == 1 && parameters[0].ParameterType == typeof(OldObject) && method.ReturnType != typeof(void))
            {
                transformer = new TypeTransformer(method, method.ReturnType, IsFactory: true);
            }
            else if (parameters.Length == 2 && parameters[0].ParameterType == typeof(OldObject) && method.ReturnType == typeof(void)
                && !parameters[1].ParameterType.IsValueType)
            {
                transformer = new TypeTransformer(method, parameters[1].ParameterType, IsFactory: false);
            }
            else
            {
                throw Bad(where, "a type transformer is 'static NewType M(OldObject old)' or 'static void M(OldObject old, NewClass target)'");
            }
            if (!ByOldType.TryAdd(typeTransformer.OldTypeName, transformer))
            {
                throw Bad(where, $"old type '{typeTransformer.OldTypeName}' already has a transformer");
            }
            if (!transformer.IsFactory || !transformer.NewType.IsAbstract && !transformer.NewType.IsInterface)
            {
                Renames.TryAdd(typeTransformer.OldTypeName, transformer.NewType);
            }
        }
        if (method.GetCustomAttribute<TransformFieldAttribute>() is { } fieldTransformer)
        {
            if (parameters.Length != 1 || parameters[0].ParameterType != typeof(OldObject) || method.ReturnType == typeof(void))
            {
                throw Bad(where, "a field transformer is 'static TField M(OldObject old)'");
            }
            var field = TypeFacts.InstanceFields(fieldTransformer.Type)
                .FirstOrDefault(f => TypeFacts.LogicalName(f) == fieldTransformer.FieldName)
                ?? throw Bad(where, $"type {fieldTransformer.Type.FullName} has no field or auto-property '{fieldTransformer.FieldName}'");
            if (!field.FieldType.IsAssignableFrom(method.ReturnType))
            {
                throw Bad(where, $"it returns {TypeFacts.Describe(method.ReturnType)}, but the field is {TypeFacts.Describe(field.FieldType)}");
            }
            ByNewField[field] = method;
        }
        if (method.IsDefined(typeof(AfterTransferAttribute)))
        {
            if (parameters.Length != 1 || parameters[0].ParameterType != typeof(OldVersion))
            {
                throw Bad(where, "an after-transfer step is 'static void M(OldVersion old)'");
            }
            AfterTransfer.Add(method);
        }
        if (method.GetCustomAttribute<StateCheckAttribute>() is { } check)
        {
            if (parameters.Length != 0 || (method.ReturnType != typeof(void) && method.ReturnType != typeof(bool)))
            {
                throw Bad(where, "a state check is 'static void M()' or 'static bool M()'");
            }
            StateChecks.Add((method, check.Description ?? where));
        }
    }

    private static UpdateFailedException Bad(string where, string rule) =>
        new(UpdatePhase.Prepare, $"The new version's transformer {where} has the wrong shape: {rule}.");
}

/// <summary>A type transformer: a factory that builds the new object, or a step that fills it after the default mapping.</summary>
internal sealed record TypeTransformer(MethodInfo Method, Type NewType, bool IsFactory);
