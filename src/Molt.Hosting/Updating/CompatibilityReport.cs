using System.Reflection;
using Molt.Hosting.Control;
using Molt.Hosting.Loading;
using Molt.Hosting.Transfer;

namespace Molt.Hosting.Updating;

/// <summary>
/// The compatibility report of a new version against the running one, built from the transfer plan that the
/// prepare phase makes anyway: the types and fields that changed and what covers each change, the state that
/// cannot cross, and the units that the new version would drop or resume elsewhere. The verdict is the plan's:
/// the update goes ahead exactly when no change is left that nothing covers.
/// </summary>
internal sealed class CompatibilityReport
{
    private readonly List<CheckFinding> _findings = [];

    private CompatibilityReport(TransferPlan plan)
    {
        Plan = plan;
    }

    public TransferPlan Plan { get; }

    public IReadOnlyList<CheckFinding> Findings => _findings;

    /// <summary>Whether the update would go ahead.</summary>
    public bool Compatible => _findings.TrueForAll(f => f.Severity != CheckSeverity.Incompatible);

    private TypeMap Map => Plan.Map;

    /// <summary>Builds the report of a plan, for the running version's units.</summary>
    /// <param name="plan">The transfer's plan.</param>
    /// <param name="units">The running version's units.</param>
    /// <param name="acrossProcesses">A process update's check, in the new process: what is bound to the old process cannot
    /// cross either, and the old statics' values are not at hand (the old version there is loaded for its types only).</param>
    public static CompatibilityReport Create(TransferPlan plan, IReadOnlyList<(string Name, object State, UnitEntry Entry, string? LastSeenAt)> units, bool acrossProcesses = false)
    {
        var report = new CompatibilityReport(plan) { _acrossProcesses = acrossProcesses };
        report.CheckProgramIdentity();
        report.DescribeSharedLibraries();
        report.CompareTypes();
        report.CheckUnits(units);
        report.DescribeHostedState(units);
        // The plan is the authority on what nothing covers: each problem it refuses for that no incompatible finding of the
        // comparison names (by its subject) is listed as the plan says it.
        var named = report._findings.Where(f => f.Severity == CheckSeverity.Incompatible).Select(f => f.Subject).ToList();
        report._findings.AddRange(plan.Problems
            .Where(p => !named.Exists(subject => p.Contains(subject, StringComparison.Ordinal)))
            .Select(p => new CheckFinding(CheckFindingKind.Refusal, "state", CheckCoverage.Nothing, CheckSeverity.Incompatible, p)));
        return report;
    }

    /// <summary>The check's trial transfer of the running state, when it ran (<see cref="ApplyTrial"/>).</summary>
    public CheckTrial? Trial { get; private set; }

    /// <summary>
    /// Adds what the trial transfer found: each holder of state it refused (the update would be rolled back at transfer), whether
    /// the state holds the enum members the new enum lacks, and when the state never held still, a warning: the verdict is then the types'.
    /// </summary>
    public void ApplyTrial(TrialOutcome outcome)
    {
        Trial = outcome.Trial;
        switch (outcome.Trial.Outcome)
        {
            case CheckTrialOutcome.Carried:
                // Every value crossed: no value of a removed enum member is held now.
                MarkRemovedMembers(_ => false);
                break;
            case CheckTrialOutcome.StateChanging:
                Add(CheckFindingKind.TrialInconclusive, "state", CheckCoverage.NotNeeded, CheckSeverity.Warning,
                    $"! the trial transfer of the running state did not complete in {outcome.Trial.Attempts} attempts: a collection changed under it each time " +
                    "(the program kept writing): the verdict is the types' alone, and the values themselves are tried only by the update");
                break;
            case CheckTrialOutcome.Refused:
                var held = outcome.Refusals.Where(r => r.EnumValue is { Member: not null }).Select(r => $"{r.EnumValue!.Value.Enum.FullName}.{r.EnumValue.Value.Member}").ToHashSet(StringComparer.Ordinal);
                MarkRemovedMembers(subject => held.Contains(subject) ? true : null);
                foreach (var refusal in outcome.Refusals)
                {
                    var at = refusal.Path ?? "state";
                    _findings.Add(new CheckFinding(CheckFindingKind.StateRefused, at, CheckCoverage.Nothing, CheckSeverity.Incompatible,
                        $"! {(refusal.Path is null ? "" : $"{refusal.Path}: ")}{refusal.Reason}: the update would be rolled back at transfer")
                    { Held = true, Path = refusal.Path });
                }
                break;
        }
    }

    private void MarkRemovedMembers(Func<string, bool?> held)
    {
        for (var i = 0; i < _findings.Count; i++)
        {
            if (_findings[i] is { Kind: CheckFindingKind.EnumMemberRemoved } removed && held(removed.Subject) is { } isHeld)
            {
                _findings[i] = removed with
                {
                    Held = isHeld,
                    Detail = removed.Detail + (isHeld ? "; the running state holds it now" : "; the running state holds none now"),
                };
            }
        }
    }

    /// <summary>The report as the CLI prints it and as the control channel sends it.</summary>
    public CheckSummary ToSummary(ProgramVersionInfo from, ProgramVersionInfo to)
    {
        var lines = new List<string> { $"{from} -> {to}" };
        var counts = string.Join(", ", new[]
        {
            (CheckFindingKind.TypeAdded, "added"), (CheckFindingKind.TypeRemoved, "removed"), (CheckFindingKind.TypeRenamed, "renamed"),
            (CheckFindingKind.TypeTransformed, "built by a transformer"), (CheckFindingKind.TypeChanged, "changed"),
        }.Select(k => $"{_findings.Count(f => f.Kind == k.Item1)} {k.Item2}"));
        lines.Add($"types: {counts}");
        lines.AddRange(_findings.Select(Line));
        if (_findings.Exists(f => f.Kind == CheckFindingKind.OpenType))
        {
            lines.Add("note: values held in fields of open types (object, interfaces, abstract classes) are only checked at update time");
        }
        if (Trial is { } trial)
        {
            lines.Add($"trial transfer of the running state: {trial.Outcome switch { CheckTrialOutcome.Carried => "every value crossed", CheckTrialOutcome.Refused => "refused", _ => "state kept changing" }}; " +
                $"{trial.ObjectsRebuilt:N0} objects rebuilt, {trial.ReferencesPassed:N0} references passed, {trial.Milliseconds:0.#} ms " +
                $"(measured while the program ran, without the pause; in {trial.Attempts} attempt{(trial.Attempts == 1 ? "" : "s")}; [AfterTransfer] steps and [StateCheck]s not run)");
        }
        lines.Add(Verdict);
        return new CheckSummary(Compatible, lines) { Findings = [.. _findings], Trial = Trial };
    }

    /// <summary>The verdict line: compatible or not, and why.</summary>
    public string Verdict
    {
        get
        {
            var warnings = _findings.Count(f => f.Severity == CheckSeverity.Warning);
            var also = warnings == 0 ? "" : $" ({warnings} warning{(warnings == 1 ? "" : "s")} above)";
            if (Compatible)
            {
                var tried = Trial?.Outcome == CheckTrialOutcome.Carried ? ", and every value of the running state crossed in a trial transfer" : "";
                return $"verdict: compatible: every change is covered by the default mapping or a transformer{tried}{also}";
            }
            var reasons = _findings.Where(f => f.Severity == CheckSeverity.Incompatible).ToList();
            var refused = reasons.Where(r => r.Kind == CheckFindingKind.StateRefused).ToList();
            if (refused.Count == reasons.Count)
            {
                // The types allow it; the state it holds now does not.
                return $"verdict: NOT compatible: the update would be rolled back at transfer: {refused.Count} value{(refused.Count == 1 ? "" : "s")} of the running state " +
                    $"cannot cross ({string.Join("; ", refused.Select(r => r.Subject))}){also}";
            }
            return $"verdict: NOT compatible: {reasons.Count} change{(reasons.Count == 1 ? "" : "s")} that nothing covers " +
                $"({string.Join("; ", reasons.Select(r => r.Subject))}){also}";
        }
    }

    /// <summary>Why the update is refused: the plan's own message, so that a refusal reads the same whether checked or updated.</summary>
    public string RefusalMessage =>
        _findings.Find(f => f.Kind == CheckFindingKind.Refusal && f.Subject == "program") is { } otherProgram ? otherProgram.Detail
        : Plan.Problems.Count > 0 ? Plan.RefusalMessage
        : "The new version changes state in ways that nothing covers:" +
          string.Concat(_findings.Where(f => f.Severity == CheckSeverity.Incompatible).Select(f => "\n  - " + f.Detail));

    private static string Line(CheckFinding f)
    {
        var mark = f.Severity switch { CheckSeverity.Incompatible => "INCOMPATIBLE", CheckSeverity.Warning => "warning", _ => "" };
        var covered = f.Coverage switch
        {
            CheckCoverage.DefaultMapping => "default mapping",
            CheckCoverage.Transformer => "transformer",
            CheckCoverage.Nothing => "nothing covers it",
            _ => "",
        };
        var tags = string.Join(", ", new[] { mark, covered }.Where(t => t.Length > 0));
        var indent = f.Kind is >= CheckFindingKind.FieldAdded and <= CheckFindingKind.FieldComputed
            or CheckFindingKind.EnumMemberRenumbered or CheckFindingKind.EnumMemberRenamed or CheckFindingKind.EnumMemberRemoved ? "    " : "  ";
        return $"{indent}{f.Detail}{(tags.Length == 0 ? "" : $" [{tags}]")}";
    }

    private void Add(CheckFindingKind kind, string subject, CheckCoverage coverage, CheckSeverity severity, string detail) =>
        _findings.Add(new CheckFinding(kind, subject, coverage, severity, detail));

    // ---- The program ----

    /// <summary>What a program says in its project when it was renamed: <c>&lt;AssemblyMetadata Include="Molt.RenamedFrom" Value="OldName" /&gt;</c>.</summary>
    internal const string RenamedFromMetadata = "Molt.RenamedFrom";

    /// <summary>
    /// An update moves a program to a version of itself: a path to another program (a slip of the operator's, at
    /// 3 a.m.) is refused here, before any pause, rather than dropping every static the two do not share. A program
    /// renamed between versions says so with its assembly metadata (read both ways, for a rollback).
    /// </summary>
    private void CheckProgramIdentity()
    {
        var (running, incoming) = (Map.Old.Info.AssemblyName, Map.New.Info.AssemblyName);
        if (string.Equals(running, incoming, StringComparison.Ordinal))
        {
            return;
        }
        static bool RenamedFrom(Assembly assembly, string name) => assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Any(a => a.Key == RenamedFromMetadata && string.Equals(a.Value, name, StringComparison.Ordinal));
        if (RenamedFrom(Map.New.MainAssembly, running) || RenamedFrom(Map.Old.MainAssembly, incoming))
        {
            Add(CheckFindingKind.TypeRenamed, "program", CheckCoverage.DefaultMapping, CheckSeverity.Info,
                $"~ program {running} renamed {incoming} (assembly metadata {RenamedFromMetadata})");
            return;
        }
        Add(CheckFindingKind.Refusal, "program", CheckCoverage.Nothing, CheckSeverity.Incompatible,
            $"'{Map.New.Info.AssemblyPath}' is the program {incoming}, not {running}: an update moves a program to a version of " +
            $"itself. If {running} was renamed {incoming}, say so in the new version's project: " +
            $"<AssemblyMetadata Include=\"{RenamedFromMetadata}\" Value=\"{running}\" />");
    }

    /// <summary>
    /// The libraries both versions ship in the same build: what of their state passes by reference (every type that cannot
    /// reach the old version's objects, decided from the types) and what is rebuilt as the same type, with the field that may.
    /// </summary>
    private void DescribeSharedLibraries()
    {
        foreach (var library in Map.SharedAssemblies.OrderBy(a => a.GetName().Name, StringComparer.Ordinal))
        {
            var name = SharedLibrary.Describe(library);
            var types = library.GetTypes().Where(t => !t.ContainsGenericParameters && !t.IsInterface && !t.IsAbstract
                && !(t.IsAbstract && t.IsSealed) && !TypeFacts.IsCompilerGeneratedCode(t) && !typeof(Delegate).IsAssignableFrom(t)).ToList();
            var rebuilt = types.Where(Map.MayReachOld).OrderBy(t => t.FullName, StringComparer.Ordinal).ToList();
            var statics = Plan.SharedStatics.Select(StatePathFinder.SharedStaticLabel).ToList();
            Add(CheckFindingKind.SharedLibrary, name, CheckCoverage.NotNeeded, CheckSeverity.Info,
                $"= library {name} shared, not rebuilt: the same build in both versions, loaded once; the objects of " +
                $"{types.Count - rebuilt.Count} of its {types.Count} types pass by reference whatever their number, and its statics are the same fields" +
                (statics.Count == 0 ? "" : $" ({string.Join(", ", statics)} may hold the old version's objects: given the new version's in place)"));
            foreach (var type in rebuilt)
            {
                var field = TypeFacts.InstanceFields(type).FirstOrDefault(f => Map.FieldMayHoldOld(f.FieldType));
                Add(CheckFindingKind.SharedLibrary, TypeFacts.Describe(type), CheckCoverage.DefaultMapping, CheckSeverity.Info,
                    $"~ type {TypeFacts.Describe(type)} of shared library {name} is rebuilt as itself: " +
                    (field is null ? "what it holds may be the old version's" : $"its field {TypeFacts.LogicalName(field)} ({TypeFacts.Describe(field.FieldType)}) may hold the old version's objects"));
            }
        }
    }

    // ---- Types and fields ----

    private void CompareTypes()
    {
        // Anonymous types are numbered anew in each build (an endpoint's JSON reply): listing them says nothing. One that
        // holds state is found by the trial transfer, with its path.
        var oldTypes = Map.Old.ProgramTypes().Where(t => !TypeFacts.IsCompilerGeneratedCode(t) && !TypeFacts.IsAnonymous(t)).OrderBy(t => t.FullName, StringComparer.Ordinal).ToList();
        var images = new HashSet<Type>();
        var typeFindings = new List<CheckFinding>();
        var fieldFindings = new Dictionary<Type, Dictionary<string, CheckFinding>>();
        foreach (var oldType in oldTypes)
        {
            var name = oldType.FullName!;
            var factory = Map.Transformers.ByOldType.TryGetValue(name, out var t) && t.IsFactory ? t : null;
            var fill = t is { IsFactory: false } ? t : null;
            var newType = Map.Map(oldType);
            if (newType is not null)
            {
                images.Add(newType);
            }
            if (factory is not null)
            {
                typeFindings.Add(new CheckFinding(CheckFindingKind.TypeTransformed, name, CheckCoverage.Transformer, CheckSeverity.Info,
                    $"~ type {name}: its objects are built by the factory {Describe(factory.Method)}"));
            }
            else if (newType is null && (oldType.IsInterface || oldType.IsAbstract && oldType.IsSealed))
            {
                typeFindings.Add(new CheckFinding(CheckFindingKind.TypeRemoved, name, CheckCoverage.NotNeeded, CheckSeverity.Info,
                    $"- {(oldType.IsInterface ? "interface" : "static class")} {name} removed"));
                continue;
            }
            else if (newType is null)
            {
                typeFindings.Add(new CheckFinding(CheckFindingKind.TypeRemoved, name, CheckCoverage.Nothing, CheckSeverity.Warning,
                    $"- type {name} removed: its objects cannot cross, and an update fails at transfer if one is reachable from the state " +
                    $"(add [RenamedFrom(\"{name}\")] to its successor, or a [TransformType(\"{name}\")] method)"));
                continue;
            }
            else if (newType.FullName != name)
            {
                var how = fill is not null ? $"filled by {Describe(fill.Method)}" : "[RenamedFrom]";
                typeFindings.Add(new CheckFinding(CheckFindingKind.TypeRenamed, name, fill is not null ? CheckCoverage.Transformer : CheckCoverage.DefaultMapping,
                    CheckSeverity.Info, $"~ type {name} renamed to {newType.FullName} ({how})"));
            }
            if (oldType.IsEnum)
            {
                if (newType is not null && newType.IsEnum && !FieldPlan.EnumsMatch(oldType, newType))
                {
                    typeFindings.Add(new CheckFinding(CheckFindingKind.TypeChanged, name, CheckCoverage.DefaultMapping, CheckSeverity.Info,
                        $"~ enum {name} changed: values map by member name, never by number"));
                    if (factory is null)
                    {
                        typeFindings.AddRange(EnumMembers(oldType, newType));
                    }
                }
                continue;
            }
            // A kind change that converts (class <-> struct); one that cannot (a class that became an enum or an interface) is refused by the plan.
            if (newType is not null && oldType.IsValueType != newType.IsValueType && factory is null && !newType.IsEnum && Map.KindChange(oldType) is null)
            {
                typeFindings.Add(oldType.IsValueType
                    ? new CheckFinding(CheckFindingKind.KindChanged, name, CheckCoverage.DefaultMapping, CheckSeverity.Info,
                        $"~ type {name}: a struct that becomes a class: each value becomes a new object of {newType.FullName}") { Value = "class" }
                    : new CheckFinding(CheckFindingKind.KindChanged, name, CheckCoverage.DefaultMapping, CheckSeverity.Info,
                        $"~ type {name}: a class that becomes a struct: identity not kept (two references to one object become two equal copies); null becomes default") { Value = "struct" });
            }
            if (newType is null)
            {
                continue; // Built by a factory as an abstract type: nothing to compare field by field.
            }
            if (oldType.ContainsGenericParameters || newType.ContainsGenericParameters)
            {
                // Generic definitions: their instantiations are planned when the transfer reaches them; here, their fields by name.
                CompareGenericDefinition(fieldFindings, oldType, newType);
                continue;
            }
            var concrete = !oldType.IsAbstract && !oldType.IsInterface && !typeof(Delegate).IsAssignableFrom(oldType);
            if (concrete)
            {
                var instance = FieldPlan.Create(oldType, newType, Map, statics: false, filledByTransformer: factory is not null || fill is not null);
                Collect(fieldFindings, instance, statics: false, factory ?? fill);
            }
            if (TypeFacts.StaticFields(oldType).Any())
            {
                Collect(fieldFindings, FieldPlan.Create(oldType, newType, Map, statics: true, filledByTransformer: false), statics: true, transformer: null);
            }
        }
        // Each generic instantiation the code uses has statics of its own (Pool<Int32>.Items): compared like a type's.
        foreach (var instantiation in Map.Old.GenericInstantiationsInUse())
        {
            if (TypeFacts.StaticFields(instantiation).Any() && Map.Map(instantiation) is { } image)
            {
                Collect(fieldFindings, FieldPlan.Create(instantiation, image, Map, statics: true, filledByTransformer: false), statics: true, transformer: null);
            }
        }
        foreach (var type in Map.Old.StaticHolders())
        {
            foreach (var field in TypeFacts.StaticFields(type))
            {
                var subject = $"static {TypeName(type)}.{TypeFacts.LogicalName(field)}";
                if (field.IsDefined(typeof(ThreadStaticAttribute), false))
                {
                    // A [ThreadStatic] has a value per thread, and the transfer runs on none of the program's threads: none crosses.
                    _crossing.Add(new CheckFinding(CheckFindingKind.CannotCross, subject, CheckCoverage.NotNeeded, CheckSeverity.Info,
                        $"! {subject} is [ThreadStatic]: each thread has its own value and none crosses; every thread of the new version " +
                        "starts with its default (keep state that must survive an update in an ordinary static or a unit's state)"));
                }
                else if (Map.Map(type) is null)
                {
                    // Statics of removed types are dropped with them.
                    Put(fieldFindings, type, new CheckFinding(CheckFindingKind.FieldRemoved, subject, CheckCoverage.DefaultMapping, CheckSeverity.Warning,
                        $"- {subject} removed with its type: {DroppedHow}"));
                }
            }
        }
        foreach (var added in Map.New.ProgramTypes()
            .Where(t => !TypeFacts.IsCompilerGeneratedCode(t) && !TypeFacts.IsAnonymous(t) && !images.Contains(t))
            .OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            typeFindings.Add(new CheckFinding(CheckFindingKind.TypeAdded, added.FullName!, CheckCoverage.NotNeeded, CheckSeverity.Info, $"+ type {added.FullName} added"));
        }

        // Types first (added, removed, renamed, transformed), then each changed type followed by its fields, after its own line if it has one.
        foreach (var finding in typeFindings)
        {
            _findings.Add(finding);
        }
        foreach (var (type, fields) in fieldFindings.OrderBy(f => TypeName(f.Key), StringComparer.Ordinal))
        {
            if (fields.Count == 0)
            {
                continue;
            }
            var worst = fields.Values.MaxBy(f => (f.Severity, f.Coverage))!;
            var index = _findings.FindLastIndex(f => f.Subject == TypeName(type)) + 1;
            var ordered = fields.Values.OrderBy(f => f.Subject.StartsWith("static ", StringComparison.Ordinal)).ThenBy(f => f.Subject, StringComparer.Ordinal);
            if (index > 0 && _findings[index - 1].Kind == CheckFindingKind.TypeRemoved)
            {
                _findings.InsertRange(index, ordered); // The statics a removed type takes with it.
                continue;
            }
            // The header is a summary: its coverage is its worst field's, and only the fields count toward the verdict.
            var header = new CheckFinding(CheckFindingKind.TypeChanged, TypeName(type), worst.Coverage == CheckCoverage.NotNeeded ? CheckCoverage.DefaultMapping : worst.Coverage,
                CheckSeverity.Info, $"~ type {TypeName(type)} changed");
            if (index == 0)
            {
                _findings.Add(header);
                _findings.AddRange(ordered);
            }
            else
            {
                _findings.Insert(index, header);
                _findings.InsertRange(index + 1, ordered);
            }
        }
        foreach (var note in _crossing)
        {
            _findings.Add(note);
        }
        foreach (var step in Map.Transformers.AfterTransfer)
        {
            Add(CheckFindingKind.AfterTransferStep, Describe(step), CheckCoverage.Transformer, CheckSeverity.Info,
                $"* after the transfer, {Describe(step)} runs once (it may read the old version's state, dropped fields included)");
        }
        foreach (var (method, description) in Map.Transformers.StateChecks)
        {
            Add(CheckFindingKind.StateCheck, Describe(method), CheckCoverage.NotNeeded, CheckSeverity.Info,
                $"* state check '{description}' runs on the migrated state: if it fails, the update rolls back");
        }
    }

    private readonly List<CheckFinding> _crossing = [];
    private readonly HashSet<FieldInfo> _crossingSeen = [];

    /// <summary>The findings of one field plan, keyed by the type that declares each field (a base class's field is reported once, at its class).</summary>
    private void Collect(Dictionary<Type, Dictionary<string, CheckFinding>> findings, FieldPlan plan, bool statics, TypeTransformer? transformer)
    {
        var prefix = statics ? "static " : "";
        var byTransformer = transformer is null ? null : $"{(transformer.IsFactory ? "the factory" : "filled by")} {Describe(transformer.Method)}";
        string Subject(FieldInfo f) => $"{prefix}{Name(f.DeclaringType!)}.{TypeFacts.LogicalName(f)}";
        void PutAt(FieldInfo declaredBy, CheckFinding finding)
        {
            // Only the program's own fields: a framework base class does not change between versions.
            if (Map.Old.Owns(declaredBy.DeclaringType!.Assembly) || Map.New.Owns(declaredBy.DeclaringType!.Assembly))
            {
                Put(findings, OldTypeOf(declaredBy.DeclaringType!), finding);
            }
        }

        foreach (var copy in plan.Copies)
        {
            var renamed = TypeFacts.LogicalName(copy.Old) != TypeFacts.LogicalName(copy.New);
            var retyped = TypeFacts.Describe(copy.Old.FieldType) != TypeFacts.Describe(copy.New.FieldType);
            if (transformer?.IsFactory != true)
            {
                CheckCrossing(copy.Old, prefix);
            }
            if (!renamed && !retyped)
            {
                continue;
            }
            var coverage = transformer is not null ? CheckCoverage.Transformer : CheckCoverage.DefaultMapping;
            var how = copy.Kind switch
            {
                Conversion.Widen => "a widening conversion",
                Conversion.WrapNullable => "T to T?",
                _ when retyped && copy.Old.FieldType != copy.New.FieldType && copy.New.FieldType.IsAssignableFrom(Map.Map(copy.Old.FieldType)) && Map.Map(copy.Old.FieldType) != copy.New.FieldType
                    => "the new type is a base type of the old one",
                _ when Map.Map(copy.Old.FieldType) == copy.New.FieldType => "its type was renamed",
                _ => "the default mapping carries it",
            };
            var change = retyped ? $" from {TypeFacts.Describe(copy.Old.FieldType)} to {TypeFacts.Describe(copy.New.FieldType)} ({how})" : "";
            var detail = renamed
                ? $"~ {prefix}{Name(copy.New.DeclaringType!)}.{TypeFacts.LogicalName(copy.New)} renamed from '{TypeFacts.LogicalName(copy.Old)}' ([RenamedFrom]){(retyped ? "," + change[1..] : "")}"
                : $"~ {Subject(copy.New)} changed{change}";
            PutAt(copy.New, new CheckFinding(renamed ? CheckFindingKind.FieldRenamed : CheckFindingKind.FieldRetyped, Subject(copy.New), coverage, CheckSeverity.Info,
                detail + (byTransformer is null ? "" : $"; {byTransformer}")));
        }
        foreach (var (oldField, newField) in plan.Unconverted)
        {
            var change = $"from {TypeFacts.Describe(oldField.FieldType)} to {TypeFacts.Describe(newField.FieldType)}";
            PutAt(newField, byTransformer is not null
                ? new CheckFinding(CheckFindingKind.FieldRetyped, Subject(newField), CheckCoverage.Transformer, CheckSeverity.Info,
                    $"~ {Subject(newField)} changed {change}; {byTransformer}")
                : new CheckFinding(CheckFindingKind.FieldRetyped, Subject(newField), CheckCoverage.Nothing, CheckSeverity.Incompatible,
                    $"~ {Subject(newField)} changed {change}, which the default mapping cannot convert and no transformer covers " +
                    "(add a [TransformField] or [TransformType] method to the new version)"));
        }
        foreach (var (field, why) in plan.LeftToInitializer)
        {
            PutAt(field, new CheckFinding(CheckFindingKind.CannotCross, Subject(field), CheckCoverage.NotNeeded, CheckSeverity.Info,
                $"! {Subject(field)} ({TypeFacts.Describe(field.FieldType)}) may hold {why}: a static of a library the program ships, " +
                "left to the new version's initializer"));
        }
        foreach (var (field, method) in plan.Computed)
        {
            PutAt(field, new CheckFinding(CheckFindingKind.FieldComputed, Subject(field), CheckCoverage.Transformer, CheckSeverity.Info,
                $"~ {Subject(field)} computed by {Describe(method)}") { Value = "transformer" });
        }
        foreach (var field in plan.Added)
        {
            // The plan says what each added instance field gets; an added static is the new version's type initializer's to set.
            var added = plan.AddedValues.Find(a => a.Field == field);
            var value = transformer is not null ? "transformer"
                : statics ? "type initializer"
                : added?.Source switch
                {
                    AddedFieldSource.Initializer => "initializer",
                    AddedFieldSource.Unevaluable => "none",
                    _ => "default",
                };
            var how = transformer is not null ? byTransformer!
                : statics ? "keeps what the new version's type initializer gives it (its initializer, else the default)"
                : added is not null ? $"gets {added.Describe()}"
                : $"gets the default ({DefaultOf(field.FieldType)})";
            PutAt(field, new CheckFinding(CheckFindingKind.FieldAdded, Subject(field), transformer is not null ? CheckCoverage.Transformer : CheckCoverage.DefaultMapping,
                CheckSeverity.Info, $"+ {Subject(field)} added ({TypeFacts.Describe(field.FieldType)}): {how}") { Value = value });
        }
        var oldFields = statics ? TypeFacts.StaticFields(plan.OldType).ToList() : TypeFacts.InstanceFields(plan.OldType);
        foreach (var dropped in plan.Dropped)
        {
            var field = oldFields.First(f => TypeFacts.LogicalName(f) == dropped);
            var subject = $"{prefix}{Name(field.DeclaringType!)}.{dropped}";
            PutAt(field, new CheckFinding(CheckFindingKind.FieldRemoved, subject, transformer is not null ? CheckCoverage.Transformer : CheckCoverage.DefaultMapping,
                transformer is not null ? CheckSeverity.Info : CheckSeverity.Warning,
                $"- {subject} removed ({TypeFacts.Describe(field.FieldType)}): {(transformer is not null ? $"readable by {Describe(transformer.Method)}" : DroppedHow)}"));
        }
    }

    /// <summary>
    /// The declared fields of a generic definition, compared by name and declared type (as written): instantiations are
    /// planned only when the transfer reaches them, so a changed type is a warning here, not a verdict.
    /// </summary>
    private void CompareGenericDefinition(Dictionary<Type, Dictionary<string, CheckFinding>> findings, Type oldType, Type newType)
    {
        var oldFields = oldType.GetFields(TypeFacts.DeclaredInstance).ToDictionary(TypeFacts.LogicalName, StringComparer.Ordinal);
        var newFields = newType.GetFields(TypeFacts.DeclaredInstance);
        var used = new HashSet<string>(StringComparer.Ordinal);
        var name = oldType.FullName!;
        foreach (var field in newFields)
        {
            var subject = $"{name}.{TypeFacts.LogicalName(field)}";
            if (!oldFields.TryGetValue(TypeFacts.OldNameOf(field, oldFields.ContainsKey), out var old))
            {
                Put(findings, oldType, new CheckFinding(CheckFindingKind.FieldAdded, subject, CheckCoverage.DefaultMapping, CheckSeverity.Info,
                    $"+ {subject} added ({TypeFacts.Describe(field.FieldType)})"));
                continue;
            }
            used.Add(TypeFacts.LogicalName(old));
            if (TypeFacts.Describe(old.FieldType) != TypeFacts.Describe(field.FieldType))
            {
                Put(findings, oldType, new CheckFinding(CheckFindingKind.FieldRetyped, subject, CheckCoverage.DefaultMapping, CheckSeverity.Warning,
                    $"~ {subject} changed from {TypeFacts.Describe(old.FieldType)} to {TypeFacts.Describe(field.FieldType)}: a generic type's " +
                    "instantiations are checked when the transfer reaches them, and the update fails then if nothing covers the change"));
            }
            else if (TypeFacts.LogicalName(old) != TypeFacts.LogicalName(field))
            {
                Put(findings, oldType, new CheckFinding(CheckFindingKind.FieldRenamed, subject, CheckCoverage.DefaultMapping, CheckSeverity.Info,
                    $"~ {subject} renamed from '{TypeFacts.LogicalName(old)}' ([RenamedFrom])"));
            }
        }
        foreach (var (logical, old) in oldFields.Where(f => !used.Contains(f.Key)))
        {
            Put(findings, oldType, new CheckFinding(CheckFindingKind.FieldRemoved, $"{name}.{logical}", CheckCoverage.DefaultMapping, CheckSeverity.Warning,
                $"- {name}.{logical} removed ({TypeFacts.Describe(old.FieldType)}): {DroppedHow}"));
        }
    }

    /// <summary>The old type a field finding belongs to: the declaring type of an old field, or the old type a new declaring type comes from.</summary>
    private Type OldTypeOf(Type declaring)
    {
        if (Map.Old.Owns(declaring.Assembly))
        {
            return declaring;
        }
        _oldOf ??= Map.Old.ProgramTypes()
            .Where(t => !TypeFacts.IsCompilerGeneratedCode(t))
            .Concat(Map.Old.GenericInstantiationsInUse())
            .Select(t => (Old: t, New: Map.Map(t)))
            .Where(p => p.New is not null)
            .GroupBy(p => p.New!)
            .ToDictionary(g => g.Key, g => g.First().Old);
        return _oldOf.GetValueOrDefault(declaring) ?? declaring;
    }

    private Dictionary<Type, Type>? _oldOf;

    private string DroppedHow => Map.Transformers.AfterTransfer.Count == 0
        ? "its value is dropped"
        : $"its value is dropped, unless the after-transfer step {string.Join(" or ", Map.Transformers.AfterTransfer.Select(Describe))} reads it";

    private string Name(Type declaring) => TypeName(OldTypeOf(declaring));

    /// <summary>A type as the report names it: its full name, or for an instantiation of a generic type, as C# writes it (Pool&lt;System.Int32&gt;).</summary>
    private static string TypeName(Type type) => type.IsConstructedGenericType ? TypeFacts.Describe(type) : type.FullName ?? type.Name;

    private static void Put(Dictionary<Type, Dictionary<string, CheckFinding>> findings, Type type, CheckFinding finding)
    {
        if (!findings.TryGetValue(type, out var byField))
        {
            findings[type] = byField = new Dictionary<string, CheckFinding>(StringComparer.Ordinal);
        }
        // Seen through several concrete types: the worst case stands (one without a transformer is not covered by another's).
        if (!byField.TryGetValue(finding.Subject, out var known) || (finding.Severity, finding.Coverage).CompareTo((known.Severity, known.Coverage)) > 0)
        {
            byField[finding.Subject] = finding;
        }
    }

    /// <summary>The members of a changed enum whose values change meaning: renumbered (mapped by name), renamed, or with no member in the new enum.</summary>
    private static IEnumerable<CheckFinding> EnumMembers(Type oldEnum, Type newEnum)
    {
        var name = oldEnum.FullName!;
        foreach (var (old, mapped, renamed, renumbered) in EnumMapping.Create(oldEnum, newEnum).Members())
        {
            var subject = $"{name}.{old}";
            var number = Number(oldEnum, old);
            if (mapped is null)
            {
                yield return new CheckFinding(CheckFindingKind.EnumMemberRemoved, subject, CheckCoverage.Nothing, CheckSeverity.Warning,
                    $"- {subject} (= {number}) has no member in the new enum: an update fails at transfer if the state holds it " +
                    $"(give its successor [RenamedFrom(\"{old}\")], or add a [TransformType(\"{name}\")] method)");
                continue;
            }
            var value = $"{newEnum.Name}.{mapped} = {Number(newEnum, mapped)}";
            if (renamed)
            {
                yield return new CheckFinding(CheckFindingKind.EnumMemberRenamed, subject, CheckCoverage.DefaultMapping, CheckSeverity.Info,
                    $"~ {subject} (= {number}) renamed {mapped} ([RenamedFrom]): its values become {value}") { Value = value };
            }
            else if (renumbered)
            {
                yield return new CheckFinding(CheckFindingKind.EnumMemberRenumbered, subject, CheckCoverage.DefaultMapping, CheckSeverity.Info,
                    $"~ {subject} is {number} now and {Number(newEnum, mapped)} in the new enum: its values map by name, to {value}") { Value = value };
            }
        }
    }

    /// <summary>An enum member's number, as written.</summary>
    private static string Number(Type enumType, string member) =>
        Convert.ToString(enumType.GetField(member)!.GetRawConstantValue(), System.Globalization.CultureInfo.InvariantCulture)!;

    // ---- State that cannot cross ----

    private bool _acrossProcesses;

    /// <summary>A migrated field whose declared type cannot cross, or is open (checked only at update time).</summary>
    private void CheckCrossing(FieldInfo oldField, string prefix)
    {
        if (!_crossingSeen.Add(oldField))
        {
            return;
        }
        var subject = $"{prefix}{TypeName(oldField.DeclaringType!)}.{TypeFacts.LogicalName(oldField)}";
        if ((Map.WhyCannotCross(oldField.FieldType) ?? (_acrossProcesses ? ProcessBound.WhyDeclared(oldField.FieldType) : null)) is { } why)
        {
            // A static's value is known now: null crosses as null; a value is tried by the check's trial transfer.
            bool? held = oldField.IsStatic && !_acrossProcesses ? oldField.GetValue(null) is not null : null;
            var now = held switch { false => " (null now: it crosses as null)", true => " (it holds a value now)", _ => "" };
            _crossing.Add(new CheckFinding(CheckFindingKind.CannotCross, subject, CheckCoverage.Nothing, CheckSeverity.Warning,
                $"! {subject} ({TypeFacts.Describe(oldField.FieldType)}) holds {why}: the update fails at transfer unless it is null " +
                $"or empty then{now} (mark it [NotMigrated], drop it, or compute it with a transformer)") { Held = held });
        }
        else if (prefix.Length > 0 && IsOpen(oldField.FieldType))
        {
            _crossing.Add(new CheckFinding(CheckFindingKind.OpenType, subject, CheckCoverage.DefaultMapping, CheckSeverity.Info,
                $"? {subject} ({TypeFacts.Describe(oldField.FieldType)}) is of an open type: what it holds is checked at update time"));
        }
    }

    private static string DefaultOf(Type type) =>
        !type.IsValueType || Nullable.GetUnderlyingType(type) is not null ? "null" : type == typeof(bool) ? "false" : type.IsPrimitive || type.IsEnum || type == typeof(decimal) ? "0" : "default";

    private static bool IsOpen(Type type) =>
        type == typeof(object) || type.IsInterface || (type.IsAbstract && !type.IsSealed && !typeof(MemberInfo).IsAssignableFrom(type));

    // ---- Units and update points ----

    private void CheckUnits(IReadOnlyList<(string Name, object State, UnitEntry Entry, string? LastSeenAt)> units)
    {
        if (units.Count == 0)
        {
            return;
        }
        var points = UpdatePointScanner.Scan(Map.New.ProgramTypes());
        foreach (var (name, state, entry, at) in units)
        {
            var subject = $"unit '{name}'";
            if (state is not null && WhyStateCannotCross(state.GetType()) is { } why)
            {
                // A unit's state is always transferred: this one is certain to fail the update.
                Add(CheckFindingKind.UnitStateCannotCross, subject, CheckCoverage.Nothing, CheckSeverity.Incompatible,
                    $"! {subject}: its state is {why}");
            }
            var method = $"{entry.DeclaringTypeName}.{entry.Method.Name}";
            UnitEntry? resolved;
            try
            {
                resolved = UnitEntry.Resolve(entry.DeclaringTypeName, entry.Method.Name, entry.OnThread, n => Map.New.FindType(n));
            }
            catch (ArgumentException e)
            {
                Add(CheckFindingKind.UnitCannotResume, subject, CheckCoverage.Nothing, CheckSeverity.Warning,
                    $"! {subject}: the new version's {method} cannot resume it ({e.Message}); the update fails at restart unless the new Main starts a unit named '{name}'");
                continue;
            }
            if (resolved is null)
            {
                Add(CheckFindingKind.UnitDropped, subject, CheckCoverage.Nothing, CheckSeverity.Warning,
                    $"! {subject}: the new version has no entry {method}(state): the unit would be dropped, unless the new Main starts a unit named '{name}'");
                continue;
            }
            // A unit of a library every version shares (Molt.Extensions.Hosting's) parks at that library's update points.
            if (at is not null && !points.Contains(at) && Map.Old.Owns(entry.Method.DeclaringType!.Assembly))
            {
                Add(CheckFindingKind.UpdatePointMissing, subject, CheckCoverage.NotNeeded, CheckSeverity.Warning,
                    $"! {subject} is at update point '{at}' now, which the new version does not have: it would resume from the start of {method} " +
                    $"(with Live.ResumedFrom = \"{at}\")");
            }
        }
    }

    /// <summary>
    /// In a hosted application, what an update carries and what it leaves to the new version's container: the singletons
    /// and hosted services (the <c>services</c> unit's state), the connections handed to units, and each field of the
    /// application's types that holds a framework service (<see cref="HostedFields"/>).
    /// </summary>
    private void DescribeHostedState(IReadOnlyList<(string Name, object State, UnitEntry Entry, string? LastSeenAt)> units)
    {
        if (!HostedFields.AppliesTo(Map.Old.MainAssembly.EntryPoint!.DeclaringType!))
        {
            return;
        }
        if (units.FirstOrDefault(u => u.Name == "services").State is System.Collections.IDictionary singletons)
        {
            var carried = singletons.Values.Cast<object>().Where(o => Map.Old.Owns(o.GetType().Assembly)).Select(o => TypeFacts.Describe(o.GetType())).Distinct().ToList();
            Add(CheckFindingKind.HostedState, "state", CheckCoverage.NotNeeded, CheckSeverity.Info,
                $"* state: {carried.Count} singleton{(carried.Count == 1 ? "" : "s")} of the application, carried with their fields" +
                (carried.Count == 0 ? "" : $": {string.Join(", ", carried)}"));
        }
        var services = units.Where(u => u.Name.StartsWith("service:", StringComparison.Ordinal)).Select(u => u.Name["service:".Length..]).ToList();
        if (services.Count > 0)
        {
            Add(CheckFindingKind.HostedState, "state", CheckCoverage.NotNeeded, CheckSeverity.Info,
                $"* hosted services stopped between two turns and started again in the new version (their fields carried): {string.Join(", ", services)}");
        }
        var connections = units.Count(u => u.Name.StartsWith("connection-", StringComparison.Ordinal));
        if (connections > 0)
        {
            Add(CheckFindingKind.HostedState, "state", CheckCoverage.NotNeeded, CheckSeverity.Info,
                $"* {connections} long-lived connection{(connections == 1 ? "" : "s")} (live feeds, WebSockets) handed to units: " +
                (_acrossProcesses ? "a process update closes them (clients reconnect)" : "kept open, served by the new version's code from their next turn"));
        }
        foreach (var type in Map.Old.ProgramTypes().Where(t => !TypeFacts.IsCompilerGeneratedCode(t) && !t.IsInterface).OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            foreach (var field in type.GetFields(TypeFacts.DeclaredInstance | BindingFlags.Static | BindingFlags.DeclaredOnly).Where(HostedFields.IsFrameworkOwned))
            {
                Add(CheckFindingKind.FrameworkField, $"{type.FullName}.{TypeFacts.LogicalName(field)}", CheckCoverage.NotNeeded, CheckSeverity.Info,
                    $"* {TypeFacts.Describe(type)}.{TypeFacts.LogicalName(field)} ({TypeFacts.Describe(field.FieldType)}) is the framework's: not carried; " +
                    (field.IsStatic ? "the new version's initializer or Main sets it" : "the new version's container fills it"));
            }
        }
    }

    /// <summary>Why a unit's state object (by its runtime type) cannot cross, or null when the transfer can carry it.</summary>
    private string? WhyStateCannotCross(Type type)
    {
        if (!Map.InvolvesOld(type))
        {
            return TypeFacts.WhyCannotCross(type) ?? (typeof(Delegate).IsAssignableFrom(type) ? "a delegate, which cannot cross" : null);
        }
        if (TypeFacts.IsCompilerGeneratedCode(type) || typeof(Delegate).IsAssignableFrom(type))
        {
            return $"of a compiler-generated or delegate type ({TypeFacts.Describe(type)}), which cannot cross";
        }
        if (type.FullName is { } name && Map.Transformers.ByOldType.TryGetValue(name, out var t) && t.IsFactory)
        {
            return null;
        }
        return Map.Map(type) is null
            ? $"a {TypeFacts.Describe(type)}, which the new version no longer has (add [RenamedFrom(\"{type.FullName}\")] to its successor, or a [TransformType(\"{type.FullName}\")] method)"
            : null;
    }

    private static string Describe(MethodInfo method) => $"{method.DeclaringType?.FullName}.{method.Name}";
}
