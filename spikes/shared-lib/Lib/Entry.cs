namespace Lib;
public sealed class Entry { public string Key = ""; public byte[] Value = []; public long ExpiresAt; public object? Tag; }
public sealed class Store { public Dictionary<string, Entry> Items = new(); }
