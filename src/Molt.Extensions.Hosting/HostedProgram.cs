namespace Molt.Extensions.Hosting;

/// <summary>
/// A hosted application across its versions, in one process: the versions that have started (by the epoch of their
/// start, <see cref="LiveScope.Epoch"/>) and the one server that outlives them.
/// </summary>
internal sealed class HostedProgram
{
    private readonly object _lock = new();
    private readonly Dictionary<int, HostedApplication> _versions = [];

    private HostedProgram(ProgramSession session)
    {
        Session = session;
        Server = new ApplicationServer();
        session.UnitEnded = unit => Connections.UnitEnded(session, unit);
        session.TurnsEnd = unit => Connections.EndOf(session, unit);
        session.UpdateEnded = EndVersionsAsync;
        session.StaysInProcess = unit => Connections.IsOpen(session, unit);
    }

    public ProgramSession Session { get; }

    /// <summary>Kestrel and the application it serves, which forwards each request to the running version.</summary>
    public ApplicationServer Server { get; }

    public static HostedProgram For(ProgramSession session)
    {
        lock (session)
        {
            return (HostedProgram)(session.HostingState ??= new HostedProgram(session));
        }
    }

    /// <summary>Records a version's start; false when this start has one already (AddMolt called twice).</summary>
    public bool Add(HostedApplication version)
    {
        lock (_lock)
        {
            return _versions.TryAdd(version.Epoch, version);
        }
    }

    /// <summary>The version that a unit or a request of the given start belongs to.</summary>
    public HostedApplication Version(int epoch)
    {
        lock (_lock)
        {
            return _versions.TryGetValue(epoch, out var version) ? version
                : throw new InvalidOperationException($"No hosted application started in epoch {epoch}.");
        }
    }

    /// <summary>
    /// After an update, every version but the one that runs now ends: those it replaced are retired (what they carried over
    /// is the new version's now), the one a rollback abandoned is discarded (what it took over is the old version's again).
    /// </summary>
    private Task EndVersionsAsync(int running)
    {
        List<HostedApplication> ending;
        lock (_lock)
        {
            ending = [.. _versions.Values.Where(v => v.Epoch != running)];
            foreach (var version in ending)
            {
                _versions.Remove(version.Epoch);
            }
        }
        return Task.WhenAll(ending.Select(v => v.EndAsync(carriedOut: v.Epoch < running)));
    }
}
