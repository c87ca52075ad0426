using System.Globalization;
using Chat.Demo;

// Molt's main job: a chat server updated live, twice, under load. Exit code 0 only if everything held.
var clients = args.Length >= 2 && args[0] == "--clients" ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20;
Console.WriteLine("Molt demo: a live chat server updated v1 -> v2 -> v3 while its clients keep talking");
Console.WriteLine();
var report = await new ChatScenario(new ChatScenarioOptions { Clients = clients, TimeLimit = TimeSpan.FromSeconds(30), Log = Console.WriteLine })
    .RunAsync();
Console.WriteLine();
Console.WriteLine(report.Summary());
return report.Succeeded ? 0 : 1;
