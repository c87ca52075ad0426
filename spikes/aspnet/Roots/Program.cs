// Who holds an unloaded collectible context in a dump: objects of the app's types (module WebApp) and RuntimeType objects
// of those types; prints chains of referrers (reverse heap graph), skipping the app's own objects.
using Microsoft.Diagnostics.Runtime;
using var dt = DataTarget.LoadDump(args[0]);
var rt = dt.ClrVersions[0].CreateRuntime();
var heap = rt.Heap;
bool IsApp(ClrType? t) => t?.Module?.Name?.Contains("WebApp") ?? false;
var parents = new Dictionary<ulong, List<ulong>>();
var targets = new List<ClrObject>();
foreach (var o in heap.EnumerateObjects())
{
    if (o.Type is null) continue;
    if (IsApp(o.Type)) targets.Add(o);
    else if (o.Type.Name == "System.RuntimeType")
    {
        var mt = o.ReadField<ulong>("m_handle");
        if (IsApp(rt.GetTypeByMethodTable(mt))) targets.Add(o);
    }
    foreach (var r in o.EnumerateReferences(carefully: false, considerDependantHandles: false))
    {
        if (!parents.TryGetValue(r.Address, out var l)) parents[r.Address] = l = new();
        l.Add(o.Address);
    }
}
string Name(ulong a) { var o = heap.GetObject(a); var n = o.Type?.Name ?? "?";
    if (n == "System.RuntimeType") n += "(" + rt.GetTypeByMethodTable(o.ReadField<ulong>("m_handle"))?.Name + ")"; return n; }
Console.WriteLine($"targets: {targets.Count}: " + string.Join(", ", targets.Select(t => Name(t.Address)).Distinct()));
// BFS upward from every target, skipping the collectible's own web (its LoaderAllocator, assembly, module, types, objects),
// to the first objects with no referrer (held by a handle or a static's array): print each such chain once.
bool Interior(ulong a)
{
    var o = heap.GetObject(a); var n = o.Type?.Name;
    if (IsApp(o.Type) || n is "System.Reflection.LoaderAllocator" or "System.Reflection.RuntimeAssembly" or "System.Reflection.RuntimeModule" or "System.Reflection.LoaderAllocatorScout") return true;
    if (n == "System.RuntimeType" && IsApp(rt.GetTypeByMethodTable(o.ReadField<ulong>("m_handle")))) return true;
    if (n == "System.Object[]" && parents.TryGetValue(a, out var ps) && ps.Any(p => heap.GetObject(p).Type?.Name == "System.Reflection.LoaderAllocator")) return true;
    return false;
}
var from = new Dictionary<ulong, ulong>();
var queue = new Queue<ulong>();
foreach (var t in targets) { from[t.Address] = 0; queue.Enqueue(t.Address); }
int printed = 0;
while (queue.Count > 0 && printed < int.Parse(args.Length > 1 ? args[1] : "8"))
{
    var a = queue.Dequeue();
    var ps = parents.TryGetValue(a, out var l) ? l.Where(p => !from.ContainsKey(p) && !Interior(p)).Distinct().ToList() : new();
    if (!parents.ContainsKey(a) && !Interior(a))
    {
        var chain = new List<string>(); for (var c = a; c != 0; c = from[c]) chain.Add(Name(c));
        Console.WriteLine("== rooted chain (root first):\n   " + string.Join("\n   -> ", chain)); printed++;
    }
    foreach (var p in ps) { from[p] = a; queue.Enqueue(p); }
}
