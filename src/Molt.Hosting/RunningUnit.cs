namespace Molt.Hosting;

/// <summary>A unit of the running version, as the host sees it.</summary>
/// <param name="Name">The unit's name.</param>
/// <param name="Kind"><c>task</c> or <c>thread</c>.</param>
/// <param name="Status"><c>Running</c> or <c>Parked</c>.</param>
/// <param name="LastUpdatePoint">The last update point where the unit was seen, or null.</param>
/// <param name="ResumedFrom">For a unit resumed by an update, the update point where its old version was parked.</param>
public sealed record RunningUnit(string Name, string Kind, string Status, string? LastUpdatePoint, string? ResumedFrom);
