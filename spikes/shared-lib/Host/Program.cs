// Can one collectible context hold a library that two versions' collectible contexts share, so that objects of its types
// pass from one version to the other as they are, and is each context collected when nothing uses it any more?
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;

var dir = args[0];
var libRef = Run(dir);
await Task.Yield();
Console.WriteLine($"library context collected once no version uses it: {Collect(libRef)}");

[MethodImpl(MethodImplOptions.NoInlining)]
static WeakReference Run(string dir)
{
    var lib = new AssemblyLoadContext("lib:Lib", isCollectible: true);
    var libAssembly = lib.LoadFromAssemblyPath(Path.Combine(dir, "Lib.dll"));
    Console.WriteLine($"Lib MVID {libAssembly.ManifestModule.ModuleVersionId}");
    var (v1, state) = StartV1(dir, lib);
    var (v2, count, sameType) = UseInV2(dir, lib, state);
    Console.WriteLine($"v2 reads v1's store by reference: {count} items; the same Lib.Store type in both versions: {sameType}");
    Console.WriteLine($"v1 collected while v2 and the library live: {Collect(v1)}");
    GC.KeepAlive(state);
    Console.WriteLine($"v2 collected: {Collect(v2)}");
    lib.Unload();
    return new WeakReference(lib);
}

[MethodImpl(MethodImplOptions.NoInlining)]
static (WeakReference, object) StartV1(string dir, AssemblyLoadContext lib)
{
    var v1 = new VersionContext("v1", lib);
    var app = v1.LoadFromAssemblyPath(Path.Combine(dir, "App.dll"));
    var program = app.GetType("App.Program")!;
    program.GetMethod("Fill")!.Invoke(null, [100_000]);
    var state = program.GetField("State")!.GetValue(null)!;
    program.GetField("State")!.SetValue(null, null);
    // The program object in the shared type's object field: a v1 object that must not stay (the transfer's job).
    var items = (System.Collections.IDictionary)state.GetType().GetField("Items")!.GetValue(state)!;
    foreach (var e in items.Values) { e!.GetType().GetField("Tag")!.SetValue(e, null); }
    v1.Unload();
    return (new WeakReference(v1), state);
}

[MethodImpl(MethodImplOptions.NoInlining)]
static (WeakReference, int, bool) UseInV2(string dir, AssemblyLoadContext lib, object state)
{
    var v2 = new VersionContext("v2", lib);
    var app = v2.LoadFromAssemblyPath(Path.Combine(dir, "App.dll"));
    var program = app.GetType("App.Program")!;
    var count = (int)program.GetMethod("Count")!.Invoke(null, [state])!;
    var same = program.GetMethod("Count")!.GetParameters()[0].ParameterType == state.GetType();
    v2.Unload();
    return (new WeakReference(v2), count, same);
}

static bool Collect(WeakReference r)
{
    for (var i = 0; i < 20 && r.IsAlive; i++) { GC.Collect(); GC.WaitForPendingFinalizers(); }
    return !r.IsAlive;
}

sealed class VersionContext(string name, AssemblyLoadContext shared) : AssemblyLoadContext(name, isCollectible: true)
{
    protected override Assembly? Load(AssemblyName n) => n.Name == "Lib" ? shared.Assemblies.First() : null;
}
