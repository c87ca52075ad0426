using System.Text.Json.Serialization;
using Molt.Hosting.Control;

namespace Molt.Cli.Output;

/// <summary>The JSON that <c>--json</c> prints: the control channel's own records, camelCase, enums as names.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never, UseStringEnumConverter = true)]
[JsonSerializable(typeof(ProgramStatus))]
[JsonSerializable(typeof(UpdateSummary))]
[JsonSerializable(typeof(CheckSummary))]
[JsonSerializable(typeof(IReadOnlyList<EndpointInfo>))]
[JsonSerializable(typeof(JsonError))]
internal sealed partial class CliJson : JsonSerializerContext;

/// <summary>What <c>--json</c> prints when a command fails before it has a result.</summary>
/// <param name="Error">Why, in words.</param>
/// <param name="ExitCode">The exit code that follows.</param>
internal sealed record JsonError(string Error, int ExitCode);
