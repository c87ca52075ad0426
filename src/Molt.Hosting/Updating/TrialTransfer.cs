using System.Diagnostics;
using System.Reflection;
using Molt.Hosting.Control;
using Molt.Hosting.Transfer;

namespace Molt.Hosting.Updating;

/// <summary>
/// The check's trial of an update's transfer: the running state (every static the plan migrates, every unit's state) copied
/// into the checked version's types by the same plan and copiers an update uses, while the program serves: no pause, no
/// unit parked. It only reads the old state; what it builds lives in the checked version's context and is discarded with it.
/// It runs the copiers and the new version's transformers, not the [AfterTransfer] steps nor the [StateCheck]s (they may
/// act on the world, and they are the update's, once).
/// </summary>
/// <remarks>
/// The program runs on beside the trial: a collection it modifies meanwhile makes the trial's read throw ("Collection was
/// modified"); the trial then tries again a few times, and says so when the state never held still.
/// </remarks>
internal static class TrialTransfer
{
    /// <summary>How many times the trial runs before it gives up on state that keeps changing under it.</summary>
    internal const int MaxAttempts = 4;

    /// <summary>How many holders of refused state a refused trial names, at most (one transfer per root).</summary>
    private const int MaxRefusals = 50;

    /// <summary>Runs the trial over the plan's roots and the units' states.</summary>
    public static TrialOutcome Run(TransferPlan plan, IReadOnlyList<(string Name, object State)> units)
    {
        var statics = MigratedStatics(plan.Map);
        TrialOutcome? last = null;
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            last = Attempt(plan, statics, units, attempt);
            if (last.Trial.Outcome != CheckTrialOutcome.StateChanging)
            {
                break;
            }
            Thread.Sleep(10 * attempt); // Let the program's burst of writes pass.
        }
        if (last!.Trial.Outcome == CheckTrialOutcome.Refused)
        {
            // The whole transfer stops at the first value that cannot cross, as the update does; the operator wants every
            // holder at once: each root is tried alone, so that one refusal does not hide the next.
            last = last with { Refusals = [.. last.Refusals.Concat(EachRoot(plan, statics, units)).DistinctBy(r => (r.Path, r.Reason)).Take(MaxRefusals)] };
        }
        return last;
    }

    private static TrialOutcome Attempt(TransferPlan plan, IReadOnlyList<FieldCopy> statics, IReadOnlyList<(string Name, object State)> units, int attempt)
    {
        var transfer = new StateTransfer(plan, watchSharedState: false);
        var clock = Stopwatch.StartNew();
        string? at = null;
        try
        {
            // The values of the statics the update copies, transferred as the plan's compiled copy does, but not stored: writing
            // a static of the checked version would run its type's initializer, code the trial has no need to run.
            foreach (var copy in statics)
            {
                at = Label(copy);
                TransferStatic(transfer, copy);
            }
            foreach (var field in plan.SharedStatics)
            {
                at = StatePathFinder.SharedStaticLabel(field);
                transfer.TransferObject(field.GetValue(null));
            }
            foreach (var (name, state) in units)
            {
                at = $"unit '{name}' state";
                transfer.TransferObject(state);
            }
            at = null; // Draining: the failing object's path is searched from the roots.
            transfer.Drain();
            return new TrialOutcome(Trial(CheckTrialOutcome.Carried), []);
        }
        catch (Exception e) when (IsConcurrentModification(e))
        {
            return new TrialOutcome(Trial(CheckTrialOutcome.StateChanging), []);
        }
        catch (Exception e) when (Unwrap(e) is StateTransferException failure)
        {
            return new TrialOutcome(Trial(CheckTrialOutcome.Refused), [Refusal(plan, failure, StatePathFinder.Roots(plan.Map, units.Select(u => (u.Name, u.State))), at)]);
        }
        catch (Exception e)
        {
            // Anything else the transfer would meet the same way: the update would roll back.
            return new TrialOutcome(Trial(CheckTrialOutcome.Refused), [new TrialRefusal(null, $"transferring the state failed: {Describe(e)}", null)]);
        }

        CheckTrial Trial(CheckTrialOutcome outcome) =>
            new(outcome, transfer.ObjectsRebuilt, transfer.ReferencesPassed, clock.Elapsed.TotalMilliseconds, attempt);
    }

    /// <summary>Each root alone (each migrated static, each unit's state): the refusals that a whole transfer would meet one after the other.</summary>
    private static IEnumerable<TrialRefusal> EachRoot(TransferPlan plan, IReadOnlyList<FieldCopy> statics, IReadOnlyList<(string Name, object State)> units)
    {
        var roots = statics.Select(c => (Label(c), c.Old.GetValue(null), (FieldCopy?)c))
            .Concat(plan.SharedStatics.Select(f => (StatePathFinder.SharedStaticLabel(f), f.GetValue(null), (FieldCopy?)null)))
            .Concat(units.Select(u => ($"unit '{u.Name}' state", (object?)u.State, (FieldCopy?)null)));
        foreach (var (label, value, copy) in roots)
        {
            if (value is null)
            {
                continue;
            }
            var transfer = new StateTransfer(plan, watchSharedState: false);
            TrialRefusal? refusal = null;
            try
            {
                if (copy is not null)
                {
                    TransferStatic(transfer, copy);
                }
                else
                {
                    transfer.TransferObject(value);
                }
                transfer.Drain();
            }
            catch (Exception e) when (!IsConcurrentModification(e) && Unwrap(e) is StateTransferException failure)
            {
                refusal = Refusal(plan, failure, [(label, value)], label);
            }
            catch (Exception e) when (IsConcurrentModification(e))
            {
                // This root changed under the trial: the whole trial's refusal stands for it.
            }
            if (refusal is not null)
            {
                yield return refusal;
            }
        }
    }

    /// <summary>The statics an update copies through the transfer, as the plan's statics copies do (a plain value or a widening always crosses).</summary>
    private static List<FieldCopy> MigratedStatics(TypeMap map) =>
        [.. map.OldStaticHolders()
            .Where(t => TypeFacts.StaticFields(t).Any() && map.Map(t) is not null)
            .SelectMany(t => FieldPlan.Create(t, map.Map(t)!, map, statics: true, filledByTransformer: false).Copies)
            .Where(c => c.Kind is Conversion.Transfer or Conversion.WrapNullable)];

    /// <summary>One static's value through the transfer, and whether the new static could hold what it became (the compiled copy's cast).</summary>
    private static void TransferStatic(StateTransfer transfer, FieldCopy copy)
    {
        var old = copy.Old.GetValue(null);
        var created = transfer.TransferObject(old);
        var target = copy.Kind == Conversion.WrapNullable ? Nullable.GetUnderlyingType(copy.New.FieldType)! : copy.New.FieldType;
        // A null into a struct becomes its default (a class that became a struct), as the compiled copy does; a T? has to wrap a value.
        if (created is null ? copy.Kind == Conversion.WrapNullable : !target.IsInstanceOfType(created))
        {
            throw new StateTransferException($"it became {(created is null ? "null" : $"a {TypeFacts.Describe(created.GetType())}")}, which the new static " +
                $"{TypeFacts.Describe(copy.New.DeclaringType!)}.{TypeFacts.LogicalName(copy.New)} ({TypeFacts.Describe(copy.New.FieldType)}) cannot hold", old);
        }
    }

    private static string Label(FieldCopy copy) => $"static {TypeFacts.Describe(copy.Old.DeclaringType!)}.{TypeFacts.LogicalName(copy.Old)}";

    /// <summary>A refusal with the path to its holder: found from the roots, else the root being transferred when it failed (null while draining).</summary>
    private static TrialRefusal Refusal(TransferPlan plan, StateTransferException failure, IEnumerable<(string Label, object? Value)> roots, string? root)
    {
        var offender = failure.Offender;
        var path = offender is null ? root : PathTo(plan, roots, offender) ?? root;
        var what = offender is null ? "some state" : $"a {TypeFacts.Describe(offender.GetType())}";
        // Only words and the enum member leave the trial: an exception of a transformer holds the checked version's code.
        var member = offender is not null && offender.GetType().IsEnum ? (offender.GetType(), Enum.GetName(offender.GetType(), offender)) : default;
        return new TrialRefusal(path, $"{what} cannot cross to the new version: {failure.Message}", member.Item1 is null ? null : member);
    }

    /// <summary>The path to a refused value; the walk reads collections that the program may be changing, so it tries again, then gives up on the path.</summary>
    private static string? PathTo(TransferPlan plan, IEnumerable<(string Label, object? Value)> roots, object offender)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return StatePathFinder.Find(roots, offender, plan.Map);
            }
            catch (InvalidOperationException) when (attempt < MaxAttempts)
            {
            }
            catch (InvalidOperationException)
            {
                return null;
            }
        }
    }

    /// <summary>
    /// Whether a failure is a collection of the running program modified while the trial read it (the framework's
    /// enumerator version check): not a property of the state, but of the moment.
    /// </summary>
    internal static bool IsConcurrentModification(Exception e)
    {
        for (Exception? at = e; at is not null; at = at.InnerException)
        {
            if (at is InvalidOperationException && (at.Message == CollectionModifiedMessage.Value
                || at.Message.StartsWith("Collection was modified", StringComparison.Ordinal)))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The framework's own message for a collection modified under its enumerator, in the process's language.</summary>
    private static readonly Lazy<string> CollectionModifiedMessage = new(() =>
    {
        var list = new List<int> { 1 };
        try
        {
            foreach (var _ in list)
            {
                list.Add(2);
            }
        }
        catch (InvalidOperationException e)
        {
            return e.Message;
        }
        return "Collection was modified";
    });

    private static Exception Unwrap(Exception e) => e is TargetInvocationException { InnerException: { } inner } ? inner : e;

    private static string Describe(Exception e) => $"{Unwrap(e).GetType().Name}: {Unwrap(e).Message}";
}

/// <summary>What a trial transfer found: its numbers and outcome, and the holders of the state it refused.</summary>
internal sealed record TrialOutcome(CheckTrial Trial, IReadOnlyList<TrialRefusal> Refusals);

/// <summary>
/// A value the trial refused: the path to a holder (null when none was found), why, and when the value is an enum value,
/// its old enum and member name (null for a number with no name).
/// </summary>
internal sealed record TrialRefusal(string? Path, string Reason, (Type Enum, string? Member)? EnumValue);
