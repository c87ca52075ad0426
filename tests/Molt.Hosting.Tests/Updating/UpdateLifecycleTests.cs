using Molt.Hosting.Updating;

namespace Molt.Hosting.Tests.Updating;

/// <summary>
/// The update's state machine on its own: every (state, event) pair, generated from its enums and its table — the
/// allowed ones reach the table's state, every other one is refused in words that name what is under way, and leaves
/// the state as it was.
/// </summary>
public sealed class UpdateLifecycleTests
{
    public static TheoryData<string, string> AllowedPairs()
    {
        var data = new TheoryData<string, string>();
        foreach (var (from, e) in UpdateLifecycle.Transitions.Keys)
        {
            data.Add(from.ToString(), e.ToString());
        }
        return data;
    }

    public static TheoryData<string, string> RefusedPairs()
    {
        var data = new TheoryData<string, string>();
        foreach (var state in Enum.GetValues<UpdateState>())
        {
            foreach (var e in Enum.GetValues<UpdateEvent>())
            {
                if (!UpdateLifecycle.Transitions.ContainsKey((state, e)))
                {
                    data.Add(state.ToString(), e.ToString());
                }
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(AllowedPairs))]
    public void AnAllowedTransition_ReachesTheStateOfTheTable(string fromState, string byEvent)
    {
        var (from, e) = (Enum.Parse<UpdateState>(fromState), Enum.Parse<UpdateEvent>(byEvent));
        var lifecycle = In(from);

        var reached = lifecycle.Fire(e);

        Assert.Equal(UpdateLifecycle.Transitions[(from, e)], reached);
        Assert.Equal(reached, lifecycle.State);
    }

    [Theory]
    [MemberData(nameof(RefusedPairs))]
    public void AnyOtherTransition_IsRefusedInWords_AndLeavesTheStateAsItWas(string fromState, string byEvent)
    {
        var (from, e) = (Enum.Parse<UpdateState>(fromState), Enum.Parse<UpdateEvent>(byEvent));
        var lifecycle = In(from);

        var refused = Assert.Throws<InvalidOperationException>(() => lifecycle.Fire(e));

        Assert.Equal(from, lifecycle.State);
        Assert.Contains(WhatIsUnderWay(from, e), refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(nameof(UpdateState), refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryState_IsReachedFromServing()
    {
        foreach (var state in Enum.GetValues<UpdateState>())
        {
            Assert.Equal(state, In(state).State);
        }
    }

    [Fact]
    public void AnUpdate_RunsThePhasesInTheOrderStatedOnce()
    {
        var lifecycle = new UpdateLifecycle();
        UpdateEvent[] events = [UpdateEvent.BeginUpdate, UpdateEvent.Quiesce, UpdateEvent.Transfer, UpdateEvent.CheckState, UpdateEvent.Restart, UpdateEvent.Commit, UpdateEvent.Release, UpdateEvent.Finish];

        var states = events.Select(lifecycle.Fire).ToList();

        Assert.Equal([UpdateState.Preparing, UpdateState.Quiescing, UpdateState.Transferring, UpdateState.CheckingState, UpdateState.Restarting,
            UpdateState.Committing, UpdateState.Releasing, UpdateState.Serving], states);
    }

    [Fact]
    public void CommittingTwice_SaysAnUpdateIsAlreadyCommitting()
    {
        var lifecycle = In(UpdateState.Committing);

        var refused = Assert.Throws<InvalidOperationException>(() => lifecycle.Fire(UpdateEvent.Commit));

        Assert.Equal("Cannot commit: an update is already committing (commit is allowed only while restarting).", refused.Message);
    }

    [Fact]
    public void ASecondUpdate_WhileOneQuiesces_IsRefused_NamingThePhase()
    {
        var refused = Assert.Throws<InvalidOperationException>(() => In(UpdateState.Quiescing).Fire(UpdateEvent.BeginUpdate));

        Assert.Equal("An update of this program is already in progress (quiescing); try again when it has finished.", refused.Message);
    }

    [Fact]
    public void RollingBack_BeforeTheUpdatePaused_IsRefused()
    {
        var refused = Assert.Throws<InvalidOperationException>(() => In(UpdateState.Preparing).Fire(UpdateEvent.RollBack));

        Assert.Equal("Cannot roll back: the update is preparing (roll back is allowed only while quiescing or transferring state or checking state or restarting).", refused.Message);
    }

    [Fact]
    public void PreviousVersion_IsRefusedUntilAnUpdateCommits_ThenIsTheVersionItCameFrom()
    {
        var lifecycle = new UpdateLifecycle();
        Assert.Equal("There is no previous version to roll back to: no update has committed.",
            Assert.Throws<InvalidOperationException>(lifecycle.PreviousVersion).Message);
        var from = new ProgramVersionInfo("/v1/P.dll", "P", "1.0.0", new string('a', 64), 0, DateTimeOffset.UnixEpoch);
        foreach (var e in new[] { UpdateEvent.BeginUpdate, UpdateEvent.Quiesce, UpdateEvent.Transfer, UpdateEvent.CheckState, UpdateEvent.Restart })
        {
            lifecycle.Fire(e);
        }

        lifecycle.Commit(from);

        Assert.Same(from, lifecycle.PreviousVersion());
    }

    [Fact]
    public async Task AStop_WaitsForTheUpdateInFlight_WhichSeesIt_AndNothingStartsAfter()
    {
        var lifecycle = new UpdateLifecycle();
        lifecycle.Fire(UpdateEvent.BeginUpdate);
        lifecycle.Fire(UpdateEvent.Quiesce);

        var stopping = lifecycle.BeginStopAsync(CancellationToken.None);

        Assert.True(lifecycle.StopRequested.IsCancellationRequested);
        Assert.False(stopping.IsCompleted);
        lifecycle.Fire(UpdateEvent.RollBack);
        lifecycle.Fire(UpdateEvent.Release);
        Assert.False(stopping.IsCompleted);
        lifecycle.EndUpdate();
        Assert.True(await stopping.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(UpdateState.Stopping, lifecycle.State);
        Assert.Equal("The program is stopping: no update can start.",
            Assert.Throws<InvalidOperationException>(() => lifecycle.Fire(UpdateEvent.BeginUpdate)).Message);
        var second = lifecycle.BeginStopAsync(CancellationToken.None);
        Assert.False(second.IsCompleted);
        lifecycle.Fire(UpdateEvent.FinishStop);
        Assert.False(await second.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.False(await lifecycle.BeginStopAsync(CancellationToken.None));
        Assert.Equal("The program is stopped: no update can start.",
            Assert.Throws<InvalidOperationException>(() => lifecycle.Fire(UpdateEvent.BeginUpdate)).Message);
    }

    [Fact]
    public async Task AStop_WaitsForACheck_AndNoUpdateStartsOnceTheStopIsAskedFor()
    {
        var lifecycle = new UpdateLifecycle();
        lifecycle.Fire(UpdateEvent.BeginCheck);
        var stopping = lifecycle.BeginStopAsync(CancellationToken.None);
        Assert.False(stopping.IsCompleted);

        lifecycle.Fire(UpdateEvent.EndCheck);

        // Serving again, with the stop about to take its turn (or already Stopping): either way no update starts.
        Assert.Equal("The program is stopping: no update can start.",
            Assert.Throws<InvalidOperationException>(() => lifecycle.Fire(UpdateEvent.BeginUpdate)).Message);
        Assert.True(await stopping.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(UpdateState.Stopping, lifecycle.State);
    }

    [Fact]
    public void AnUpdate_AbandonedByAnEscapedException_LetsTheHostTakeUpdatesAgain()
    {
        var lifecycle = In(UpdateState.Transferring);

        lifecycle.EndUpdate();

        Assert.Equal(UpdateState.Serving, lifecycle.State);
        Assert.Equal(UpdateState.Preparing, lifecycle.Fire(UpdateEvent.BeginUpdate));
    }

    /// <summary>What a refusal in this state must name.</summary>
    private static string WhatIsUnderWay(UpdateState state, UpdateEvent e) => state switch
    {
        UpdateState.Serving => e == UpdateEvent.EndCheck ? "no check is in progress" : "no update is in progress",
        UpdateState.Checking => "check",
        _ => UpdateLifecycle.Doing(state),
    };

    /// <summary>A lifecycle brought to <paramref name="target"/> by the shortest path of allowed events from Serving.</summary>
    private static UpdateLifecycle In(UpdateState target)
    {
        var path = new Dictionary<UpdateState, List<UpdateEvent>> { [UpdateState.Serving] = [] };
        var queue = new Queue<UpdateState>([UpdateState.Serving]);
        while (queue.TryDequeue(out var state) && !path.ContainsKey(target))
        {
            foreach (var ((from, e), to) in UpdateLifecycle.Transitions)
            {
                if (from == state && !path.ContainsKey(to))
                {
                    path[to] = [.. path[state], e];
                    queue.Enqueue(to);
                }
            }
        }
        var lifecycle = new UpdateLifecycle();
        foreach (var e in path[target])
        {
            lifecycle.Fire(e);
        }
        return lifecycle;
    }
}
