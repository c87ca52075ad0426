namespace Molt.Hosting;

/// <summary>
/// The phases of an update that a result or a progress report names, in the order they run. An update's whole order,
/// with its commit or rollback, is stated once in docs/architecture.md ("The life of an update").
/// </summary>
public enum UpdatePhase
{
    /// <summary>Load the new version, plan the state transfer, JIT-compile its code; the old version still serves.</summary>
    Prepare,
    /// <summary>Every unit reaches an update point and parks; the program's pause begins.</summary>
    Quiesce,
    /// <summary>The state (statics and units' states) is transferred and transformed into the new version's types.</summary>
    Transfer,
    /// <summary>The new version's state checks run over the migrated state.</summary>
    StateCheck,
    /// <summary>The new version starts up and its units run to their first update point; the update commits after it.</summary>
    Restart,
    /// <summary>After the commit, releasing the old: its context is unloaded and its collection verified.</summary>
    Unload,
}
