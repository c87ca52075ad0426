// Who holds an unloaded collectible context in a dump: the shortest path from a GC root to each object of the app's
// module (APPMODULE, matched as the end of the module's file name) or RuntimeType of its types, skipping the
// context's own loader-allocator web. Prints up to N distinct paths.
using Microsoft.Diagnostics.Runtime;
using var dt = DataTarget.LoadDump(args[0]);
var rt = dt.ClrVersions[0].CreateRuntime();
var heap = rt.Heap;
var module = Environment.GetEnvironmentVariable("APPMODULE") ?? "WebApp";
bool IsApp(ClrType? t) => t?.Module?.Name?.EndsWith(module) ?? false;
string Name(ulong a) { var o = heap.GetObject(a); var n = o.Type?.Name ?? "?";
    if (n == "System.RuntimeType") n += "(" + rt.GetTypeByMethodTable(o.ReadField<ulong>("m_handle"))?.Name + ")"; return n; }
bool IsTarget(ClrObject o) => o.Type is not null && (IsApp(o.Type) || (o.Type.Name == "System.RuntimeType" && IsApp(rt.GetTypeByMethodTable(o.ReadField<ulong>("m_handle")))));
bool Skip(ClrObject o) => o.Type?.Name is "System.Reflection.LoaderAllocator" or "System.Reflection.LoaderAllocatorScout" or "System.Reflection.RuntimeAssembly" or "System.Reflection.RuntimeModule";
var from = new Dictionary<ulong, ulong>();
var rootKind = new Dictionary<ulong, string>();
var queue = new Queue<ulong>();
foreach (var root in heap.EnumerateRoots())
{
    if (root.Object.Address == 0 || from.ContainsKey(root.Object.Address)) continue;
    if (root is ClrHandle h && h.HandleKind is not (ClrHandleKind.Strong or ClrHandleKind.Pinned or ClrHandleKind.AsyncPinned or ClrHandleKind.RefCounted or ClrHandleKind.SizedRef)) continue;
    from[root.Object.Address] = 0; rootKind[root.Object.Address] = $"{root.RootKind} {(root is ClrHandle hh ? hh.HandleKind.ToString() : root.GetType().Name)} {(root is ClrStackRoot sr ? sr.StackFrame?.ToString() : "")}"; queue.Enqueue(root.Object.Address);
}
var found = new List<ulong>();
while (queue.Count > 0)
{
    var a = queue.Dequeue();
    var o = heap.GetObject(a);
    if (IsTarget(o)) { found.Add(a); continue; }
    if (Skip(o)) continue;
    foreach (var r in o.EnumerateReferences(carefully: false, considerDependantHandles: true))
    {
        if (r.Address == 0 || from.ContainsKey(r.Address)) continue;
        from[r.Address] = a; queue.Enqueue(r.Address);
    }
}
Console.WriteLine($"reachable targets: {found.Count}");
var seen = new HashSet<string>(); var printed = 0; var max = int.Parse(args.Length > 1 ? args[1] : "8");
foreach (var t in found)
{
    var chain = new List<string>(); ulong c = t, top = t; for (; c != 0; c = from[c]) { chain.Add(Name(c)); top = c; }
    chain.Reverse();
    var text = $"[{rootKind.GetValueOrDefault(top)}] " + string.Join("\n   -> ", chain);
    if (seen.Add(text) && printed++ < max) Console.WriteLine("== " + text);
}
