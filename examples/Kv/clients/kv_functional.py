#!/usr/bin/python3
"""Functional suite of the kv server with Debian's Python redis client (redis-py 4.3.4).

    /usr/bin/python3 kv_functional.py --port P --version N|redis [--only SUBSTRING]

Checks Redis's semantics for the commands version N has (v1 strings, keys, expiry and connection commands; v2 +
lists, hashes and TYPE; v3 + OBJECT FREQ/IDLETIME; v5 + sets); `--version redis` checks everything against a real
redis-server, which proves the checks test Redis's behaviour and not kv's. Each check starts with FLUSHDB: the
suite owns the server. Prints `PASS name` / `FAIL name: why` per check, then `N passed, M failed`; exit 1 if any
check failed.
"""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import redis  # noqa: E402

from kvcheck import REDIS, SOCKET_TIMEOUT, CheckFailed, Raw, Suite, encode_command, eq, ok, main_guard, \
    parse_args, short, values, wait_until  # noqa: E402

suite = Suite("kv_functional")

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INTEGER = "ERR value is not an integer or out of range"
SYNTAX = "ERR syntax error"


class Context:
    def __init__(self, args):
        self.args = args
        self.level = args.level
        self.r = redis.Redis(host=args.host, port=args.port, socket_timeout=SOCKET_TIMEOUT,
                             socket_connect_timeout=SOCKET_TIMEOUT)
        self._raws = []
        self.r.flushdb()
        self.raw = self.connect()

    def connect(self):
        raw = Raw(self.args.host, self.args.port)
        self._raws.append(raw)
        return raw

    def error(self, expected, *command, raw=None):
        """Sends the command raw and checks that the reply is exactly the error `expected`."""
        eq((raw or self.raw).call(*command), ("-", expected), " ".join(map(str, command)))

    def close(self):
        for raw in self._raws:
            raw.close()
        self.r.close()


def unknown(name, *args):
    """Redis 7's unknown-command error text (the name as sent; up to 128 chars of the first args, quoted)."""
    shown = "".join(f"'{a}' " for a in args)
    return f"ERR unknown command '{name}', with args beginning with: {shown}"


# ---------------------------------------------------------------- connection


@suite.check()
def check_ping(c):
    eq(c.raw.call("PING"), ("+", "PONG"), "PING")
    eq(c.raw.call("PING", "hello"), ("$", b"hello"), "PING hello")
    eq(c.r.ping(), True, "redis-py ping")


@suite.check()
def check_echo(c):
    eq(c.raw.call("ECHO", "a b\r\nc"), ("$", b"a b\r\nc"), "ECHO")
    eq(c.r.echo(b""), b"", "ECHO empty")


@suite.check()
def check_command_names_case_insensitive(c):
    eq(c.raw.call("sEt", "k", "v"), ("+", "OK"), "sEt")
    eq(c.raw.call("get", "k"), ("$", b"v"), "get")


@suite.check()
def check_unknown_command_error(c):
    c.error(unknown("nosuchcommand", "a", "b"), "nosuchcommand", "a", "b")
    c.error(unknown("NoSuch"), "NoSuch")


@suite.check()
def check_wrong_number_of_arguments(c):
    c.error("ERR wrong number of arguments for 'get' command", "GET")
    c.error("ERR wrong number of arguments for 'set' command", "SET", "k")
    c.error("ERR wrong number of arguments for 'expire' command", "EXPIRE", "k")
    c.error("ERR wrong number of arguments for 'mset' command", "MSET", "a", "1", "b")


@suite.check()
def check_subcommand_wrong_number_of_arguments(c):
    c.error("ERR wrong number of arguments for 'client|setname' command", "CLIENT", "SETNAME")
    c.error("ERR wrong number of arguments for 'client|getname' command", "CLIENT", "GETNAME", "x")
    c.error("ERR wrong number of arguments for 'client|id' command", "CLIENT", "ID", "x")
    c.error("ERR wrong number of arguments for 'config|get' command", "CONFIG", "GET")
    c.error("ERR wrong number of arguments for 'client' command", "CLIENT")
    if c.level >= 3:
        c.error("ERR wrong number of arguments for 'object|freq' command", "OBJECT", "FREQ")


@suite.check()
def check_select(c):
    eq(c.raw.call("SELECT", "0"), ("+", "OK"), "SELECT 0")
    c.error("ERR DB index is out of range", "SELECT", "16")
    c.error(NOT_INTEGER, "SELECT", "abc")


@suite.check(only_kv=True)
def check_select_other_db_refused(c):
    c.error("ERR DB index is out of range", "SELECT", "1")
    eq(c.raw.call("SET", "k", "v"), ("+", "OK"), "the connection still works on db 0")


@suite.check()
def check_client_setname_getname(c):
    eq(c.raw.call("CLIENT", "GETNAME"), ("$", None), "GETNAME before SETNAME")
    eq(c.raw.call("CLIENT", "SETNAME", "worker-1"), ("+", "OK"), "SETNAME")
    eq(c.raw.call("CLIENT", "GETNAME"), ("$", b"worker-1"), "GETNAME")
    other = c.connect()
    eq(other.call("CLIENT", "GETNAME"), ("$", None), "another connection's name")
    c.error("ERR Client names cannot contain spaces, newlines or special characters.", "CLIENT", "SETNAME", "a b")
    eq(c.raw.call("CLIENT", "GETNAME"), ("$", b"worker-1"), "name kept after a refused SETNAME")
    eq(c.r.client_setname("py"), True, "redis-py client_setname")
    eq(c.r.client_getname(), "py", "redis-py client_getname")


@suite.check()
def check_client_id(c):
    kind, first = c.raw.call("CLIENT", "ID")
    eq(kind, ":", "CLIENT ID reply type")
    eq(c.raw.call("CLIENT", "ID"), (":", first), "the same id on the same connection")
    kind, other = c.connect().call("CLIENT", "ID")
    ok(kind == ":" and other != first, f"another connection has another id (got {other} and {first})")


@suite.check()
def check_quit(c):
    raw = c.connect()
    eq(raw.call("QUIT"), ("+", "OK"), "QUIT")
    ok(raw.closed_by_peer(), "the server closes the connection after QUIT")
    eq(c.raw.call("PING"), ("+", "PONG"), "other connections unaffected")


@suite.check()
def check_info(c):
    kind, text = c.raw.call("INFO")
    eq(kind, "$", "INFO reply type")
    text = text.decode()
    ok("# Server\r\n" in text, "INFO has a '# Server' section (lines ended by CRLF)")
    ok("redis_version:" in text, "INFO has redis_version")
    if c.level != REDIS:
        ok(f"kv_version:{c.level}\r\n" in text, f"INFO server says kv_version:{c.level}: {short(text, 400)}")
    kind, server = c.raw.call("INFO", "server")
    ok(kind == "$" and b"redis_version:" in server, "INFO server")
    info = c.r.info()
    ok("redis_version" in info and "tcp_port" in info and "process_id" in info,
       f"redis-py parses INFO with redis_version, tcp_port, process_id: {short(sorted(info), 300)}")
    eq(int(info["tcp_port"]), c.args.port, "tcp_port")
    if c.level != REDIS:
        eq(info.get("kv_version"), c.level, "redis-py reads kv_version")


@suite.check()
def check_info_keyspace(c):
    c.r.set("a", "1")
    c.r.set("b", "2")
    c.r.set("c", "3", ex=1000)
    text = c.raw.call("INFO")[1].decode()
    ok("# Keyspace\r\n" in text, "INFO has '# Keyspace'")
    ok("db0:keys=3,expires=1," in text, f"'db0:keys=3,expires=1,' in INFO: {short(text[text.find('# Keyspace'):], 200)}")
    eq(c.r.info("keyspace").get("db0", {}).get("keys"), 3, "redis-py keyspace db0 keys")


@suite.check()
def check_config_get(c):
    kind, items = c.raw.call("CONFIG", "GET", "save")
    eq(kind, "*", "CONFIG GET reply type")
    ok(values((kind, items)) in ([], [b"save", b""]), f"CONFIG GET save: {short(items)}")
    kind, items = c.raw.call("CONFIG", "GET", "appendonly")
    ok(values((kind, items)) in ([], [b"appendonly", b"no"]), f"CONFIG GET appendonly: {short(items)}")


@suite.check()
def check_command_reply_is_array(c):
    kind, _ = c.raw.call("COMMAND")
    eq(kind, "*", "COMMAND reply type")


@suite.check()
def check_inline_commands(c):
    c.raw.send(b"PING\r\nSET inline value\r\nGET inline\r\n")
    eq([c.raw.read() for _ in range(3)], [("+", "PONG"), ("+", "OK"), ("$", b"value")], "inline commands (as telnet sends)")


@suite.check()
def check_inline_quoted_arguments(c):
    c.raw.send(b"SET \"two words\" 'single quoted'\r\nGET \"two words\"\r\n")
    eq([c.raw.read() for _ in range(2)], [("+", "OK"), ("$", b"single quoted")], "inline arguments in quotes")


@suite.check()
def check_protocol_error_closes_connection(c):
    raw = c.connect()
    raw.send(b"*abc\r\n")
    eq(raw.read(), ("-", "ERR Protocol error: invalid multibulk length"), "a malformed array header")
    ok(raw.closed_by_peer(), "the server closes the connection after a protocol error")
    raw = c.connect()
    raw.send(b"*1\r\n+PING\r\n")
    eq(raw.read(), ("-", "ERR Protocol error: expected '$', got '+'"), "a simple string inside a command")
    ok(raw.closed_by_peer(), "closed after the second protocol error too")
    eq(c.raw.call("PING"), ("+", "PONG"), "other connections unaffected")


# ---------------------------------------------------------------- strings


@suite.check()
def check_set_get(c):
    eq(c.raw.call("SET", "k", "v"), ("+", "OK"), "SET")
    eq(c.raw.call("GET", "k"), ("$", b"v"), "GET")
    eq(c.raw.call("SET", "k", "w"), ("+", "OK"), "SET again")
    eq(c.r.get("k"), b"w", "overwritten")
    eq(c.raw.call("GET", "missing"), ("$", None), "GET missing is a null bulk")
    eq(c.raw.call("SET", "empty", ""), ("+", "OK"), "SET empty")
    eq(c.raw.call("GET", "empty"), ("$", b""), "GET empty value")


@suite.check()
def check_set_nx_xx(c):
    eq(c.raw.call("SET", "k", "1", "NX"), ("+", "OK"), "NX on a missing key")
    eq(c.raw.call("SET", "k", "2", "NX"), ("$", None), "NX on an existing key is a null bulk")
    eq(c.r.get("k"), b"1", "NX kept the value")
    eq(c.raw.call("SET", "other", "1", "XX"), ("$", None), "XX on a missing key")
    eq(c.r.exists("other"), 0, "XX created nothing")
    eq(c.raw.call("SET", "k", "3", "xx"), ("+", "OK"), "XX on an existing key (lower case option)")
    eq(c.r.get("k"), b"3", "XX set the value")
    eq(c.r.set("k", "4", nx=True), None, "redis-py set nx")
    c.error(SYNTAX, "SET", "k", "v", "NX", "XX")


@suite.check()
def check_set_ex_px(c):
    eq(c.raw.call("SET", "k", "v", "EX", "100"), ("+", "OK"), "SET EX")
    ttl = c.r.ttl("k")
    ok(98 <= ttl <= 100, f"TTL after EX 100 is {ttl}")
    eq(c.raw.call("SET", "p", "v", "PX", "100000"), ("+", "OK"), "SET PX")
    pttl = c.r.pttl("p")
    ok(90000 < pttl <= 100000, f"PTTL after PX 100000 is {pttl}")
    eq(c.r.set("n", "v", ex=50, nx=True), True, "redis-py set ex nx")
    ok(0 < c.r.ttl("n") <= 50, "TTL after ex+nx")


@suite.check()
def check_set_invalid_options(c):
    c.error("ERR invalid expire time in 'set' command", "SET", "k", "v", "EX", "0")
    c.error("ERR invalid expire time in 'set' command", "SET", "k", "v", "PX", "-5")
    c.error(NOT_INTEGER, "SET", "k", "v", "EX", "abc")
    c.error(SYNTAX, "SET", "k", "v", "EX")
    c.error(SYNTAX, "SET", "k", "v", "EX", "10", "PX", "100")
    c.error(SYNTAX, "SET", "k", "v", "BOGUS")
    eq(c.r.exists("k"), 0, "no refused SET wrote the key")


@suite.check()
def check_set_clears_ttl(c):
    c.r.set("k", "v", ex=100)
    c.r.set("k", "w")
    eq(c.r.ttl("k"), -1, "a plain SET removes the old TTL")


@suite.check()
def check_mset_mget(c):
    eq(c.raw.call("MSET", "a", "1", "b", "2"), ("+", "OK"), "MSET")
    eq(values(c.raw.call("MGET", "a", "missing", "b")), [b"1", None, b"2"], "MGET with a missing key")
    eq(c.r.mget(["a", "b"]), [b"1", b"2"], "redis-py mget")


@suite.check()
def check_incr_decr(c):
    eq(c.raw.call("INCR", "n"), (":", 1), "INCR on a missing key")
    eq(c.raw.call("INCRBY", "n", "10"), (":", 11), "INCRBY")
    eq(c.raw.call("DECR", "n"), (":", 10), "DECR")
    eq(c.raw.call("DECRBY", "n", "15"), (":", -5), "DECRBY")
    eq(c.raw.call("INCRBY", "n", "-5"), (":", -10), "INCRBY negative")
    eq(c.r.get("n"), b"-10", "the value is the decimal text")
    c.r.set("s", "12")
    eq(c.r.incr("s"), 13, "INCR on a string that holds an integer")


@suite.check()
def check_incr_errors(c):
    c.r.set("s", "abc")
    c.error(NOT_INTEGER, "INCR", "s")
    c.error(NOT_INTEGER, "INCRBY", "n", "abc")
    c.r.set("big", "9223372036854775807")
    c.error("ERR increment or decrement would overflow", "INCR", "big")
    eq(c.r.get("big"), b"9223372036854775807", "the value is unchanged after an overflow")


@suite.check()
def check_incr_keeps_ttl(c):
    c.r.set("n", "1", ex=100)
    c.r.incr("n")
    ok(0 < c.r.ttl("n") <= 100, f"INCR keeps the TTL (TTL is {c.r.ttl('n')})")


@suite.check()
def check_del_exists(c):
    c.r.mset({"a": "1", "b": "2", "c": "3"})
    eq(c.raw.call("EXISTS", "a", "a", "missing", "b"), (":", 3), "EXISTS counts each argument")
    eq(c.raw.call("DEL", "a", "b", "missing"), (":", 2), "DEL counts the keys removed")
    eq(c.raw.call("DEL", "a"), (":", 0), "DEL of a missing key")
    eq(c.raw.call("EXISTS", "a"), (":", 0), "EXISTS after DEL")
    eq(c.r.exists("c"), 1, "redis-py exists")


@suite.check()
def check_dbsize_flushdb_flushall(c):
    eq(c.raw.call("DBSIZE"), (":", 0), "DBSIZE of an empty db")
    for i in range(7):
        c.r.set(f"k{i}", i)
    eq(c.raw.call("DBSIZE"), (":", 7), "DBSIZE")
    eq(c.raw.call("FLUSHDB"), ("+", "OK"), "FLUSHDB")
    eq(c.r.dbsize(), 0, "DBSIZE after FLUSHDB")
    c.r.set("k", "v", ex=100)
    eq(c.raw.call("FLUSHALL"), ("+", "OK"), "FLUSHALL")
    eq(c.r.dbsize(), 0, "DBSIZE after FLUSHALL")
    eq(c.r.ttl("k"), -2, "the flushed key's TTL is gone too")


# ---------------------------------------------------------------- expiry


@suite.check()
def check_ttl_pttl_missing_and_persistent(c):
    eq(c.raw.call("TTL", "missing"), (":", -2), "TTL of a missing key")
    eq(c.raw.call("PTTL", "missing"), (":", -2), "PTTL of a missing key")
    c.r.set("k", "v")
    eq(c.raw.call("TTL", "k"), (":", -1), "TTL of a key without expiry")
    eq(c.raw.call("PTTL", "k"), (":", -1), "PTTL of a key without expiry")


@suite.check()
def check_expire_pexpire(c):
    eq(c.raw.call("EXPIRE", "missing", "10"), (":", 0), "EXPIRE of a missing key")
    c.r.set("k", "v")
    eq(c.raw.call("EXPIRE", "k", "100"), (":", 1), "EXPIRE")
    ttl = c.r.ttl("k")
    ok(98 <= ttl <= 100, f"TTL after EXPIRE 100 is {ttl}")
    eq(c.raw.call("PEXPIRE", "k", "5000"), (":", 1), "PEXPIRE")
    pttl = c.r.pttl("k")
    ok(4000 < pttl <= 5000, f"PTTL after PEXPIRE 5000 is {pttl}")
    ok(c.r.ttl("k") in (4, 5), f"TTL after PEXPIRE 5000 is {c.r.ttl('k')} (rounded seconds)")
    c.error(NOT_INTEGER, "EXPIRE", "k", "abc")


@suite.check()
def check_expire_non_positive_deletes(c):
    c.r.set("k", "v")
    eq(c.raw.call("EXPIRE", "k", "-1"), (":", 1), "EXPIRE with a negative time")
    eq(c.r.exists("k"), 0, "a key given a negative expire is deleted at once")
    c.r.set("p", "v")
    eq(c.raw.call("PEXPIRE", "p", "0"), (":", 1), "PEXPIRE 0")
    eq(c.r.get("p"), None, "a key given PEXPIRE 0 is gone")


@suite.check()
def check_persist(c):
    c.r.set("k", "v", ex=100)
    eq(c.raw.call("PERSIST", "k"), (":", 1), "PERSIST removes a TTL")
    eq(c.r.ttl("k"), -1, "TTL after PERSIST")
    eq(c.raw.call("PERSIST", "k"), (":", 0), "PERSIST without a TTL")
    eq(c.raw.call("PERSIST", "missing"), (":", 0), "PERSIST of a missing key")
    eq(c.r.get("k"), b"v", "the value is kept")


@suite.check()
def check_lazy_expiry(c):
    c.r.set("k", "v", px=50)
    c.r.set("keep", "v")
    time.sleep(0.3)
    eq(c.raw.call("GET", "k"), ("$", None), "GET of an expired key")
    eq(c.r.exists("k"), 0, "EXISTS of an expired key")
    eq(c.r.ttl("k"), -2, "TTL of an expired key")
    c.r.set("j", "v", px=50)
    time.sleep(0.3)
    eq(c.r.keys("*"), [b"keep"], "KEYS never lists an expired key")


@suite.check()
def check_active_expiry(c):
    for i in range(20):
        c.r.set(f"gone{i}", "v", px=100)
    c.r.set("stays", "v")
    left = wait_until(lambda: c.r.dbsize() == 1, timeout=5.0)
    ok(left, f"20 keys set with PX 100 and never read leave DBSIZE within 5 s (DBSIZE is {c.r.dbsize()})")
    eq(c.r.get("stays"), b"v", "the key without a TTL is kept")


@suite.check()
def check_active_expiry_spares_keys_whose_ttl_changed(c):
    c.r.set("persisted", "v", px=100)
    c.r.persist("persisted")
    c.r.set("overwritten", "v", px=100)
    c.r.set("overwritten", "w")
    c.r.set("extended", "v", px=100)
    c.r.pexpire("extended", 100_000)
    c.r.set("recreated", "v", px=100)
    c.r.delete("recreated")
    c.r.set("recreated", "v2")
    c.r.set("shortened", "v", ex=100)
    c.r.pexpire("shortened", 100)
    c.r.set("gone", "v", px=100)
    ok(wait_until(lambda: c.r.dbsize() == 4, timeout=5.0),
       f"the keys still due to expire leave within 5 s (DBSIZE {c.r.dbsize()}, keys {sorted(c.r.keys('*'))})")
    time.sleep(0.5)  # a few more rounds of active expiry: none may take a key whose TTL changed
    eq(c.r.mget(["persisted", "overwritten", "extended", "recreated"]), [b"v", b"w", b"v", b"v2"],
       "keys made persistent, overwritten, extended or recreated are kept")
    eq([c.r.ttl(k) for k in ["persisted", "overwritten", "recreated"]], [-1, -1, -1], "their TTLs")
    ok(c.r.ttl("extended") > 90, f"the extended TTL is kept ({c.r.ttl('extended')})")


@suite.check()
def check_scan_while_keys_are_added(c):
    with c.r.pipeline(transaction=False) as p:
        for i in range(300):
            p.set(f"old:{i}", i)
        p.execute()
    seen, cursor, calls, added = set(), 0, 0, 0
    while True:
        cursor, keys = c.r.scan(cursor, count=20)
        seen.update(keys)
        with c.r.pipeline(transaction=False) as p:
            for _ in range(30):
                p.set(f"new:{added}", added)
                added += 1
            p.execute()
        calls += 1
        if cursor == 0 or calls > 1000:
            break
    eq(cursor, 0, "SCAN ends")
    missed = {f"old:{i}".encode() for i in range(300)} - seen
    ok(not missed, f"SCAN returns every key present for the whole iteration although {added} keys were added "
                   f"meanwhile; missed {len(missed)}: {short(sorted(missed))}")


# ---------------------------------------------------------------- keys


@suite.check()
def check_keys_glob(c):
    for key in ["hello", "hallo", "hxllo", "hllo", "heeeello", "a*b", "axb"]:
        c.r.set(key, "v")

    def keys(pattern):
        return sorted(k.decode() for k in c.r.keys(pattern))

    eq(keys("h?llo"), ["hallo", "hello", "hxllo"], "KEYS h?llo")
    eq(keys("h*llo"), ["hallo", "heeeello", "hello", "hllo", "hxllo"], "KEYS h*llo")
    eq(keys("h[ae]llo"), ["hallo", "hello"], "KEYS h[ae]llo")
    eq(keys("h[^e]llo"), ["hallo", "hxllo"], "KEYS h[^e]llo")
    eq(keys("h[a-b]llo"), ["hallo"], "KEYS h[a-b]llo")
    eq(keys("a\\*b"), ["a*b"], "KEYS a\\*b (escaped star)")
    eq(len(keys("*")), 7, "KEYS *")
    eq(keys("nomatch*"), [], "KEYS with no match")


@suite.check(since=5)
def check_keys_glob_ranges(c):
    for key in ["user:1", "user:2", "user:5", "user:-"]:
        c.r.set(key, "v")

    def keys(pattern):
        return sorted(k.decode() for k in c.r.keys(pattern))

    eq(keys("user:[1-3]"), ["user:1", "user:2"], "KEYS user:[1-3] (a range)")
    eq(keys("user:[^1-3]"), ["user:-", "user:5"], "KEYS user:[^1-3] (a negated range)")
    eq(keys("user:[3-1]"), ["user:1", "user:2"], "KEYS user:[3-1] (reversed bounds)")
    eq(sorted(c.r.scan_iter(match="user:[2-9]")), [b"user:2", b"user:5"], "SCAN MATCH user:[2-9]")


@suite.check(until=4)
def check_keys_glob_class_without_ranges_the_bug_v5_fixes(c):
    # examples/Kv/README.md, "The bug v5 fixes": before v5, [a-c] in a class is the characters a, - and c.
    for key in ["user:1", "user:2", "user:5", "user:-"]:
        c.r.set(key, "v")
    eq(sorted(c.r.keys("user:[1-3]")), [b"user:-", b"user:1"], "KEYS user:[1-3] before v5")
    eq(sorted(c.r.keys("user:[^1-3]")), [b"user:2", b"user:5"], "KEYS user:[^1-3] before v5")


@suite.check()
def check_scan_full_iteration(c):
    with c.r.pipeline(transaction=False) as p:
        for i in range(400):
            p.set(f"scan:{i}", i)
        for i in range(100):
            p.set(f"other:{i}", i)
        p.execute()
    seen, cursor, calls = set(), 0, 0
    while True:
        kind, reply = c.raw.call("SCAN", str(cursor), "COUNT", "37")
        ok(kind == "*" and len(reply) == 2 and reply[0][0] == "$" and reply[1][0] == "*",
           f"SCAN replies [bulk cursor, array]: {short(reply)}")
        cursor = int(reply[0][1])
        seen.update(item[1] for item in reply[1][1])
        calls += 1
        if cursor == 0 or calls > 2000:
            break
    eq(cursor, 0, f"SCAN ends with cursor 0 (after {calls} calls)")
    eq(len(seen), 500, "SCAN COUNT 37 returns every key")
    matched = set(c.r.scan_iter(match="scan:*", count=50))
    eq(matched, {f"scan:{i}".encode() for i in range(400)}, "SCAN MATCH scan:* returns exactly the matching keys")
    c.error("ERR invalid cursor", "SCAN", "abc")


# ---------------------------------------------------------------- protocol and load


@suite.check()
def check_pipeline_1000(c):
    with c.r.pipeline(transaction=False) as p:
        for i in range(500):
            p.set(f"p{i}", f"value-{i}")
            p.get(f"p{i}")
        results = p.execute()
    eq(len(results), 1000, "replies to a pipeline of 1000 commands")
    eq(results[0::2], [True] * 500, "every SET answered OK")
    eq(results[1::2], [f"value-{i}".encode() for i in range(500)], "every GET answered its value, in order")


@suite.check()
def check_raw_pipeline_in_one_write(c):
    c.raw.send(b"".join(encode_command("INCR", "n") for _ in range(200)) + encode_command("GET", "n"))
    replies = [c.raw.read() for _ in range(201)]
    eq(replies[:200], [(":", i) for i in range(1, 201)], "200 INCRs sent in one write")
    eq(replies[200], ("$", b"200"), "then the GET")


@suite.check()
def check_command_split_across_writes(c):
    data = encode_command("SET", "split", "across-many-writes")
    for i in range(len(data)):
        c.raw.send(data[i:i + 1])
        time.sleep(0.002)
    eq(c.raw.read(), ("+", "OK"), "a command sent one byte at a time")
    data = encode_command("GET", "split") + encode_command("PING")
    c.raw.send(data[:7])
    time.sleep(0.05)
    c.raw.send(data[7:])
    eq(c.raw.read(), ("$", b"across-many-writes"), "GET split in two writes")
    eq(c.raw.read(), ("+", "PONG"), "and the command after it in the same write")


@suite.check()
def check_binary_safe_keys_and_values(c):
    key = bytes(range(256))
    value = bytes(range(256)) * 4 + b"\r\n\x00$*\r\n"
    eq(c.r.set(key, value), True, "SET binary")
    eq(c.r.get(key), value, "GET binary value under a binary key")
    eq(c.r.keys("*"), [key], "KEYS returns the binary key intact")
    eq(c.r.exists(key), 1, "EXISTS binary key")
    c.r.set(b"k\r\n", b"\xff\xfe")
    eq(c.r.get(b"k\r\n"), b"\xff\xfe", "a key with CRLF in it")
    eq(c.r.mget([key, b"k\r\n"]), [value, b"\xff\xfe"], "MGET binary")


@suite.check()
def check_large_value_1mib(c):
    value = (bytes(range(256)) * 4096)[: 1 << 20]
    ok(len(value) == 1 << 20, "value is 1 MiB")
    eq(c.r.set("big", value), True, "SET 1 MiB")
    got = c.r.get("big")
    ok(got == value, f"GET returns the 1 MiB value intact (got {len(got or b'')} bytes)")
    with c.r.pipeline(transaction=False) as p:
        for i in range(4):
            p.set(f"big{i}", value)
        p.get("big3")
        results = p.execute()
    ok(results[-1] == value, "4 MiB pipelined, then read back")


@suite.check()
def check_200_concurrent_connections(c):
    conns = []
    try:
        for i in range(200):
            conns.append(Raw(c.args.host, c.args.port))
        for i, conn in enumerate(conns):
            conn.send(encode_command("SET", f"conn:{i}", f"from-{i}"))
        for i, conn in enumerate(conns):
            eq(conn.read(), ("+", "OK"), f"SET on connection {i}")
        for i, conn in enumerate(reversed(conns)):
            conn.send(encode_command("GET", f"conn:{i}"))
        for i, conn in enumerate(reversed(conns)):
            eq(conn.read(), ("$", f"from-{i}".encode()), f"GET on connection {199 - i}")
        eq(c.r.dbsize(), 200, "200 keys")
    finally:
        for conn in conns:
            conn.close()


# ---------------------------------------------------------------- lists, hashes, TYPE (v2)


@suite.check(until=1)
def check_v1_lacks_lists_hashes_type(c):
    c.error(unknown("lpush", "l", "a"), "lpush", "l", "a")
    c.error(unknown("hset", "h", "f", "v"), "hset", "h", "f", "v")
    c.error(unknown("type", "k"), "type", "k")
    c.error(unknown("blpop", "l", "0"), "blpop", "l", "0")
    c.error(unknown("lmove", "a", "b", "left", "left"), "lmove", "a", "b", "left", "left")
    c.error(unknown("blmpop", "0", "1", "l", "left"), "blmpop", "0", "1", "l", "left")


@suite.check(since=2)
def check_lists_push_range(c):
    eq(c.raw.call("LPUSH", "l", "a", "b", "c"), (":", 3), "LPUSH returns the length")
    eq(c.raw.call("RPUSH", "l", "d"), (":", 4), "RPUSH")
    eq(values(c.raw.call("LRANGE", "l", "0", "-1")), [b"c", b"b", b"a", b"d"], "LRANGE 0 -1")
    eq(values(c.raw.call("LRANGE", "l", "-2", "-1")), [b"a", b"d"], "LRANGE -2 -1")
    eq(values(c.raw.call("LRANGE", "l", "1", "100")), [b"b", b"a", b"d"], "LRANGE past the end")
    eq(values(c.raw.call("LRANGE", "l", "5", "10")), [], "LRANGE out of range")
    eq(values(c.raw.call("LRANGE", "missing", "0", "-1")), [], "LRANGE of a missing key")
    eq(c.raw.call("LLEN", "l"), (":", 4), "LLEN")
    eq(c.raw.call("LLEN", "missing"), (":", 0), "LLEN of a missing key")
    c.error(NOT_INTEGER, "LRANGE", "l", "a", "b")
    c.error("ERR wrong number of arguments for 'lpush' command", "LPUSH", "l")


@suite.check(since=2)
def check_lists_pop(c):
    c.r.rpush("l", "a", "b", "c", "d", "e")
    eq(c.raw.call("LPOP", "l"), ("$", b"a"), "LPOP")
    eq(c.raw.call("RPOP", "l"), ("$", b"e"), "RPOP")
    eq(values(c.raw.call("LPOP", "l", "2")), [b"b", b"c"], "LPOP with a count")
    eq(values(c.raw.call("RPOP", "l", "5")), [b"d"], "RPOP with a count larger than the list")
    eq(c.r.exists("l"), 0, "popping the last element removes the key")
    eq(c.raw.call("LPOP", "l"), ("$", None), "LPOP of a missing key")
    eq(c.raw.call("RPOP", "l", "2"), ("*", None), "RPOP with a count on a missing key is a null array")


def blocked_clients(c):
    """INFO's blocked_clients (Redis and kv both count the clients blocked in a command)."""
    return c.r.info("clients")["blocked_clients"]


def wait_blocked(c, count):
    ok(wait_until(lambda: blocked_clients(c) == count, 10), f"{count} client(s) blocked: {blocked_clients(c)}")


@suite.check(since=2)
def check_blpop_brpop_immediate(c):
    c.r.rpush("l", "a", "b", "c")
    eq(values(c.raw.call("BLPOP", "l", "0")), [b"l", b"a"], "BLPOP of a non-empty list pops its head at once")
    eq(values(c.raw.call("BRPOP", "l", "1")), [b"l", b"c"], "BRPOP pops its tail")
    eq(values(c.raw.call("BLPOP", "missing", "l", "0")), [b"l", b"b"], "BLPOP takes the first non-empty list, in order")
    eq(c.r.exists("l"), 0, "popping the last element removes the key")
    c.r.rpush("l1", "x")
    c.r.rpush("l2", "y")
    eq(values(c.raw.call("BRPOP", "l2", "l1", "0")), [b"l2", b"y"], "BRPOP keys in the order given")
    eq(c.r.blpop(["l1"], timeout=1), (b"l1", b"x"), "redis-py blpop")


@suite.check(since=2)
def check_blpop_timeout_nil(c):
    started = time.monotonic()
    eq(c.raw.call("BLPOP", "q1", "q2", "0.3"), ("*", None), "BLPOP on empty lists answers a nil array at its timeout")
    took = time.monotonic() - started
    ok(0.28 <= took < 2.0, f"BLPOP 0.3 answered after {took:.3f} s")
    eq(c.raw.call("BRPOP", "q1", "0.05"), ("*", None), "BRPOP with a fractional timeout")
    eq(c.r.brpop(["q1"], timeout=1), None, "redis-py brpop times out")
    eq(blocked_clients(c), 0, "no client blocked after its timeout")


@suite.check(since=2)
def check_blpop_blocks_until_a_push(c):
    blocked = c.connect()
    blocked.send(encode_command("BLPOP", "q1", "q2", "0"))
    wait_blocked(c, 1)
    eq(c.raw.call("RPUSH", "q2", "x", "y"), (":", 2), "RPUSH answers the length before serving the blocked client")
    eq(values(blocked.read()), [b"q2", b"x"], "the blocked client is served the head of the list pushed")
    eq(values(c.raw.call("LRANGE", "q2", "0", "-1")), [b"y"], "one element taken")
    eq(blocked_clients(c), 0, "no client blocked once served")
    blocked.send(encode_command("BRPOP", "q3", "5"))
    wait_blocked(c, 1)
    eq(c.raw.call("LPUSH", "q3", "a", "b", "c"), (":", 3), "LPUSH of three")
    eq(values(blocked.read()), [b"q3", b"a"], "BRPOP served the tail")
    eq(c.r.lrange("q3", 0, -1), [b"c", b"b"], "the rest stays")


@suite.check(since=2)
def check_blpop_longest_waiting_served_first(c):
    first, second = c.connect(), c.connect()
    first.send(encode_command("BLPOP", "q", "0"))
    wait_blocked(c, 1)
    second.send(encode_command("BLPOP", "q", "0"))
    wait_blocked(c, 2)
    eq(c.raw.call("RPUSH", "q", "a", "b", "c"), (":", 3), "RPUSH of three with two clients blocked")
    eq(values(first.read()), [b"q", b"a"], "the client blocked first takes the first element")
    eq(values(second.read()), [b"q", b"b"], "the second the next")
    eq(c.r.lrange("q", 0, -1), [b"c"], "the third stays")


@suite.check(since=2)
def check_blpop_commands_after_it_wait(c):
    blocked = c.connect()
    blocked.send(encode_command("PING") + encode_command("BLPOP", "q", "0") + encode_command("ECHO", "after"))
    eq(blocked.read(), ("+", "PONG"), "the command before BLPOP is answered at once")
    wait_blocked(c, 1)
    eq(c.raw.call("LPUSH", "q", "v"), (":", 1), "LPUSH")
    eq(values(blocked.read()), [b"q", b"v"], "BLPOP served")
    eq(blocked.read(), ("$", b"after"), "the command pipelined after BLPOP runs after it is answered")


@suite.check(since=2)
def check_blpop_client_gone_while_blocked(c):
    gone = c.connect()
    gone.send(encode_command("BLPOP", "q", "0"))
    wait_blocked(c, 1)
    gone.close()
    wait_blocked(c, 0)
    eq(c.raw.call("LPUSH", "q", "v"), (":", 1), "LPUSH after the blocked client went")
    eq(c.r.lrange("q", 0, -1), [b"v"], "no element was given to the client that went")


@suite.check(since=2)
def check_blpop_errors(c):
    c.r.set("s", "v")
    c.error(WRONGTYPE, "BLPOP", "s", "0")
    c.error(WRONGTYPE, "BRPOP", "missing", "s", "1")
    c.r.rpush("l", "a")
    eq(values(c.raw.call("BLPOP", "l", "s", "0")), [b"l", b"a"], "a list before the wrong type is popped")
    c.error("ERR timeout is not a float or out of range", "BLPOP", "l", "abc")
    c.error("ERR timeout is not a float or out of range", "BLPOP", "l", " 1")
    c.error("ERR timeout is not a float or out of range", "BRPOP", "l", "")
    c.error("ERR timeout is negative", "BLPOP", "l", "-1")
    c.error("ERR timeout is negative", "BRPOP", "l", "-0.5")
    c.error("ERR timeout is not a float or out of range", "BLPOP", "s", "x")  # the timeout is read before the keys
    c.error("ERR wrong number of arguments for 'blpop' command", "BLPOP", "l")
    c.error("ERR wrong number of arguments for 'brpop' command", "BRPOP")


@suite.check(since=2)
def check_lmove_rpoplpush(c):
    c.r.rpush("s", "a", "b", "c")
    eq(c.raw.call("LMOVE", "s", "d", "LEFT", "RIGHT"), ("$", b"a"), "LMOVE answers the element moved")
    eq(c.raw.call("lmove", "s", "d", "right", "left"), ("$", b"c"), "LMOVE's ends in any case")
    eq(c.r.lrange("d", 0, -1), [b"c", b"a"], "LMOVE creates the destination and pushes at the end named")
    eq(c.raw.call("RPOPLPUSH", "d", "s"), ("$", b"a"), "RPOPLPUSH moves the tail to the head")
    eq(c.r.lrange("s", 0, -1), [b"a", b"b"], "RPOPLPUSH pushed at the head")
    eq(c.raw.call("LMOVE", "s", "s", "LEFT", "RIGHT"), ("$", b"a"), "LMOVE of a list to itself")
    eq(c.r.lrange("s", 0, -1), [b"b", b"a"], "the list rotated")
    eq(c.raw.call("RPOPLPUSH", "d", "s"), ("$", b"c"), "RPOPLPUSH of the last element")
    eq(c.r.exists("d"), 0, "moving the last element removes the source")
    eq(c.raw.call("LMOVE", "missing", "s", "LEFT", "LEFT"), ("$", None), "LMOVE of a missing source is nil")
    eq(c.raw.call("RPOPLPUSH", "missing", "s"), ("$", None), "RPOPLPUSH of a missing source is nil")
    eq(c.r.exists("missing"), 0, "nothing created")
    c.r.set("str", "x")
    c.error(WRONGTYPE, "LMOVE", "str", "d", "LEFT", "LEFT")
    c.error(WRONGTYPE, "RPOPLPUSH", "s", "str")
    eq(c.raw.call("LMOVE", "missing", "str", "LEFT", "LEFT"), ("$", None), "a missing source is nil whatever the destination")
    eq(c.r.lrange("s", 0, -1), [b"c", b"b", b"a"], "a refused move moves nothing")
    c.error(SYNTAX, "LMOVE", "s", "d", "LEFT", "MIDDLE")
    c.error(SYNTAX, "LMOVE", "str", "d", "UP", "LEFT")  # the ends are read before the keys
    c.error("ERR wrong number of arguments for 'lmove' command", "LMOVE", "s", "d", "LEFT")
    c.error("ERR wrong number of arguments for 'rpoplpush' command", "RPOPLPUSH", "s")
    eq(c.r.lmove("s", "d", "RIGHT", "LEFT"), b"a", "redis-py lmove")
    eq(c.r.rpoplpush("s", "d"), b"b", "redis-py rpoplpush")


@suite.check(since=2)
def check_lmpop(c):
    c.r.rpush("l", "a", "b", "c", "d")
    c.r.rpush("m", "x")
    eq(values(c.raw.call("LMPOP", "2", "missing", "l", "LEFT")), [b"l", [b"a"]], "LMPOP pops one from the first non-empty list")
    eq(values(c.raw.call("LMPOP", "1", "l", "right", "count", "2")), [b"l", [b"d", b"c"]], "LMPOP RIGHT COUNT 2")
    eq(values(c.raw.call("LMPOP", "2", "l", "m", "LEFT", "COUNT", "10")), [b"l", [b"b"]], "a count larger than the list")
    eq(c.r.exists("l"), 0, "popping the last element removes the key")
    eq(values(c.raw.call("LMPOP", "2", "l", "m", "LEFT")), [b"m", [b"x"]], "the next list once the first is gone")
    eq(c.raw.call("LMPOP", "2", "l", "m", "LEFT"), ("*", None), "LMPOP of missing lists is a nil array")
    c.r.set("str", "v")
    c.r.rpush("l", "a")
    c.error(WRONGTYPE, "LMPOP", "2", "str", "l", "LEFT")
    c.error(WRONGTYPE, "LMPOP", "2", "missing", "str", "LEFT")
    eq(values(c.raw.call("LMPOP", "2", "l", "str", "LEFT")), [b"l", [b"a"]], "a list before the wrong type is popped")
    for numkeys in ("0", "-1", "abc"):
        c.error("ERR numkeys should be greater than 0", "LMPOP", numkeys, "l", "LEFT")
    c.error(SYNTAX, "LMPOP", "5", "l", "LEFT")
    c.error(SYNTAX, "LMPOP", "9223372036854775807", "l", "LEFT")
    c.error(SYNTAX, "LMPOP", "1", "l", "MIDDLE")
    c.error(SYNTAX, "LMPOP", "1", "l", "LEFT", "COUNT")
    c.error(SYNTAX, "LMPOP", "1", "l", "LEFT", "COUNT", "1", "COUNT", "1")
    c.error(SYNTAX, "LMPOP", "1", "l", "LEFT", "FOO")
    for count in ("0", "-2", "x"):
        c.error("ERR count should be greater than 0", "LMPOP", "1", "l", "LEFT", "COUNT", count)
    c.error("ERR wrong number of arguments for 'lmpop' command", "LMPOP", "1", "l")
    c.r.rpush("l", "a", "b")
    eq(c.r.lmpop(1, "l", direction="RIGHT", count=2), [b"l", [b"b", b"a"]], "redis-py lmpop")


@suite.check(since=2)
def check_blmove_blmpop_immediate_timeout_errors(c):
    c.r.rpush("s", "a", "b", "c")
    eq(c.raw.call("BLMOVE", "s", "d", "LEFT", "RIGHT", "0"), ("$", b"a"), "BLMOVE of a non-empty list moves at once")
    eq(c.raw.call("BRPOPLPUSH", "s", "d", "1"), ("$", b"c"), "BRPOPLPUSH moves the tail to the head")
    eq(c.r.lrange("d", 0, -1), [b"c", b"a"], "the destination")
    eq(values(c.raw.call("BLMPOP", "0", "2", "missing", "d", "RIGHT", "COUNT", "5")), [b"d", [b"a", b"c"]], "BLMPOP at once")
    started = time.monotonic()
    eq(c.raw.call("BLMOVE", "q", "d", "LEFT", "LEFT", "0.2"), ("*", None), "BLMOVE answers a nil array at its timeout")
    took = time.monotonic() - started
    ok(0.18 <= took < 2.0, f"BLMOVE 0.2 answered after {took:.3f} s")
    eq(c.raw.call("BRPOPLPUSH", "q", "d", "0.05"), ("*", None), "BRPOPLPUSH's timeout is a nil array too")
    eq(c.raw.call("BLMPOP", "0.05", "2", "q", "q2", "LEFT"), ("*", None), "BLMPOP's timeout")
    eq(c.r.exists("d", "q"), 0, "a timed-out move creates nothing")
    eq(blocked_clients(c), 0, "no client blocked after its timeout")
    c.r.set("str", "x")
    c.error(WRONGTYPE, "BLMOVE", "str", "d", "LEFT", "LEFT", "0")
    c.error(WRONGTYPE, "BLMOVE", "s", "str", "LEFT", "LEFT", "0")
    c.error(WRONGTYPE, "BRPOPLPUSH", "str", "d", "0")
    c.error(WRONGTYPE, "BLMPOP", "0", "2", "missing", "str", "LEFT")
    eq(c.raw.call("BLMOVE", "q", "str", "LEFT", "LEFT", "0.05"), ("*", None), "a missing source blocks whatever the destination")
    c.error(SYNTAX, "BLMOVE", "s", "d", "LEFT", "MIDDLE", "x")  # the ends are read before the timeout
    c.error("ERR timeout is not a float or out of range", "BLMOVE", "str", "d", "LEFT", "LEFT", "x")
    c.error("ERR timeout is negative", "BRPOPLPUSH", "s", "d", "-1")
    c.error("ERR numkeys should be greater than 0", "BLMPOP", "x", "abc", "s", "LEFT")  # numkeys before the timeout
    c.error("ERR count should be greater than 0", "BLMPOP", "x", "1", "s", "LEFT", "COUNT", "0")
    c.error("ERR timeout is not a float or out of range", "BLMPOP", "x", "1", "s", "LEFT")
    c.error("ERR timeout is negative", "BLMPOP", "-1", "1", "s", "LEFT")
    c.error(SYNTAX, "BLMPOP", "0", "2", "s", "LEFT")
    c.error("ERR wrong number of arguments for 'blmove' command", "BLMOVE", "s", "d", "LEFT", "LEFT")
    c.error("ERR wrong number of arguments for 'brpoplpush' command", "BRPOPLPUSH", "s", "d")
    c.error("ERR wrong number of arguments for 'blmpop' command", "BLMPOP", "0", "1", "s")
    eq(c.r.blmove("s", "d", 1, "LEFT", "LEFT"), b"b", "redis-py blmove")
    eq(c.r.brpoplpush("q", "d", timeout=0.05), None, "redis-py brpoplpush times out")


@suite.check(since=2)
def check_blmove_blocks_until_a_push(c):
    blocked = c.connect()
    blocked.send(encode_command("BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"))
    wait_blocked(c, 1)
    c.r.rpush("dst", "old")
    eq(c.raw.call("RPUSH", "src", "a", "b"), (":", 2), "RPUSH answers the length before serving the blocked client")
    eq(blocked.read(), ("$", b"b"), "the blocked BLMOVE is answered the element it moved")
    eq(c.r.lrange("src", 0, -1), [b"a"], "one element taken from the source's end")
    eq(c.r.lrange("dst", 0, -1), [b"b", b"old"], "and pushed to the destination's end")
    blocked.send(encode_command("BRPOPLPUSH", "q", "q", "5"))
    wait_blocked(c, 1)
    eq(c.raw.call("LPUSH", "q", "x", "y"), (":", 2), "LPUSH to a list a client moves to itself")
    eq(blocked.read(), ("$", b"x"), "BRPOPLPUSH served the tail")
    eq(c.r.lrange("q", 0, -1), [b"x", b"y"], "the list rotated")
    eq(blocked_clients(c), 0, "no client blocked once served")


@suite.check(since=2)
def check_blmpop_blocks_until_a_push(c):
    first, second = c.connect(), c.connect()
    first.send(encode_command("BLMPOP", "0", "2", "x", "y", "LEFT", "COUNT", "2"))
    wait_blocked(c, 1)
    second.send(encode_command("BLMPOP", "5", "1", "y", "RIGHT"))
    wait_blocked(c, 2)
    eq(c.raw.call("RPUSH", "y", "1", "2", "3", "4"), (":", 4), "RPUSH of four with two clients blocked")
    eq(values(first.read()), [b"y", [b"1", b"2"]], "the client blocked first takes up to its count")
    eq(values(second.read()), [b"y", [b"4"]], "the second one from its end")
    eq(c.r.lrange("y", 0, -1), [b"3"], "the rest stays")


@suite.check(since=2)
def check_blocked_move_serves_the_destination_in_turn(c):
    mover, popper, multi = c.connect(), c.connect(), c.connect()
    mover.send(encode_command("BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"))
    wait_blocked(c, 1)
    popper.send(encode_command("BLPOP", "src", "0"))
    wait_blocked(c, 2)
    multi.send(encode_command("BLMPOP", "0", "2", "other", "dst", "RIGHT", "COUNT", "5"))
    wait_blocked(c, 3)
    eq(c.raw.call("RPUSH", "src", "1", "2", "3"), (":", 3), "RPUSH of three with three clients blocked")
    eq(mover.read(), ("$", b"3"), "the BLMOVE blocked first moves the tail")
    eq(values(popper.read()), [b"src", b"1"], "the BLPOP blocked on the source next takes the head")
    eq(values(multi.read()), [b"dst", [b"3"]], "the BLMPOP blocked on the destination takes what was moved there")
    eq(c.r.lrange("src", 0, -1), [b"2"], "what is left of the source")
    eq(c.r.exists("dst"), 0, "the destination emptied again")
    eq(blocked_clients(c), 0, "all served")


@suite.check(since=2)
def check_blocked_moves_in_a_cycle(c):
    p_to_q, q_to_p, popper = c.connect(), c.connect(), c.connect()
    p_to_q.send(encode_command("BLMOVE", "p", "q", "LEFT", "LEFT", "0"))
    wait_blocked(c, 1)
    q_to_p.send(encode_command("BRPOPLPUSH", "q", "p", "0"))
    wait_blocked(c, 2)
    popper.send(encode_command("BLPOP", "p", "0"))
    wait_blocked(c, 3)
    eq(c.raw.call("LPUSH", "p", "z"), (":", 1), "LPUSH of one element")
    eq(p_to_q.read(), ("$", b"z"), "moved p -> q")
    eq(q_to_p.read(), ("$", b"z"), "moved back q -> p")
    eq(values(popper.read()), [b"p", b"z"], "then popped from p")
    eq(c.r.exists("p", "q"), 0, "both lists empty")


@suite.check(since=2)
def check_lmove_serves_clients_blocked_on_the_destination(c):
    blocked = c.connect()
    blocked.send(encode_command("BRPOP", "dst", "0"))
    wait_blocked(c, 1)
    c.r.rpush("src", "v")
    eq(c.raw.call("LMOVE", "src", "dst", "LEFT", "RIGHT"), ("$", b"v"), "LMOVE answers the element")
    eq(values(blocked.read()), [b"dst", b"v"], "the client blocked on the destination takes it")
    eq(c.r.exists("src", "dst"), 0, "both lists empty")


@suite.check(since=2)
def check_blocked_move_to_a_destination_of_another_type(c):
    mover, popper = c.connect(), c.connect()
    mover.send(encode_command("BLMOVE", "src", "str", "LEFT", "LEFT", "0"))
    wait_blocked(c, 1)
    popper.send(encode_command("BLPOP", "src", "0"))
    wait_blocked(c, 2)
    c.r.set("str", "x")
    eq(c.raw.call("RPUSH", "src", "e"), (":", 1), "RPUSH with a blocked move whose destination became a string")
    eq(mover.read(), ("-", WRONGTYPE), "the move is answered WRONGTYPE and unblocked")
    eq(values(popper.read()), [b"src", b"e"], "the element went to the next client")
    eq(c.r.get("str"), b"x", "the destination untouched")
    eq(blocked_clients(c), 0, "no client blocked")


@suite.check(since=2)
def check_hashes(c):
    eq(c.raw.call("HSET", "h", "f1", "v1", "f2", "v2"), (":", 2), "HSET counts the new fields")
    eq(c.raw.call("HSET", "h", "f1", "x", "f3", "v3"), (":", 1), "HSET of an existing field adds 0")
    eq(c.raw.call("HGET", "h", "f1"), ("$", b"x"), "HGET")
    eq(c.raw.call("HGET", "h", "nofield"), ("$", None), "HGET of a missing field")
    eq(c.raw.call("HGET", "missing", "f"), ("$", None), "HGET of a missing key")
    eq(c.raw.call("HLEN", "h"), (":", 3), "HLEN")
    eq(c.r.hgetall("h"), {b"f1": b"x", b"f2": b"v2", b"f3": b"v3"}, "HGETALL")
    eq(values(c.raw.call("HGETALL", "missing")), [], "HGETALL of a missing key")
    eq(c.raw.call("HDEL", "h", "f1", "nofield"), (":", 1), "HDEL counts the fields removed")
    eq(c.r.hdel("h", "f2", "f3"), 2, "redis-py hdel")
    eq(c.r.exists("h"), 0, "removing the last field removes the key")
    eq(c.raw.call("HLEN", "h"), (":", 0), "HLEN of a missing key")
    c.error("ERR wrong number of arguments for 'hset' command", "HSET", "h", "f1", "v1", "f2")


@suite.check(since=2)
def check_type(c):
    c.r.set("s", "v")
    c.r.rpush("l", "a")
    c.r.hset("h", "f", "v")
    eq(c.raw.call("TYPE", "s"), ("+", "string"), "TYPE string")
    eq(c.raw.call("TYPE", "l"), ("+", "list"), "TYPE list")
    eq(c.raw.call("TYPE", "h"), ("+", "hash"), "TYPE hash")
    eq(c.raw.call("TYPE", "missing"), ("+", "none"), "TYPE none")


@suite.check(since=2)
def check_wrongtype(c):
    c.r.set("s", "v")
    c.r.rpush("l", "a")
    c.r.hset("h", "f", "v")
    c.error(WRONGTYPE, "GET", "l")
    c.error(WRONGTYPE, "INCR", "h")
    c.error(WRONGTYPE, "LPUSH", "s", "x")
    c.error(WRONGTYPE, "LRANGE", "h", "0", "-1")
    c.error(WRONGTYPE, "HSET", "l", "f", "v")
    c.error(WRONGTYPE, "HGET", "s", "f")
    eq(values(c.raw.call("MGET", "s", "l", "h")), [b"v", None, None], "MGET answers nil for other types")
    eq(c.raw.call("SET", "l", "now-a-string"), ("+", "OK"), "SET overwrites a key of any type")
    eq(c.r.type("l"), b"string", "the list became a string")


@suite.check(since=2)
def check_every_type_in_keys_scan_dbsize_expiry(c):
    c.r.set("s", "v")
    c.r.rpush("l", "a")
    c.r.hset("h", "f", "v")
    eq(sorted(c.r.keys("*")), [b"h", b"l", b"s"], "KEYS lists every type")
    eq(set(c.r.scan_iter(count=2)), {b"h", b"l", b"s"}, "SCAN lists every type")
    eq(c.r.dbsize(), 3, "DBSIZE counts every type")
    eq(c.r.pexpire("l", 50), True, "PEXPIRE a list")
    eq(c.r.expire("h", 100), True, "EXPIRE a hash")
    ok(0 < c.r.ttl("h") <= 100, "TTL of a hash")
    time.sleep(0.3)
    eq(c.r.exists("l"), 0, "the list expired")
    eq(c.r.delete("h", "s"), 2, "DEL removes a hash and a string")


# ---------------------------------------------------------------- OBJECT (v3)


@suite.check(until=2)
def check_lacks_object(c):
    c.error(unknown("object", "freq", "k"), "object", "freq", "k")


@suite.check(since=3)
def check_object_freq(c):
    if c.level == REDIS:  # Redis tracks the frequency only under an LFU policy
        c.r.config_set("maxmemory-policy", "allkeys-lfu")
    try:
        c.r.set("k", "v")
        kind, before = c.raw.call("OBJECT", "FREQ", "k")
        eq(kind, ":", "OBJECT FREQ reply type")
        for _ in range(10):
            c.r.get("k")
        kind, after = c.raw.call("OBJECT", "FREQ", "k")
        ok(kind == ":" and after > before, f"OBJECT FREQ grows with accesses ({before} then {after} after 10 GETs)")
        eq(c.raw.call("OBJECT", "FREQ", "missing"), ("$", None), "OBJECT FREQ of a missing key")
        eq(c.r.object("freq", "k"), after, "redis-py object freq (OBJECT does not count as an access)")
    finally:
        if c.level == REDIS:
            c.r.config_set("maxmemory-policy", "noeviction")


@suite.check(since=3)
def check_object_idletime(c):
    c.r.set("k", "v")
    c.r.rpush("l", "a")
    kind, fresh = c.raw.call("OBJECT", "IDLETIME", "k")
    ok(kind == ":" and 0 <= fresh <= 1, f"OBJECT IDLETIME of a fresh key is 0 or 1: {fresh}")
    time.sleep(2.2)
    idle = c.r.object("idletime", "k")
    ok(idle >= 2, f"OBJECT IDLETIME after 2.2 s untouched is >= 2: {idle}")
    ok(c.r.object("idletime", "l") >= 2, "OBJECT IDLETIME of a list")
    c.r.get("k")
    after = c.r.object("idletime", "k")
    ok(after < idle, f"a GET resets the idle time ({idle} then {after})")
    eq(c.raw.call("OBJECT", "IDLETIME", "missing"), ("$", None), "OBJECT IDLETIME of a missing key")


# ---------------------------------------------------------------- sets (v5)


@suite.check(until=4)
def check_lacks_sets(c):
    c.error(unknown("sadd", "s", "m"), "sadd", "s", "m")
    c.error(unknown("smembers", "s"), "smembers", "s")


@suite.check(since=5)
def check_sets(c):
    eq(c.raw.call("SADD", "s", "a", "b", "c", "a"), (":", 3), "SADD counts the new members")
    eq(c.raw.call("SADD", "s", "a"), (":", 0), "SADD of a member already there")
    eq(c.raw.call("SCARD", "s"), (":", 3), "SCARD")
    eq(c.raw.call("SISMEMBER", "s", "b"), (":", 1), "SISMEMBER of a member")
    eq(c.raw.call("SISMEMBER", "s", "z"), (":", 0), "SISMEMBER of a non-member")
    eq(c.r.smembers("s"), {b"a", b"b", b"c"}, "SMEMBERS")
    eq(c.raw.call("SREM", "s", "a", "z"), (":", 1), "SREM counts the members removed")
    eq(c.raw.call("TYPE", "s"), ("+", "set"), "TYPE set")
    eq(c.r.srem("s", "b", "c"), 2, "redis-py srem")
    eq(c.r.exists("s"), 0, "removing the last member removes the key")
    eq(values(c.raw.call("SMEMBERS", "missing")), [], "SMEMBERS of a missing key")
    eq(c.raw.call("SCARD", "missing"), (":", 0), "SCARD of a missing key")
    eq(c.raw.call("SISMEMBER", "missing", "a"), (":", 0), "SISMEMBER of a missing key")
    c.r.set("str", "v")
    c.error(WRONGTYPE, "SADD", "str", "a")
    c.r.sadd("s2", "x")
    c.error(WRONGTYPE, "GET", "s2")
    c.error(WRONGTYPE, "LPUSH", "s2", "a")
    c.error("ERR wrong number of arguments for 'sadd' command", "SADD", "s2")

# ---------------------------------------------------------------- HELLO and RESP3


HELLO_KEYS = [b"server", b"version", b"proto", b"id", b"mode", b"role", b"modules"]


@suite.check()
def check_hello(c):
    client_id = c.raw.call("CLIENT", "ID")[1]
    kind, pairs = c.raw.call("HELLO", "3")
    eq(kind, "%", "HELLO 3 answers a map")
    eq([k for (_, k), _ in pairs], HELLO_KEYS, "HELLO 3's fields")
    fields = {k: v for (_, k), v in pairs}
    eq(fields[b"server"], ("$", b"redis"), "server")
    ok(fields[b"version"][0] == "$" and fields[b"version"][1].startswith(b"7."), f"version 7.x: {fields[b'version']}")
    eq(fields[b"proto"], (":", 3), "proto")
    eq(fields[b"id"], (":", client_id), "id: the CLIENT ID")
    eq(fields[b"mode"], ("$", b"standalone"), "mode")
    eq(fields[b"role"], ("$", b"master"), "role")
    eq(fields[b"modules"], ("*", []), "modules")
    kind, flat = c.raw.call("HELLO", "2")
    eq(kind, "*", "HELLO 2 answers the same fields as a flat array")
    eq([k for _, k in flat[0::2]], HELLO_KEYS, "HELLO 2's fields")
    eq(flat[5], (":", 2), "proto 2")
    eq(c.raw.call("HELLO")[0], "*", "HELLO alone keeps the protocol (2)")
    c.error("NOPROTO unsupported protocol version", "HELLO", "1")
    c.error("NOPROTO unsupported protocol version", "HELLO", "4")
    c.error("ERR Protocol version is not an integer or out of range", "HELLO", "three")
    c.error("ERR Syntax error in HELLO option 'SETNAME'", "HELLO", "3", "SETNAME")
    c.error("ERR Syntax error in HELLO option 'nosuch'", "HELLO", "3", "nosuch")
    c.error("WRONGPASS invalid username-password pair or user is disabled.", "HELLO", "3", "AUTH", "someone", "pw")
    c.error("ERR Client names cannot contain spaces, newlines or special characters.", "HELLO", "3", "SETNAME", "a b")
    eq(c.raw.call("GET", "missing"), ("$", None), "a refused HELLO 3 leaves the protocol as it was")
    eq(c.raw.call("HELLO", "3", "AUTH", "default", "any", "SETNAME", "hello-3")[0], "%",
       "HELLO 3 AUTH default (no password set: any) SETNAME")
    eq(c.raw.call("CLIENT", "GETNAME"), ("$", b"hello-3"), "HELLO's SETNAME names the connection")


@suite.check()
def check_resp3_replies(c):
    eq(c.raw.call("HELLO", "3")[0], "%", "HELLO 3")
    c.r.set("k", "v")
    eq(c.raw.call("GET", "missing"), ("_", None), "RESP3's null for a missing key")
    eq(c.raw.call("GET", "k"), ("$", b"v"), "a bulk string stays one")
    eq(c.raw.call("MGET", "k", "missing"), ("*", [("$", b"v"), ("_", None)]), "MGET: an array with a null")
    eq(c.raw.call("CLIENT", "GETNAME"), ("_", None), "CLIENT GETNAME of no name")
    eq(c.raw.call("CONFIG", "GET", "appendonly"), ("%", [(("$", b"appendonly"), ("$", b"no"))]), "CONFIG GET: a map")
    kind, text = c.raw.call("INFO", "server")
    eq((kind, text[:4]), ("=", b"txt:"), "INFO: verbatim text")
    ok(b"redis_version:" in text, "INFO's text")
    eq(c.raw.call("EXISTS", "k"), (":", 1), "an integer stays one")
    eq(c.raw.call("HELLO", "2")[0], "*", "HELLO 2")
    eq(c.raw.call("GET", "missing"), ("$", None), "back in RESP2: the null bulk string")


@suite.check(since=2)
def check_resp3_replies_of_lists_and_hashes(c):
    eq(c.raw.call("HELLO", "3")[0], "%", "HELLO 3")
    c.r.hset("h", mapping={"f": "1", "g": "2"})
    kind, pairs = c.raw.call("HGETALL", "h")
    eq(kind, "%", "HGETALL: a map")
    eq(sorted(values((kind, pairs))), [(b"f", b"1"), (b"g", b"2")], "HGETALL's fields")
    eq(c.raw.call("HGETALL", "missing"), ("%", []), "HGETALL of a missing key: an empty map")
    eq(c.raw.call("HGET", "h", "nofield"), ("_", None), "HGET of a missing field")
    eq(c.raw.call("LPOP", "missing"), ("_", None), "LPOP of a missing key")
    eq(c.raw.call("LPOP", "missing", "2"), ("_", None), "LPOP count of a missing key")
    eq(c.raw.call("LMPOP", "1", "missing", "LEFT"), ("_", None), "LMPOP of missing keys")
    eq(c.raw.call("BLPOP", "missing", "0.01"), ("_", None), "BLPOP timed out")
    eq(c.raw.call("BLMOVE", "missing", "d", "LEFT", "LEFT", "0.01"), ("_", None), "BLMOVE timed out")
    c.r.rpush("l", "a", "b")
    eq(c.raw.call("LRANGE", "l", "0", "-1"), ("*", [("$", b"a"), ("$", b"b")]), "LRANGE: an array")


@suite.check(since=5)
def check_resp3_replies_of_sets(c):
    eq(c.raw.call("HELLO", "3")[0], "%", "HELLO 3")
    c.r.sadd("s", "a", "b")
    kind, members = c.raw.call("SMEMBERS", "s")
    eq(kind, "~", "SMEMBERS: a set")
    eq(sorted(values((kind, members))), [b"a", b"b"], "SMEMBERS' members")
    eq(c.raw.call("SMEMBERS", "missing"), ("~", []), "SMEMBERS of a missing key: an empty set")


# ---------------------------------------------------------------- transactions


EXECABORT = "EXECABORT Transaction discarded because of previous errors."


@suite.check()
def check_multi_exec(c):
    c.error("ERR EXEC without MULTI", "EXEC")
    c.error("ERR DISCARD without MULTI", "DISCARD")
    eq(c.raw.call("MULTI"), ("+", "OK"), "MULTI")
    c.error("ERR MULTI calls can not be nested", "MULTI")
    c.error("ERR WATCH inside MULTI is not allowed", "WATCH", "k")
    eq(c.raw.call("SET", "k", "1"), ("+", "QUEUED"), "SET queued")
    eq(c.raw.call("INCR", "k"), ("+", "QUEUED"), "INCR queued")
    eq(c.raw.call("GET", "missing"), ("+", "QUEUED"), "GET queued")
    eq(c.raw.call("EXPIRE", "k", "x"), ("+", "QUEUED"), "a command that fails when run is queued")
    eq(c.r.get("k"), None, "nothing ran before EXEC (another client sees nothing)")
    eq(c.raw.call("EXEC"), ("*", [("+", "OK"), (":", 2), ("$", None), ("-", NOT_INTEGER)]),
       "EXEC: every reply, the error of one among them; nested MULTI and WATCH refused nothing")
    eq(c.r.get("k"), b"2", "the transaction ran")
    eq(c.raw.call("MULTI"), ("+", "OK"), "MULTI")
    eq(c.raw.call("SET", "k", "3"), ("+", "QUEUED"), "SET queued")
    eq(c.raw.call("DISCARD"), ("+", "OK"), "DISCARD")
    eq(c.r.get("k"), b"2", "DISCARD ran nothing")
    eq(c.raw.call("MULTI"), ("+", "OK"), "MULTI")
    eq(c.raw.call("EXEC"), ("*", []), "an empty transaction")


@suite.check()
def check_multi_refused_commands_abort_exec(c):
    eq(c.raw.call("MULTI"), ("+", "OK"), "MULTI")
    eq(c.raw.call("SET", "k", "1"), ("+", "QUEUED"), "SET queued")
    c.error(unknown("NOSUCH", "x"), "NOSUCH", "x")
    c.error(EXECABORT, "EXEC")
    eq(c.r.exists("k"), 0, "EXECABORT ran nothing")
    eq(c.raw.call("MULTI"), ("+", "OK"), "MULTI")
    eq(c.raw.call("SET", "k", "1"), ("+", "QUEUED"), "SET queued")
    c.error("ERR wrong number of arguments for 'get' command", "GET")
    c.error(EXECABORT, "EXEC")
    eq(c.raw.call("MULTI"), ("+", "OK"), "MULTI")
    c.error("ERR wrong number of arguments for 'watch' command", "WATCH")
    c.error(EXECABORT, "EXEC")
    eq(c.r.exists("k"), 0, "nothing ran")
    eq(c.raw.call("MULTI"), ("+", "OK"), "after EXECABORT, a new transaction")
    eq(c.raw.call("EXEC"), ("*", []), "runs")


@suite.check(since=2)
def check_multi_blocking_commands_do_not_block(c):
    eq(c.raw.call("MULTI"), ("+", "OK"), "MULTI")
    for command in (("BLPOP", "missing", "0"), ("BLMOVE", "missing", "d", "LEFT", "LEFT", "0"),
                    ("BLMPOP", "0", "1", "missing", "LEFT"), ("RPUSH", "l", "a"), ("BRPOP", "l", "0")):
        eq(c.raw.call(*command), ("+", "QUEUED"), " ".join(command))
    eq(c.raw.call("EXEC"), ("*", [("*", None), ("$", None), ("*", None), (":", 1), ("*", [("$", b"l"), ("$", b"a")])]),
       "EXEC: the blocking commands answer nil at once, or pop")
    eq(c.raw.call("PING"), ("+", "PONG"), "the connection is not blocked")


@suite.check()
def check_multi_in_resp3(c):
    eq(c.raw.call("HELLO", "3")[0], "%", "HELLO 3")
    eq(c.raw.call("MULTI"), ("+", "OK"), "MULTI")
    eq(c.raw.call("GET", "missing"), ("+", "QUEUED"), "GET queued")
    eq(c.raw.call("HELLO", "2"), ("+", "QUEUED"), "HELLO queued")
    eq(c.raw.call("GET", "missing"), ("+", "QUEUED"), "GET queued")
    kind, replies = c.raw.call("EXEC")
    eq(kind, "*", "EXEC")
    eq((replies[0], replies[1][0], replies[2]), (("_", None), "*", ("$", None)),
       "the replies in the protocol of the moment: HELLO 2 inside EXEC switches its own reply and the next ones")


@suite.check()
def check_watch(c):
    other = c.connect()
    c.r.set("w", "0")
    eq(c.raw.call("WATCH", "w", "missing"), ("+", "OK"), "WATCH")
    eq(other.call("SET", "w", "1"), ("+", "OK"), "another client writes the watched key")
    eq(c.raw.call("MULTI"), ("+", "OK"), "MULTI")
    eq(c.raw.call("SET", "w", "mine"), ("+", "QUEUED"), "SET queued")
    eq(c.raw.call("EXEC"), ("*", None), "EXEC aborted: a null array")
    eq(c.r.get("w"), b"1", "nothing ran")
    eq(c.raw.call("MULTI"), ("+", "OK"), "EXEC unwatched: MULTI")
    eq(other.call("SET", "w", "2"), ("+", "OK"), "a write now")
    eq(c.raw.call("SET", "w", "mine"), ("+", "QUEUED"), "SET queued")
    eq(c.raw.call("EXEC"), ("*", [("+", "OK")]), "runs")
    # Writes that change nothing do not touch: DEL of a missing key, SADD/HDEL of nothing, a pop of nothing.
    eq(c.raw.call("WATCH", "missing", "w"), ("+", "OK"), "WATCH")
    eq(other.call("DEL", "missing"), (":", 0), "DEL of a missing key")
    eq(other.call("EXPIRE", "missing", "10"), (":", 0), "EXPIRE of a missing key")
    eq(other.call("GET", "w"), ("$", b"mine"), "a read")
    eq(other.call("INCR", "w"), ("-", NOT_INTEGER), "a write refused")
    eq(other.call("SET", "w", "x", "NX"), ("$", None), "SET NX of an existing key sets nothing")
    eq(other.call("SET", "missing", "x", "XX"), ("$", None), "SET XX of a missing key sets nothing")
    eq(c.raw.call("MULTI"), ("+", "OK"), "MULTI")
    eq(c.raw.call("GET", "w"), ("+", "QUEUED"), "GET queued")
    eq(c.raw.call("EXEC"), ("*", [("$", b"mine")]), "no watched key was touched: runs")
    # Its own writes touch its watch too; UNWATCH forgets it.
    eq(c.raw.call("WATCH", "w"), ("+", "OK"), "WATCH")
    eq(c.raw.call("SET", "w", "self"), ("+", "OK"), "its own write")
    eq(c.raw.call("MULTI"), ("+", "OK"), "MULTI")
    eq(c.raw.call("EXEC"), ("*", None), "aborted by its own write")
    eq(c.raw.call("WATCH", "missing"), ("+", "OK"), "WATCH a missing key")
    eq(other.call("SET", "missing", "x", "GET"), ("$", None), "SET … GET of a missing key: nil, and it sets it")
    eq(c.raw.call("MULTI"), ("+", "OK"), "MULTI")
    eq(c.raw.call("EXEC"), ("*", None), "aborted by the SET … GET")
    other.call("DEL", "missing")
    eq(c.raw.call("WATCH", "w"), ("+", "OK"), "WATCH")
    eq(other.call("MSET", "x", "1", "w", "2"), ("+", "OK"), "MSET touches every key it sets")
    eq(c.raw.call("UNWATCH"), ("+", "OK"), "UNWATCH")
    eq(c.raw.call("MULTI"), ("+", "OK"), "MULTI")
    eq(c.raw.call("EXEC"), ("*", []), "unwatched: runs")
    # DISCARD unwatches too; FLUSHDB touches the watched keys that existed.
    eq(c.raw.call("WATCH", "w"), ("+", "OK"), "WATCH")
    eq(c.raw.call("MULTI"), ("+", "OK"), "MULTI")
    eq(c.raw.call("DISCARD"), ("+", "OK"), "DISCARD")
    eq(other.call("SET", "w", "3"), ("+", "OK"), "a write after DISCARD")
    eq(c.raw.call("MULTI"), ("+", "OK"), "MULTI")
    eq(c.raw.call("EXEC"), ("*", []), "DISCARD unwatched: runs")
    eq(c.raw.call("WATCH", "w", "missing"), ("+", "OK"), "WATCH")
    eq(other.call("FLUSHDB"), ("+", "OK"), "FLUSHDB")
    eq(c.raw.call("MULTI"), ("+", "OK"), "MULTI")
    eq(c.raw.call("EXEC"), ("*", None), "a watched key flushed: aborted")
    eq(c.raw.call("WATCH", "missing"), ("+", "OK"), "WATCH of a missing key")
    eq(other.call("FLUSHDB"), ("+", "OK"), "FLUSHDB")
    eq(c.raw.call("MULTI"), ("+", "OK"), "MULTI")
    eq(c.raw.call("EXEC"), ("*", []), "FLUSHDB touches no key that did not exist")


@suite.check()
def check_watch_expired_key(c):
    c.r.set("w", "v", px=300)
    eq(c.raw.call("WATCH", "w"), ("+", "OK"), "WATCH a key with a TTL")
    ok(wait_until(lambda: c.r.exists("w") == 0, 10), "the key expired")
    eq(c.raw.call("MULTI"), ("+", "OK"), "MULTI")
    eq(c.raw.call("EXEC"), ("*", None), "a watched key that expired aborts EXEC")
    eq(c.raw.call("HELLO", "3")[0], "%", "HELLO 3")
    c.r.set("w", "v")
    eq(c.raw.call("WATCH", "w"), ("+", "OK"), "WATCH")
    c.r.delete("w")
    eq(c.raw.call("MULTI"), ("+", "OK"), "MULTI")
    eq(c.raw.call("EXEC"), ("_", None), "in RESP3 the aborted EXEC is the null")


@suite.check(since=2)
def check_watch_lists_and_hashes(c):
    other = c.connect()
    c.r.rpush("l", "a")
    c.r.hset("h", "f", "v")
    for write, touches in ((("LPOP", "missing"), False), (("HDEL", "h", "nofield"), False), (("HSET", "h", "f", "v"), True),
                           (("RPUSH", "l", "b"), True), (("LMOVE", "l", "l2", "LEFT", "LEFT"), True)):
        key = write[1]
        eq(c.raw.call("WATCH", key), ("+", "OK"), f"WATCH {key}")
        other.call(*write)
        eq(c.raw.call("MULTI"), ("+", "OK"), "MULTI")
        eq(c.raw.call("EXEC"), ("*", None) if touches else ("*", []), f"EXEC after {' '.join(write)}")
    # A client blocked in a move writes its destination when a push serves it.
    eq(c.raw.call("WATCH", "dst"), ("+", "OK"), "WATCH the destination of a blocked move")
    other.send(encode_command("BLMOVE", "src", "dst", "LEFT", "LEFT", "0"))
    ok(wait_until(lambda: c.r.info("clients")["blocked_clients"] == 1, 10), "the mover is blocked")
    c.r.rpush("src", "x")
    eq(other.read(), ("$", b"x"), "the move served")
    eq(c.raw.call("MULTI"), ("+", "OK"), "MULTI")
    eq(c.raw.call("EXEC"), ("*", None), "the served move touched its destination")


@suite.check()
def check_redis_py_transactions(c):
    pipe = c.r.pipeline(transaction=True)
    pipe.set("a", "1").incr("a").get("a")
    eq(pipe.execute(), [True, 2, b"2"], "redis-py pipeline (MULTI/EXEC)")

    def add_one(pipe):
        value = int(pipe.get("a"))
        pipe.multi()
        pipe.set("a", value + 1)
    eq(c.r.transaction(add_one, "a"), [True], "redis-py transaction() with WATCH")
    eq(c.r.get("a"), b"3", "its write")
    with c.r.pipeline() as pipe:
        pipe.watch("a")
        c.r.set("a", "100")
        pipe.multi()
        pipe.set("a", "mine")
        try:
            pipe.execute()
            raise CheckFailed("EXEC ran although the watched key was written")
        except redis.WatchError:
            pass
    eq(c.r.get("a"), b"100", "the other client's write kept")


def main():
    args = parse_args(__doc__)
    return suite.run(Context, args)


if __name__ == "__main__":
    main_guard(main)
