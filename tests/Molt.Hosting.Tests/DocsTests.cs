using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Molt.Hosting.Tests;

/// <summary>The complete program of docs/programming-model.md compiles as written and updates live as the text says.</summary>
public partial class DocsTests
{
    private const string ImplicitUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Threading;
        global using System.Threading.Tasks;

        """;

    [Fact]
    public async Task ProgrammingModel_CounterServer_UpdatesWithClientConnected()
    {
        var doc = await File.ReadAllTextAsync(FindDoc("docs/programming-model.md"));
        var v1 = TestPrograms.Build("Counter", "doc-v1", ImplicitUsings + Block(doc, "v1"));
        var v2 = TestPrograms.Build("Counter", "doc-v2", ImplicitUsings + Block(doc, "v2"));

        await using var host = await MoltHost.StartAsync(v1, ["0"]);
        var port = (int)ProgramState.Call(host, "Program", "get_Port")!;
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port);
        using var reader = new StreamReader(client.GetStream());
        var writer = new StreamWriter(client.GetStream()) { AutoFlush = true, NewLine = "\n" };
        Assert.Equal("1", await Ask(writer, reader, "INCR a"));
        Assert.Equal("2", await Ask(writer, reader, "INCR a"));
        Assert.Equal("1", await Ask(writer, reader, "INCR b"));

        var result = await host.UpdateAsync(v2);

        Assert.True(result.Outcome == UpdateOutcome.Committed, result.ToString());
        Assert.Contains("static Program.Counts", result.DroppedFields);
        Assert.True(result.OldVersionUnloaded, result.ToString());
        // The same connection, now served by v2, with the counts carried over into the new shape.
        Assert.StartsWith("2 ", await Ask(writer, reader, "GET a"));
        Assert.Equal("2", await Ask(writer, reader, "INCR b"));
        // The same listening socket accepts new clients in v2.
        using var second = new TcpClient();
        await second.ConnectAsync("127.0.0.1", port);
        using var secondReader = new StreamReader(second.GetStream());
        var secondWriter = new StreamWriter(second.GetStream()) { AutoFlush = true, NewLine = "\n" };
        Assert.StartsWith("2 ", await Ask(secondWriter, secondReader, "GET b"));
    }

    private static async Task<string?> Ask(StreamWriter writer, StreamReader reader, string command)
    {
        await writer.WriteLineAsync(command);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        return await reader.ReadLineAsync(timeout.Token);
    }

    private static string Block(string doc, string label)
    {
        var match = CodeAfterMarker().Matches(doc).FirstOrDefault(m => m.Groups["label"].Value == label)
            ?? throw new InvalidOperationException($"docs/programming-model.md has no code block marked <!-- {label} -->.");
        return match.Groups["code"].Value;
    }

    internal static string FindDoc(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, relative);
            if (File.Exists(path))
            {
                return path;
            }
        }
        throw new FileNotFoundException($"{relative} not found above {AppContext.BaseDirectory}.");
    }

    [GeneratedRegex(@"<!-- (?<label>\w+) -->\s*```csharp\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex CodeAfterMarker();
}
