namespace Molt.Hosting;

/// <summary>How an update ended.</summary>
public enum UpdateOutcome
{
    /// <summary>The new version runs; the old one is retired.</summary>
    Committed,
    /// <summary>The update failed after the program paused; the old version resumed with its state untouched.</summary>
    RolledBack,
    /// <summary>The update failed while preparing; the old version was never paused.</summary>
    Refused,
}
