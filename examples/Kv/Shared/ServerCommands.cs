using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Kv;

/// <summary>The commands about the server, the connection and the keyspace as a whole, the same in every release: KEYS, FLUSHDB/FLUSHALL, PING, SELECT, CLIENT, CONFIG, COMMAND, INFO.</summary>
internal static partial class Commands
{
    /// <summary>The Redis release kv answers as (INFO, HELLO): the one whose commands and replies it follows.</summary>
    private const string RedisVersion = "7.0.0";

    private static void Keys(Connection c, long now)
    {
        var keys = Store.Matching(c.Key(1), now);
        c.Output.ArrayHeader(keys.Count);
        foreach (var key in keys)
        {
            c.Output.Bulk(key);
        }
    }

    /// <summary>FLUSHDB (the selected database) and FLUSHALL (every database) [ASYNC|SYNC].</summary>
    private static void Flush(Connection c, bool all)
    {
        if (c.ArgCount > 2 || (c.ArgCount == 2 && !c.Is(1, "ASYNC") && !c.Is(1, "SYNC")))
        {
            c.Output.Error(SyntaxError);
            return;
        }
        if (all)
        {
            for (var index = 0; index < Databases.Count; index++)
            {
                Databases.Select(index);
                Store.Clear();
            }
            Databases.Select(c.Db);
        }
        else
        {
            Store.Clear();
        }
        c.Output.Ok();
    }

    private static void Ping(Connection c)
    {
        switch (c.ArgCount)
        {
            case 1:
                c.Output.Raw("+PONG\r\n"u8);
                break;
            case 2:
                c.Output.Bulk(c.Arg(1));
                break;
            default:
                c.Output.Error("ERR wrong number of arguments for 'ping' command");
                break;
        }
    }

    private static void Select(Connection c)
    {
        if (!Number.TryParseInt64(c.Arg(1), out var db))
        {
            c.Output.Error(NotInteger);
        }
        else if (db < 0 || db >= Databases.Count)
        {
            c.Output.Error("ERR DB index is out of range");
        }
        else
        {
            c.Db = (int)db;
            c.Output.Ok();
        }
    }

    /// <summary>CLIENT SETNAME / GETNAME / ID / INFO.</summary>
    private static void Client(Connection c)
    {
        if (c.Is(1, "SETNAME"))
        {
            if (Arity(c, 3, "client|setname") && TrySetName(c, 2))
            {
                c.Output.Ok();
            }
        }
        else if (c.Is(1, "GETNAME"))
        {
            if (!Arity(c, 2, "client|getname"))
            {
                return;
            }
            if (c.Name is null)
            {
                c.Output.Null();
            }
            else
            {
                c.Output.Bulk(c.Name);
            }
        }
        else if (c.Is(1, "ID"))
        {
            if (Arity(c, 2, "client|id"))
            {
                c.Output.Integer(c.Id);
            }
        }
        else if (c.Is(1, "INFO"))
        {
            if (Arity(c, 2, "client|info"))
            {
                c.Output.Verbatim($"id={c.Id} addr={c.Socket.RemoteEndPoint} name={c.Name} db={c.Db} resp={c.Protocol}\n");
            }
        }
        else
        {
            c.Output.Error($"ERR unknown subcommand '{Printable(c.Arg(1))}'. Try CLIENT HELP.");
        }
    }

    /// <summary>Names the connection argument <paramref name="index"/> (empty: no name); false with Redis's error answered when it may not be one.</summary>
    private static bool TrySetName(Connection c, int index)
    {
        foreach (var b in c.Arg(index))
        {
            if (b is < (byte)'!' or > (byte)'~')
            {
                c.Output.Error("ERR Client names cannot contain spaces, newlines or special characters.");
                return false;
            }
        }
        c.Name = c.ArgLengths[index] == 0 ? null : c.Key(index);
        return true;
    }

    /// <summary>
    /// HELLO [protover [AUTH username password] [SETNAME name]]: switches the connection to RESP2 or RESP3 (from the next
    /// reply on, this one included) and answers the server's description as Redis 7 does, a map. kv has no users: AUTH
    /// accepts the user <c>default</c> with any password, as Redis does while the default user has none.
    /// </summary>
    private static void Hello(Connection c)
    {
        var protocol = c.Protocol;
        if (c.ArgCount >= 2)
        {
            if (!Number.TryParseInt64(c.Arg(1), out var requested))
            {
                c.Output.Error("ERR Protocol version is not an integer or out of range");
                return;
            }
            if (requested is not (2 or 3))
            {
                c.Output.Error("NOPROTO unsupported protocol version");
                return;
            }
            protocol = (int)requested;
        }
        var nameAt = 0;
        var user = -1;
        for (var i = 2; i < c.ArgCount; i++)
        {
            var more = c.ArgCount - 1 - i;
            if (c.Is(i, "AUTH") && more >= 2)
            {
                user = i + 1;
                i += 2;
            }
            else if (c.Is(i, "SETNAME") && more >= 1)
            {
                nameAt = i + 1;
                i++;
            }
            else
            {
                c.Output.Error($"ERR Syntax error in HELLO option '{Printable(c.Arg(i))}'");
                return;
            }
        }
        if (user > 0 && !c.Arg(user).SequenceEqual("default"u8))
        {
            c.Output.Error("WRONGPASS invalid username-password pair or user is disabled.");
            return;
        }
        if (nameAt > 0 && !TrySetName(c, nameAt))
        {
            return;
        }
        c.Protocol = protocol;
        c.Output.MapHeader(7);
        c.Output.Bulk("server");
        c.Output.Bulk("redis");
        c.Output.Bulk("version");
        c.Output.Bulk(RedisVersion);
        c.Output.Bulk("proto");
        c.Output.Integer(protocol);
        c.Output.Bulk("id");
        c.Output.Integer(c.Id);
        c.Output.Bulk("mode");
        c.Output.Bulk("standalone");
        c.Output.Bulk("role");
        c.Output.Bulk("master");
        c.Output.Bulk("modules");
        c.Output.ArrayHeader(0);
    }

    /// <summary>CONFIG GET answers the few settings clients ask about (redis-benchmark asks for save and appendonly).</summary>
    private static void Config(Connection c)
    {
        if (c.Is(1, "GET"))
        {
            if (!Arity(c, -3, "config|get"))
            {
                return;
            }
            List<(string Name, string Value)> settings = [("save", ""), ("appendonly", "no"), ("databases", Databases.Count.ToString(CultureInfo.InvariantCulture))];
            AddSettings(settings);
            var found = new List<(string Name, string Value)>();
            foreach (var setting in settings)
            {
                for (var i = 2; i < c.ArgCount; i++)
                {
                    if (Glob.IsMatch(c.Key(i).ToLowerInvariant(), setting.Name))
                    {
                        found.Add(setting);
                        break;
                    }
                }
            }
            c.Output.MapHeader(found.Count);
            foreach (var (name, value) in found)
            {
                c.Output.Bulk(name);
                c.Output.Bulk(value);
            }
        }
        else if (c.Is(1, "RESETSTAT"))
        {
            if (Arity(c, 2, "config|resetstat"))
            {
                c.Output.Ok();
            }
        }
        else
        {
            var done = false;
            ConfigSubcommand(c, ref done);
            if (!done)
            {
                c.Output.Error($"ERR unknown subcommand '{Printable(c.Arg(1))}'. Try CONFIG HELP.");
            }
        }
    }

    /// <summary>Adds the settings a release has beyond every release's (<c>save</c>, <c>appendonly</c>, <c>databases</c>) to CONFIG GET's.</summary>
    static partial void AddSettings(List<(string Name, string Value)> settings);

    /// <summary>Runs a CONFIG subcommand a release adds (v7: SET), setting <paramref name="done"/>; a release that adds none leaves it unknown.</summary>
    static partial void ConfigSubcommand(Connection c, ref bool done);

    /// <summary>COMMAND: no command table is published; clients such as redis-cli do without it.</summary>
    private static void Command(Connection c)
    {
        if (c.ArgCount >= 2 && c.Is(1, "COUNT"))
        {
            c.Output.Integer(0);
        }
        else
        {
            c.Output.ArrayHeader(0);
        }
    }

    /// <summary>INFO [section ...]: the sections Server, Clients and Keyspace.</summary>
    private static void Info(Connection c)
    {
        bool server = c.ArgCount == 1, clients = c.ArgCount == 1, keyspace = c.ArgCount == 1;
        for (var i = 1; i < c.ArgCount; i++)
        {
            var all = c.Is(i, "ALL") || c.Is(i, "DEFAULT") || c.Is(i, "EVERYTHING");
            server |= all || c.Is(i, "SERVER");
            clients |= all || c.Is(i, "CLIENTS");
            keyspace |= all || c.Is(i, "KEYSPACE");
        }
        var text = new StringBuilder();
        if (server)
        {
            text.Append("# Server\r\n")
                .Append(CultureInfo.InvariantCulture, $"redis_version:{RedisVersion}\r\n")
                .Append(CultureInfo.InvariantCulture, $"kv_version:{ReleaseNumber}\r\n")
                .Append("redis_mode:standalone\r\n")
                .Append(CultureInfo.InvariantCulture, $"process_id:{Environment.ProcessId}\r\n")
                .Append(CultureInfo.InvariantCulture, $"tcp_port:{Program.Port}\r\n")
                .Append(CultureInfo.InvariantCulture, $"uptime_in_seconds:{(long)(DateTime.Now - Process.GetCurrentProcess().StartTime).TotalSeconds}\r\n")
                .Append("\r\n");
        }
        if (clients)
        {
            text.Append("# Clients\r\n")
                .Append(CultureInfo.InvariantCulture, $"connected_clients:{Server.ConnectedClients}\r\n")
                .Append(CultureInfo.InvariantCulture, $"blocked_clients:{Blocking.BlockedClients}\r\n")
                .Append("\r\n");
        }
        if (keyspace)
        {
            text.Append("# Keyspace\r\n");
            for (var index = 0; index < Databases.Count; index++)
            {
                Databases.Select(index);
                if (Store.Count > 0)
                {
                    text.Append(CultureInfo.InvariantCulture, $"db{index}:keys={Store.Count},expires={Store.ExpiresCount},avg_ttl=0\r\n");
                }
            }
            Databases.Select(c.Db);
        }
        c.Output.Verbatim(text.ToString());
    }
}
