using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using Molt.Hosting;
using Molt.Hosting.Control;

namespace Kv.Demo;

/// <summary>
/// Molt's main job, end to end, with clients nobody here wrote: kv v1 (a Redis-compatible server) runs under the
/// Molt host (in this process, or under <c>molt run</c>), keys are loaded with Debian's Python redis client, and while
/// redis-benchmark and a Python writer keep the server busy it is updated live to each next release (and once rolled
/// back), in process or across processes. After each step: no client saw an error, one connection opened to v1 is still
/// the same connection with its name, the process that serves is the one the update's mechanism says (the same one, or a
/// new one with the old one gone), and every key written before and during the step is read back with its value, type
/// and TTL. Used by the demo and the tests.
/// </summary>
public sealed class KvScenario(KvScenarioOptions options)
{
    private const string SessionName = "live-session";
    private const string BenchmarkKeys = "key:*";
    private const int BenchmarkValueSize = 16;
    private const string GlobPattern = "KEYS glob:[1-3]";
    private static readonly string[] GlobKeys = ["glob:1", "glob:2", "glob:5"];

    private readonly Stopwatch _clock = new();
    private readonly List<Dataset> _datasets = [];

    /// <summary>Runs the scenario; never throws for something that went wrong in it: the report says.</summary>
    public async Task<KvReport> RunAsync(CancellationToken cancellationToken = default)
    {
        _clock.Restart();
        var report = new KvReport();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.TimeLimit);
        try
        {
            await RunAsync(report, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or TimeoutException or IOException or JsonException
            or SessionException or ToolMissingException or UpdateFailedException or InvalidOperationException)
        {
            report.Failures.Add(deadline.IsCancellationRequested && e is OperationCanceledException
                ? $"the scenario did not finish within {options.TimeLimit.TotalSeconds:0} s"
                : $"{e.GetType().Name}: {e.Message}");
        }
        report.Elapsed = _clock.Elapsed;
        return report;
    }

    private async Task RunAsync(KvReport report, CancellationToken cancellationToken)
    {
        var releases = options.Releases.ToDictionary(r => r, r => Path.Combine(options.ReleasesFolder, r, "Kv.dll"), StringComparer.Ordinal);
        if (releases.FirstOrDefault(r => !File.Exists(r.Value)) is { Value: not null } missing)
        {
            report.Failures.Add($"release {missing.Key} is not built: {missing.Value} does not exist");
            return;
        }
        if (!File.Exists(Script))
        {
            report.Failures.Add($"the client scripts are missing: {Script} does not exist");
            return;
        }

        var first = options.Releases[0];
        await using var server = await StartServerAsync(releases[first], cancellationToken).ConfigureAwait(false);
        var port = server.Port;
        Log($"{first} runs {server.Where} on 127.0.0.1:{port}");

        await using var session = await LiveSession.OpenAsync(options.ClientsFolder, port, options.ToolTimeout, cancellationToken).ConfigureAwait(false);
        await session.AskAsync($"CLIENT SETNAME {SessionName}", cancellationToken).ConfigureAwait(false);
        var sessionId = await session.AskAsync("CLIENT ID", cancellationToken).ConfigureAwait(false);
        foreach (var key in GlobKeys)
        {
            await session.AskAsync($"SET {key} 1", cancellationToken).ConfigureAwait(false);
        }
        Log($"a Python redis connection is opened (client id {sessionId}, local port {session.LocalPort}) and named '{SessionName}'; it stays open to the end");
        await using var crowd = options.CrowdConnections > 0
            ? await LiveSession.OpenCrowdAsync(options.ClientsFolder, port, options.CrowdConnections, options.ToolTimeout, cancellationToken).ConfigureAwait(false)
            : null;
        if (crowd is not null)
        {
            Log($"{options.CrowdConnections} more Python redis connections are opened, each named with CLIENT SETNAME; they stay open to the end, idle");
        }

        report.KeysLoaded = options.Keys;
        await LoadAsync(port, new Dataset("d1:", options.Keys, TypesOf(first)), cancellationToken).ConfigureAwait(false);
        report.RequestsPerStep = await CalibrateAsync(port, cancellationToken).ConfigureAwait(false);
        Log($"each step runs redis-benchmark -c {options.BenchmarkClients} -t set,get and a Python writer; the update starts {UpdateDelay.TotalSeconds:0.0} s in; " +
            $"the first step's load is -n {2 * report.RequestsPerStep} (about {2 * options.LoadPerStep.TotalSeconds:0} s here), each next one's outlasts twice the update call before it");

        // The first update has no earlier call to size its load by, and is the slowest (its code compiles; a process
        // update starts a runtime): twice the calibrated load, so that a loaded machine still has clients throughout it.
        var requests = 2 * report.RequestsPerStep;
        var updates = 0;
        foreach (var (kind, from, to) in Steps())
        {
            var mechanism = kind == "update" ? options.Mechanisms[Math.Min(updates++, options.Mechanisms.Count - 1)] : UpdateMechanism.InProcess;
            var step = new StepReport { Kind = kind, From = from, To = to, Mechanism = mechanism };
            report.Steps.Add(step);
            Log("");
            step.ProcessBefore = await server.ServingProcessIdAsync(cancellationToken).ConfigureAwait(false);
            await RunStepAsync(step, server, port, releases[to], requests, cancellationToken).ConfigureAwait(false);
            requests = NextLoad(step, report.RequestsPerStep);
            await CheckProcessAsync(step, server, cancellationToken).ConfigureAwait(false);
            await CheckSessionAsync(step, session, sessionId, to, cancellationToken).ConfigureAwait(false);
            if (crowd is not null)
            {
                await CheckCrowdAsync(step, crowd, cancellationToken).ConfigureAwait(false);
            }
            if (kind == "update" && Committed(step.Result) && TypesOf(to).Except(_datasets.SelectMany(d => d.Types)).Any())
            {
                var added = TypesOf(to).Except(_datasets.SelectMany(d => d.Types)).ToArray();
                Log($"  {to} brings {string.Join(" and ", added)}: loading {options.KeysPerNewType} keys of every type it has");
                await LoadAsync(port, new Dataset($"d{Number(to)}:", options.KeysPerNewType, TypesOf(to)), cancellationToken).ConfigureAwait(false);
            }
            await VerifyStateAsync(step, port, cancellationToken).ConfigureAwait(false);
            if (Number(to) >= 6)
            {
                await CheckLaterCommandsAsync(step, session, cancellationToken).ConfigureAwait(false);
            }
            LogStep(step);
            Judge(report, step);
            if (!Committed(step.Result))
            {
                break;
            }
        }
        await server.StopAsync().ConfigureAwait(false);
    }

    /// <summary>kv's first release under Molt: in this process, or under <c>molt run</c> when <see cref="KvScenarioOptions.MoltCli"/> is set.</summary>
    private async Task<KvServer> StartServerAsync(string programPath, CancellationToken cancellationToken)
    {
        if (options.MoltCli is { } cli)
        {
            // The same deadlines as in process; molt run's own defaults are shorter than a loaded 2-core machine may need.
            return await MoltRunKvServer.StartAsync(cli, programPath,
                ["--quiesce-timeout", "10s", "--restart-timeout", "15s", .. options.KeepOldCode ? ["--keep-old-code"] : Array.Empty<string>()],
                options.ToolTimeout, cancellationToken).ConfigureAwait(false);
        }
        if (options.Mechanisms.Any(m => m != UpdateMechanism.InProcess))
        {
            throw new InvalidOperationException("Updates to a new process need kv under `molt run`: set KvScenarioOptions.MoltCli.");
        }
        var hostOptions = new MoltHostOptions
        {
            QuiesceTimeout = TimeSpan.FromSeconds(10), RestartTimeout = TimeSpan.FromSeconds(15), UnloadOldCode = !options.KeepOldCode,
        };
        return await HostedKvServer.StartAsync(programPath, hostOptions, cancellationToken).ConfigureAwait(false);
    }

    private static bool Committed(UpdateSummary? result) => result?.Outcome == nameof(UpdateOutcome.Committed);

    /// <summary>
    /// Which process serves after the step: the same one after an update in process; after an update to a new process, the new
    /// process the update named, and the old one gone (it exits once the new one serves; molt run reaps it).
    /// </summary>
    private async Task CheckProcessAsync(StepReport step, KvServer server, CancellationToken cancellationToken)
    {
        step.ProcessAfter = await server.ServingProcessIdAsync(cancellationToken).ConfigureAwait(false);
        var mechanism = step.Result?.Mechanism ?? "-";
        if (step.Mechanism == UpdateMechanism.InProcess)
        {
            step.Checks.Add(($"updated in process ({mechanism}): process {step.ProcessAfter} still serves", mechanism == nameof(UpdateMechanism.InProcess) && step.ProcessAfter == step.ProcessBefore));
            return;
        }
        step.Checks.Add(($"updated across processes ({mechanism}): the new process {step.Result?.NewProcessId} serves (molt status: process {step.ProcessAfter}, before {step.ProcessBefore})",
            mechanism == nameof(UpdateMechanism.NewProcess) && step.Result?.NewProcessId == step.ProcessAfter && step.ProcessAfter != step.ProcessBefore));
        var gone = await ProcessGoneAsync(step.ProcessBefore, cancellationToken).ConfigureAwait(false);
        step.Checks.Add(($"the old process {step.ProcessBefore} is gone", gone));
    }

    /// <summary>Whether process <paramref name="pid"/> no longer exists (not even as a zombie), waiting up to 10 s for it to go.</summary>
    private static async Task<bool> ProcessGoneAsync(int pid, CancellationToken cancellationToken)
    {
        var until = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 10;
        while (Directory.Exists($"/proc/{pid}"))
        {
            if (Stopwatch.GetTimestamp() > until)
            {
                return false;
            }
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
        return true;
    }

    /// <summary>The releases in order, with the rollback (and the update forward again) after <see cref="KvScenarioOptions.RollBackAfter"/>.</summary>
    private IEnumerable<(string Kind, string From, string To)> Steps()
    {
        var releases = options.Releases;
        for (var i = 1; i < releases.Count; i++)
        {
            yield return ("update", releases[i - 1], releases[i]);
            if (releases[i] == options.RollBackAfter)
            {
                yield return ("rollback", releases[i], releases[i - 1]);
                yield return ("update", releases[i - 1], releases[i]);
            }
        }
    }

    private TimeSpan UpdateDelay => options.LoadPerStep / 3;

    /// <summary>How many steps have had a blocked client and an open transaction (their keys are the step's own).</summary>
    private int _pendingSteps;

    /// <summary>One step: the load starts, the update (or rollback) runs in the middle of it, the load ends.</summary>
    private async Task RunStepAsync(StepReport step, KvServer server, int port, string targetPath, int requests, CancellationToken cancellationToken)
    {
        var writerTypes = TypesOf(Earlier(step.From, step.To));
        var writer = new Dataset($"w{_datasets.Count(d => d.Prefix.StartsWith('w')) + 1}:", 0, writerTypes);
        var statusFile = Path.Combine(Path.GetTempPath(), $"kv-writer-{Environment.ProcessId}-{writer.Prefix.TrimEnd(':')}.json");
        File.Delete(statusFile);
        var started = _clock.Elapsed;
        step.BenchmarkRequests = requests;
        var writerSeconds = (options.LoadPerStep + TimeSpan.FromSeconds(1)).TotalSeconds;
        await using var writing = ExternalTool.Start(ExternalTool.Python, [Script, "writer", "--port", Text(port), "--prefix", writer.Prefix,
            "--types", string.Join(',', writerTypes), "--duration", writerSeconds.ToString("0.0", CultureInfo.InvariantCulture),
            "--max-keys", "1000000", "--status-file", statusFile]);
        await using var benchmark = ExternalTool.Start("redis-benchmark", ["-h", "127.0.0.1", "-p", Text(port), "-c", Text(options.BenchmarkClients),
            "-n", Text(requests), "-r", "100000", "-d", Text(BenchmarkValueSize), "-t", "set,get", "--csv"]);

        await Task.Delay(UpdateDelay, cancellationToken).ConfigureAwait(false);
        // Lists (and so BLPOP) came with v2: from then on, a blocked client and an open transaction cross each step.
        await using var pending = Number(step.From) >= 2 && Number(step.To) >= 2
            ? await PendingClients.OpenAsync(port, $"{step.From}-{step.To}-{++_pendingSteps}", TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false)
            : null;
        if (pending is not null)
        {
            Log($"  left waiting across the {step.Kind}: {pending.Description}");
        }
        var running = !benchmark.HasExited;
        var call = Stopwatch.GetTimestamp();
        step.Result = step.Kind == "rollback"
            ? await server.RollbackAsync(cancellationToken).ConfigureAwait(false)
            : await server.UpdateAsync(targetPath, step.Mechanism, cancellationToken).ConfigureAwait(false);
        step.UpdateCallTime = Stopwatch.GetElapsedTime(call);
        step.LoadThroughoutUpdate = running && !benchmark.HasExited;
        if (pending is not null)
        {
            try
            {
                step.Checks.AddRange(await pending.FinishAsync(Committed(step.Result) ? step.To : step.From, cancellationToken).ConfigureAwait(false));
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or InvalidDataException)
            {
                step.ClientErrors.Add($"the blocked client and the open transaction: {e.GetType().Name}: {e.Message}");
            }
        }

        await benchmark.WaitAsync(options.ToolTimeout, cancellationToken).ConfigureAwait(false);
        step.BenchmarkRunTime = benchmark.RunTime;
        ReadBenchmark(step, benchmark);
        await writing.WaitAsync(options.ToolTimeout, cancellationToken).ConfigureAwait(false);
        ReadWriter(step, writing, statusFile);
        File.Delete(statusFile);
        _datasets.Add(writer with { Keys = (int)step.WriterAcknowledged, LoadedAt = started });
    }

    private static void ReadBenchmark(StepReport step, ExternalTool benchmark)
    {
        // --csv: a header, then one line per test: "SET","rps","avg_latency_ms","min…","p50…","p95…","p99…","max_latency_ms".
        var rows = benchmark.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => l.StartsWith("\"SET\"", StringComparison.Ordinal) || l.StartsWith("\"GET\"", StringComparison.Ordinal))
            .Select(l => l.Split(',').Select(f => f.Trim('"')).ToArray())
            .ToList();
        var errors = (benchmark.Output + "\n" + benchmark.Errors).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => l.Contains("error", StringComparison.OrdinalIgnoreCase) || l.StartsWith("ERR", StringComparison.Ordinal))
            .ToList();
        step.ClientErrors.AddRange(errors.Take(5).Select(e => $"redis-benchmark: {e}"));
        if (benchmark.ExitCode != 0 || rows.Count != 2)
        {
            step.ClientErrors.Add($"redis-benchmark exited with code {benchmark.ExitCode} and {rows.Count} of 2 results: {benchmark.Output.Trim()} {benchmark.Errors.Trim()}");
            return;
        }
        step.BenchmarkMaxLatencyMs = rows.Max(r => double.Parse(r[^1], CultureInfo.InvariantCulture));
    }

    private static void ReadWriter(StepReport step, ExternalTool writing, string statusFile)
    {
        if (!File.Exists(statusFile))
        {
            step.ClientErrors.Add($"the Python writer wrote no status (exit code {writing.ExitCode}): {writing.Errors.Trim()}");
            return;
        }
        using var status = JsonDocument.Parse(File.ReadAllText(statusFile));
        var root = status.RootElement;
        step.WriterAcknowledged = root.GetProperty("acknowledged").GetInt64();
        if (root.TryGetProperty("max_latency_ms", out var latency) && latency.ValueKind == JsonValueKind.Number)
        {
            step.WriterMaxLatencyMs = latency.GetDouble();
        }
        var errors = root.GetProperty("errors").GetInt64();
        if (errors > 0)
        {
            step.ClientErrors.Add($"the Python writer saw {errors} errors, the first: {root.GetProperty("first_errors")}");
        }
    }

    /// <summary>The connection opened to the first release: still the same one, with its name, answering as the new release.</summary>
    private static async Task CheckSessionAsync(StepReport step, LiveSession session, string sessionId, string release, CancellationToken cancellationToken)
    {
        try
        {
            var name = await session.AskAsync("CLIENT GETNAME", cancellationToken).ConfigureAwait(false);
            var id = await session.AskAsync("CLIENT ID", cancellationToken).ConfigureAwait(false);
            var info = await session.AskAsync("INFO server", cancellationToken).ConfigureAwait(false);
            var version = info.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("kv_version:", StringComparison.Ordinal))?["kv_version:".Length..];
            step.Checks.Add(($"the connection opened to v1 is the same connection (client id {id}, local port {session.LocalPort})", id == sessionId && session.LastReplyOnFirstSocket));
            step.Checks.Add(($"its name set with CLIENT SETNAME is kept ('{name}')", name == SessionName));
            step.Checks.Add(($"it is served by {release} (INFO: kv_version:{version})", version == Number(release).ToString(CultureInfo.InvariantCulture)));
            // The bug v5 fixes, seen on the same connection: v1-v4 read the glob class [1-3] as the characters '1', '-', '3'.
            var matched = string.Join(' ', (await session.SendAsync(GlobPattern, cancellationToken).ConfigureAwait(false)).EnumerateArray().Select(k => k.GetString()).Order(StringComparer.Ordinal));
            var expected = Number(release) >= 5 ? "glob:1 glob:2" : "glob:1";
            step.Checks.Add(($"'{GlobPattern}' answers '{matched}' ({(Number(release) >= 5 ? "fixed in v5" : "the range bug of v1-v4")})", matched == expected));
            if (Number(release) >= 3)
            {
                var frequency = await session.SendAsync("OBJECT FREQ d1:1", cancellationToken).ConfigureAwait(false);
                step.Checks.Add(($"OBJECT FREQ answers an access count ({frequency})", frequency.ValueKind == JsonValueKind.Number));
            }
        }
        catch (SessionException e)
        {
            step.ClientErrors.Add($"the live connection: {e.Message}");
        }
    }

    /// <summary>
    /// Release 6's commands (it changed commands only) read keys of every type that updates carried, on the connection
    /// opened to the first release: each answers as the commands of earlier releases do about the same key.
    /// </summary>
    private async Task CheckLaterCommandsAsync(StepReport step, LiveSession session, CancellationToken cancellationToken)
    {
        // Key i of a data set is of type Types[i % 4]: string, list, hash, set.
        if (_datasets.FirstOrDefault(d => d.Prefix.StartsWith('d') && d.Types.Length == 4 && d.Keys >= 4) is not { } data)
        {
            return;
        }
        string text = data.Prefix + "0", list = data.Prefix + "1", hash = data.Prefix + "2", set = data.Prefix + "3";
        try
        {
            async Task<string> Ask(string command) => await session.AskAsync(command, cancellationToken).ConfigureAwait(false);
            async Task<string[]> Strings(string command) =>
                [.. (await session.SendAsync(command, cancellationToken).ConfigureAwait(false)).EnumerateArray().Select(e => e.ToString())];

            var value = await Ask($"GET {text}");
            var deadline = long.Parse(await Ask($"PEXPIRETIME {text}"), CultureInfo.InvariantCulture);
            var stringAgrees = await Ask($"STRLEN {text}") == value.Length.ToString(CultureInfo.InvariantCulture)
                && await Ask($"GETRANGE {text} 0 -1") == value
                && await Ask($"EXPIRETIME {text}") == (deadline < 0 ? deadline : (deadline + 500) / 1000).ToString(CultureInfo.InvariantCulture);
            var head = (await Strings($"LRANGE {list} 0 0"))[0];
            var listAgrees = await Ask($"LINDEX {list} 0") == head && (await Strings($"LPOS {list} {head} COUNT 0")).Contains("0");
            var fields = await Strings($"HKEYS {hash}");
            var hashAgrees = fields.Length.ToString(CultureInfo.InvariantCulture) == await Ask($"HLEN {hash}")
                && (await Strings($"HMGET {hash} {fields[0]}"))[0] == await Ask($"HGET {hash} {fields[0]}");
            var members = await Strings($"SMEMBERS {set}");
            var setAgrees = await Ask($"SINTERCARD 1 {set}") == await Ask($"SCARD {set}")
                && (await Strings($"SMISMEMBER {set} {string.Join(' ', members)}")).All(m => m == "1");
            step.Checks.Add(($"v6's commands read the keys the updates carried ({text}..{set}): STRLEN, GETRANGE, EXPIRETIME {(stringAgrees ? "agree" : "DISAGREE")} " +
                $"with GET and PEXPIRETIME, LINDEX and LPOS {(listAgrees ? "agree" : "DISAGREE")} with LRANGE, HKEYS and HMGET {(hashAgrees ? "agree" : "DISAGREE")} " +
                $"with HLEN and HGET, SINTERCARD and SMISMEMBER {(setAgrees ? "agree" : "DISAGREE")} with SCARD and SMEMBERS",
                stringAgrees && listAgrees && hashAgrees && setAgrees));
        }
        catch (SessionException e)
        {
            step.ClientErrors.Add($"the live connection: {e.Message}");
        }
    }

    /// <summary>The crowd opened to the first release: every connection the same one, with its name.</summary>
    private static async Task CheckCrowdAsync(StepReport step, LiveSession crowd, CancellationToken cancellationToken)
    {
        try
        {
            var (count, problems) = await crowd.CheckCrowdAsync(cancellationToken).ConfigureAwait(false);
            step.Checks.Add(($"the {count} other connections opened to v1 are the same connections, each with its name", problems.Count == 0));
            step.ClientErrors.AddRange(problems.Select(p => $"the crowd: {p}"));
        }
        catch (SessionException e)
        {
            step.ClientErrors.Add($"the crowd: {e.Message}");
        }
    }

    /// <summary>Reads back every key written so far — the loaded data sets, each step's writer, redis-benchmark's keys.</summary>
    private async Task VerifyStateAsync(StepReport step, int port, CancellationToken cancellationToken)
    {
        foreach (var dataset in _datasets.Where(d => d.Keys > 0))
        {
            var elapsed = (_clock.Elapsed - dataset.LoadedAt).TotalSeconds + 1;
            var verify = await ExternalTool.RunScriptAsync(Script, ["verify", "--port", Text(port), "--prefix", dataset.Prefix, "--keys", Text(dataset.Keys),
                "--types", string.Join(',', dataset.Types), "--elapsed-max", elapsed.ToString("0", CultureInfo.InvariantCulture)],
                options.ToolTimeout, cancellationToken).ConfigureAwait(false);
            ReadVerification(step, verify, $"keys {dataset.Prefix}*");
        }
        var bench = await ExternalTool.RunScriptAsync(Script, ["verify-bench", "--port", Text(port), "--pattern", BenchmarkKeys, "--size", Text(BenchmarkValueSize)],
            options.ToolTimeout, cancellationToken).ConfigureAwait(false);
        ReadVerification(step, bench, $"redis-benchmark's keys {BenchmarkKeys}");
    }

    private static void ReadVerification(StepReport step, ExternalTool verify, string what)
    {
        var line = verify.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(l => l.TrimStart().StartsWith('{'));
        if (line is null)
        {
            step.StateProblems.Add($"{what}: the check printed no result (exit code {verify.ExitCode}): {verify.Errors.Trim()}");
            return;
        }
        using var result = JsonDocument.Parse(line);
        var root = result.RootElement;
        step.KeysVerified += root.GetProperty("checked").GetInt64();
        var missing = root.TryGetProperty("missing", out var m) ? m.GetInt64() : 0;
        var wrong = root.GetProperty("wrong").GetInt64();
        if (verify.ExitCode != 0 || missing > 0 || wrong > 0)
        {
            step.StateProblems.Add($"{what}: {missing} missing, {wrong} wrong; {(root.TryGetProperty("first_problems", out var p) ? p.ToString() : verify.Errors.Trim())}");
        }
    }

    private async Task LoadAsync(int port, Dataset dataset, CancellationToken cancellationToken)
    {
        var load = await ExternalTool.RunScriptAsync(Script, ["load", "--port", Text(port), "--prefix", dataset.Prefix, "--keys", Text(dataset.Keys),
            "--types", string.Join(',', dataset.Types)], options.ToolTimeout, cancellationToken).ConfigureAwait(false);
        if (load.ExitCode != 0)
        {
            throw new InvalidOperationException($"loading {dataset.Keys} keys {dataset.Prefix}* failed: {load.Output.Trim()} {load.Errors.Trim()}");
        }
        _datasets.Add(dataset with { LoadedAt = _clock.Elapsed });
        Log($"loaded {dataset.Keys} keys {dataset.Prefix}* ({string.Join(", ", dataset.Types)}; every tenth with a TTL) with the Python client");
    }

    /// <summary>
    /// The next step's request count: at the rate this step's load ran, enough to outlast the update delay and twice this
    /// step's whole update call (prepare, pause, unload check) — updates grow with the keyspace, and a slow machine makes
    /// them longer — never less than the calibrated count.
    /// </summary>
    private int NextLoad(StepReport step, int calibrated)
    {
        if (step.BenchmarkRunTime <= TimeSpan.Zero || step.BenchmarkRequests == 0)
        {
            return calibrated;
        }
        var perSecond = step.BenchmarkRequests / step.BenchmarkRunTime.TotalSeconds;
        var needed = UpdateDelay + 2 * step.UpdateCallTime + TimeSpan.FromSeconds(1);
        return (int)Math.Clamp(perSecond * needed.TotalSeconds, calibrated, options.MaxRequestsPerStep);
    }

    /// <summary>The request count that keeps redis-benchmark busy for about <see cref="KvScenarioOptions.LoadPerStep"/> on this machine.</summary>
    private async Task<int> CalibrateAsync(int port, CancellationToken cancellationToken)
    {
        const int probe = 20_000;
        var run = await ExternalTool.RunAsync("redis-benchmark", ["-h", "127.0.0.1", "-p", Text(port), "-c", Text(options.BenchmarkClients), "-n", Text(probe),
            "-r", "100000", "-d", Text(BenchmarkValueSize), "-t", "set", "--csv"], options.ToolTimeout, cancellationToken).ConfigureAwait(false);
        var row = run.Output.Split('\n').FirstOrDefault(l => l.StartsWith("\"SET\"", StringComparison.Ordinal))?.Split(',');
        if (run.ExitCode != 0 || row is null)
        {
            throw new InvalidOperationException($"redis-benchmark could not run against kv: {run.Output.Trim()} {run.Errors.Trim()}");
        }
        var perSecond = double.Parse(row[1].Trim('"'), CultureInfo.InvariantCulture);
        return (int)Math.Clamp(perSecond * options.LoadPerStep.TotalSeconds / 2, probe, options.MaxRequestsPerStep);
    }

    private static void Judge(KvReport report, StepReport step)
    {
        var result = step.Result;
        if (!Committed(result))
        {
            report.Failures.Add($"{step.Name}: {(result is null ? "did not run" : $"{result.Outcome} ({result.FailedPhase}: {result.Failure})")}");
        }
        if (Committed(result) && result!.OldVersionUnloaded != true)
        {
            report.Failures.Add($"{step.Name}: the old version was not unloaded: {string.Join(" ", result.Warnings)}");
        }
        if (!step.LoadThroughoutUpdate)
        {
            report.Failures.Add($"{step.Name}: redis-benchmark was not running throughout the update (raise LoadPerStep)");
        }
        report.Failures.AddRange(step.ClientErrors.Select(e => $"{step.Name}: client error: {e}"));
        report.Failures.AddRange(step.StateProblems.Select(p => $"{step.Name}: state: {p}"));
        report.Failures.AddRange(step.Checks.Where(c => !c.Passed).Select(c => $"{step.Name}: {c.Name}: FAILED"));
    }

    private void LogStep(StepReport step)
    {
        var result = step.Result;
        Log($"{(step.Kind == "rollback" ? "rollback" : "update")} {step.From} -> {step.To} under load ({Mechanism(step)}): {result?.Outcome ?? "-"}" +
            (result?.Failure is { } f ? $" ({result.FailedPhase}: {f})" : ""));
        if (result is not null)
        {
            Log($"  pause {Ms(result.PauseMilliseconds)} (quiesce {Ms(result.QuiesceMilliseconds)}, transfer {Ms(result.TransferMilliseconds)}, " +
                $"restart {Ms(result.RestartMilliseconds)}); prepared in {Ms(result.PrepareMilliseconds)} while {step.From} served; " +
                $"objects rebuilt {result.ObjectsRebuilt}, references passed {result.ReferencesPassed}");
        }
        Log($"  clients: redis-benchmark {(step.BenchmarkRequests > 0 ? Text(step.BenchmarkRequests * 2) + " requests, " : "")}highest latency {Ms(step.BenchmarkMaxLatencyMs)}" +
            $"{(step.LoadThroughoutUpdate ? ", running throughout the update" : ", NOT running throughout the update")}; " +
            $"Python writer {step.WriterAcknowledged} writes, highest latency {Ms(step.WriterMaxLatencyMs)}; {step.ClientErrors.Count} client errors");
        foreach (var (name, passed) in step.Checks)
        {
            Log($"  {name}: {(passed ? "OK" : "FAILED")}");
        }
        Log($"  state: {step.KeysVerified} keys read back with their value, type and TTL: {(step.StateProblems.Count == 0 ? "all as written" : string.Join("; ", step.StateProblems))}");
        if (Committed(result))
        {
            Log($"  old version unloaded: {(result!.OldVersionUnloaded == true ? "yes" : "NO")} ({Ms(result.UnloadMilliseconds)})" + string.Concat(result.Warnings.Select(w => $"\n  warning: {w}")));
        }
    }

    private static string Mechanism(StepReport step) => step.Mechanism == UpdateMechanism.NewProcess
        ? $"to a new process, {step.ProcessBefore} -> {(step.Result?.NewProcessId is { } pid ? pid.ToString(CultureInfo.InvariantCulture) : "-")}"
        : $"in process {step.ProcessBefore}";

    private string Script => Path.Combine(options.ClientsFolder, "kv_data.py");

    /// <summary>The value types a release has.</summary>
    private static string[] TypesOf(string release) => Number(release) switch
    {
        1 => ["string"],
        < 5 => ["string", "list", "hash"],
        _ => ["string", "list", "hash", "set"],
    };

    private static int Number(string release) => int.Parse(release.TrimStart('v'), CultureInfo.InvariantCulture);

    private static string Earlier(string a, string b) => Number(a) <= Number(b) ? a : b;

    private void Log(string line) => options.Log?.Invoke(line.Length == 0 ? "" : $"[{_clock.Elapsed.TotalSeconds,5:0.00} s] {line}");

    private static string Ms(double ms) => ms.ToString("0.0", CultureInfo.InvariantCulture) + " ms";

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Keys written with one prefix, all of which must be read back as written.</summary>
    private sealed record Dataset(string Prefix, int Keys, string[] Types)
    {
        public TimeSpan LoadedAt { get; init; }
    }
}
