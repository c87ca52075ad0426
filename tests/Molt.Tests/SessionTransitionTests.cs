namespace Molt.Tests;

/// <summary>
/// The session's side of an update refuses, in words, a step taken at the wrong moment (the host's lifecycle orders them;
/// these are the session's own guards): a restart, commit or rollback with no update in progress, a commit before the
/// restart, a second restart or a second quiescence.
/// </summary>
/// <remarks>In the collection of the tests that read the process-wide pending count: a quiescence here counts in it for a moment.</remarks>
[Collection(nameof(ProgramSession.PendingSessions))]
public class SessionTransitionTests
{
    [Fact]
    public void WithNoUpdateInProgress_RestartCommitAndRollback_AreRefused()
    {
        var session = new ProgramSession(isHosted: true);

        Assert.Equal("Cannot begin a restart: no update is in progress.", Assert.Throws<InvalidOperationException>(() => session.BeginRestart([])).Message);
        Assert.Equal("Cannot commit: no update is in progress.", Assert.Throws<InvalidOperationException>(() => session.Commit()).Message);
        Assert.Equal("Cannot roll back: no update is in progress.", Assert.Throws<InvalidOperationException>(session.Rollback).Message);
        Assert.Equal("Cannot await the new version's units: no restart is under way.",
            Assert.Throws<InvalidOperationException>(() => { _ = session.AwaitRestartArrival(); }).Message);
    }

    [Fact]
    public async Task DuringAnUpdate_OutOfOrderSteps_AreRefused_AndTheRollbackStillEndsIt()
    {
        var session = new ProgramSession(isHosted: true);
        await session.RequestQuiescence().WaitAsync(TimeSpan.FromSeconds(10)); // No units: quiescent at once.
        try
        {
            Assert.Equal("An update is already in progress.", Assert.Throws<InvalidOperationException>(() => { _ = session.RequestQuiescence(); }).Message);
            Assert.Equal("Cannot commit: the new version's units have not been restarted.", Assert.Throws<InvalidOperationException>(() => session.Commit()).Message);
            session.BeginRestart([]);
            Assert.Equal("Cannot begin a restart: the update is already restarting the units.",
                Assert.Throws<InvalidOperationException>(() => session.BeginRestart([])).Message);
        }
        finally
        {
            session.Rollback();
        }

        Assert.Equal("Cannot roll back: no update is in progress.", Assert.Throws<InvalidOperationException>(session.Rollback).Message);
        Assert.Equal(0, Volatile.Read(ref ProgramSession.PendingSessions));
    }
}
