namespace Molt.Cli;

/// <summary>The exit codes of <c>molt</c>, as docs/operator-guide.md documents them.</summary>
internal static class ExitCodes
{
    /// <summary>Done: the update committed, the check passed, the program stopped cleanly.</summary>
    public const int Ok = 0;

    /// <summary>A usage error or any other failure of <c>molt</c> itself.</summary>
    public const int Error = 1;

    /// <summary>The update failed after the pause began and rolled back: the old version runs on.</summary>
    public const int RolledBack = 2;

    /// <summary>
    /// Refused: the compatibility check failed, the update was refused while preparing, or the program refused
    /// the request (e.g. an update is already in progress). Nothing changed.
    /// </summary>
    public const int Refused = 3;

    /// <summary>No program of that name is running, or its endpoint does not answer.</summary>
    public const int Unreachable = 4;
}
