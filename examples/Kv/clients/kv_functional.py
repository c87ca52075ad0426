#!/usr/bin/python3
"""Functional suite of the kv server with Debian's Python redis client (redis-py 4.3.4).

    /usr/bin/python3 kv_functional.py --port P --version N|redis [--only SUBSTRING]

Checks Redis's semantics for the commands version N has (v1 strings, keys, expiry and connection commands; v2 +
lists, hashes and TYPE; v3 + OBJECT FREQ/IDLETIME; v5 + sets; v6 + the rest of each type's commands; v7 + sixteen
databases: SELECT, MOVE, SWAPDB); `--version redis` checks everything against a real redis-server, which proves the
checks test Redis's behaviour and not kv's. Each check starts with FLUSHALL (every database; FLUSHDB's database 0
before v7): the suite owns the server. Prints `PASS name` / `FAIL name: why` per check, then
`N passed, M failed`; exit 1 if any check failed.
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
        self.r.flushall()
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


@suite.check(only_kv=True, until=6)
def check_select_other_db_refused(c):
    c.error("ERR DB index is out of range", "SELECT", "1")
    eq(c.raw.call("SET", "k", "v"), ("+", "OK"), "the connection still works on db 0")


# ---------------------------------------------------------------- databases (v7)


def in_db(c, db):
    """A raw connection of its own that SELECTed database `db`."""
    raw = c.connect()
    eq(raw.call("SELECT", str(db)), ("+", "OK"), f"SELECT {db}")
    return raw


@suite.check(since=7)
def check_select_sixteen_databases(c):
    for db in (1, 9, 15, 0):
        eq(c.raw.call("SELECT", str(db)), ("+", "OK"), f"SELECT {db}")
    c.error("ERR DB index is out of range", "SELECT", "-1")
    c.error("ERR DB index is out of range", "SELECT", "16")
    eq(values(c.raw.call("CONFIG", "GET", "databases")), [b"databases", b"16"], "CONFIG GET databases")


@suite.check(since=7)
def check_databases_are_separate(c):
    three = in_db(c, 3)
    eq(three.call("SET", "k", "in3"), ("+", "OK"), "SET in db 3")
    eq(three.call("RPUSH", "l", "a"), (":", 1), "RPUSH in db 3")
    eq(c.raw.call("GET", "k"), ("$", None), "db 0 has no k")
    eq(c.raw.call("SET", "k", "in0"), ("+", "OK"), "SET k in db 0")
    eq(three.call("GET", "k"), ("$", b"in3"), "db 3 keeps its own k")
    eq(three.call("DBSIZE"), (":", 2), "DBSIZE of db 3")
    eq(c.raw.call("DBSIZE"), (":", 1), "DBSIZE of db 0")
    eq(sorted(values(three.call("KEYS", "*"))), [b"k", b"l"], "KEYS in db 3")
    eq(values(c.raw.call("KEYS", "*")), [b"k"], "KEYS in db 0")
    eq(sorted(values(three.call("SCAN", "0", "COUNT", "100"))[1]), [b"k", b"l"], "SCAN in db 3")
    eq(values(in_db(c, 4).call("RANDOMKEY")), None, "RANDOMKEY of an empty db")
    eq(c.raw.call("RANDOMKEY"), ("$", b"k"), "RANDOMKEY of db 0")
    eq(three.call("EXPIRE", "k", "100"), (":", 1), "EXPIRE in db 3")
    eq(c.raw.call("TTL", "k"), (":", -1), "db 0's k has no TTL")
    eq(c.raw.call("SELECT", "3"), ("+", "OK"), "SELECT 3 on the first connection")
    eq(c.raw.call("GET", "k"), ("$", b"in3"), "it reads db 3 now")
    eq(c.r.get("k"), b"in0", "another connection (redis-py's) still reads db 0")


@suite.check(since=7)
def check_flushdb_flushes_the_selected_database_flushall_every_one(c):
    one, two = in_db(c, 1), in_db(c, 2)
    for raw in (c.raw, one, two):
        eq(raw.call("SET", "k", "v"), ("+", "OK"), "SET")
    eq(one.call("FLUSHDB"), ("+", "OK"), "FLUSHDB in db 1")
    eq(one.call("DBSIZE"), (":", 0), "db 1 empty")
    eq(two.call("DBSIZE"), (":", 1), "db 2 kept")
    eq(c.raw.call("DBSIZE"), (":", 1), "db 0 kept")
    eq(two.call("FLUSHALL"), ("+", "OK"), "FLUSHALL in db 2")
    eq(two.call("DBSIZE"), (":", 0), "db 2 empty")
    eq(c.raw.call("DBSIZE"), (":", 0), "db 0 empty")


@suite.check(since=7)
def check_info_keyspace_of_every_database(c):
    c.r.set("a", "1")
    five = in_db(c, 5)
    five.call("SET", "x", "1", "EX", "1000")
    five.call("SET", "y", "2")
    text = c.raw.call("INFO", "keyspace")[1].decode()
    ok("db0:keys=1,expires=0,avg_ttl=0\r\n" in text, f"db0's line: {short(text, 200)}")
    ok("db5:keys=2,expires=1," in text, f"db5's line: {short(text, 200)}")
    ok("db1:" not in text, f"no line for an empty database: {short(text, 200)}")
    eq(c.r.info("keyspace").get("db5", {}).get("keys"), 2, "redis-py keyspace db5 keys")


@suite.check(since=7)
def check_move(c):
    two = in_db(c, 2)
    c.r.set("s", "v", ex=100)
    c.r.rpush("l", "a", "b")
    eq(c.raw.call("MOVE", "s", "2"), (":", 1), "MOVE s 2")
    eq(c.r.exists("s"), 0, "s left db 0")
    eq(two.call("GET", "s"), ("$", b"v"), "s is in db 2")
    kind, ttl = two.call("TTL", "s")
    ok(kind == ":" and 90 <= ttl <= 100, f"s kept its TTL in db 2: {ttl}")
    eq(c.raw.call("MOVE", "missing", "2"), (":", 0), "MOVE of a missing key")
    two.call("SET", "l", "taken")
    eq(c.raw.call("MOVE", "l", "2"), (":", 0), "MOVE onto a key the target db has")
    eq(c.r.lrange("l", 0, -1), [b"a", b"b"], "the list stays in db 0")
    c.error("ERR source and destination objects are the same", "MOVE", "l", "0")
    c.error("ERR DB index is out of range", "MOVE", "l", "16")
    c.error(NOT_INTEGER, "MOVE", "l", "x")


@suite.check(since=7)
def check_swapdb(c):
    one = in_db(c, 1)
    c.r.set("k", "zero")
    one.call("SET", "k", "one")
    one.call("SET", "only1", "x", "EX", "100")
    eq(c.raw.call("SWAPDB", "0", "1"), ("+", "OK"), "SWAPDB 0 1")
    eq(c.raw.call("GET", "k"), ("$", b"one"), "db 0's client sees db 1's keys")
    eq(one.call("GET", "k"), ("$", b"zero"), "db 1's client sees db 0's keys")
    kind, ttl = c.raw.call("TTL", "only1")
    ok(kind == ":" and 90 <= ttl <= 100, f"a key's TTL swapped with it: {ttl}")
    eq(c.raw.call("SWAPDB", "3", "3"), ("+", "OK"), "SWAPDB of a db with itself")
    c.error("ERR invalid first DB index", "SWAPDB", "x", "1")
    c.error("ERR invalid second DB index", "SWAPDB", "1", "x")
    c.error("ERR DB index is out of range", "SWAPDB", "0", "16")


@suite.check(since=7)
def check_active_expiry_in_every_database(c):
    raws = {db: in_db(c, db) for db in (0, 6, 15)}
    for db, raw in raws.items():
        for i in range(10):
            eq(raw.call("SET", f"gone{i}", "v", "PX", "100"), ("+", "OK"), f"SET gone{i} PX 100 in db {db}")
        raw.call("SET", "stays", "v")
    for db, raw in raws.items():
        left = wait_until(lambda: raw.call("DBSIZE") == (":", 1), timeout=5.0)
        ok(left, f"keys set with PX 100 and never read leave db {db}'s DBSIZE within 5 s ({raw.call('DBSIZE')})")


@suite.check(since=7)
def check_copy_to_another_database(c):
    c.r.set("src", "v", ex=100)
    eq(c.raw.call("COPY", "src", "src", "DB", "4"), (":", 1), "COPY to the same name in db 4")
    four = in_db(c, 4)
    eq(four.call("GET", "src"), ("$", b"v"), "the copy is in db 4")
    eq(c.raw.call("COPY", "src", "src", "DB", "4"), (":", 0), "COPY onto an existing key without REPLACE")
    eq(c.raw.call("COPY", "src", "src", "DB", "4", "REPLACE"), (":", 1), "COPY ... REPLACE")
    c.error("ERR DB index is out of range", "COPY", "src", "dst", "DB", "16")
    c.error("ERR source and destination objects are the same", "COPY", "src", "src", "DB", "0")


@suite.check(since=7)
def check_blocked_clients_wait_on_their_database(c):
    blocked = in_db(c, 2)
    blocked.send(encode_command("BLPOP", "q", "0"))
    wait_blocked(c, 1)
    eq(c.raw.call("RPUSH", "q", "zero"), (":", 1), "a push to q of db 0")
    eq(c.r.llen("q"), 1, "does not serve a client blocked on q of db 2")
    two = in_db(c, 2)
    eq(two.call("RPUSH", "q", "two"), (":", 1), "a push to q of db 2")
    eq(values(blocked.read()), [b"q", b"two"], "serves it")
    blocked.send(encode_command("BLPOP", "q", "0"))
    wait_blocked(c, 1)
    eq(c.raw.call("MOVE", "q", "2"), (":", 1), "MOVE of a list to the db a client waits in")
    eq(values(blocked.read()), [b"q", b"zero"], "serves it")
    blocked.send(encode_command("BLPOP", "w", "0"))
    wait_blocked(c, 1)
    c.r.rpush("w", "swapped")
    eq(c.raw.call("SWAPDB", "0", "2"), ("+", "OK"), "SWAPDB brings a list to the db a client waits in")
    eq(values(blocked.read()), [b"w", b"swapped"], "serves it")
    eq(blocked_clients(c), 0, "no client blocked")


@suite.check(since=7)
def check_watch_keys_of_its_database(c):
    watcher = in_db(c, 1)
    eq(watcher.call("WATCH", "k"), ("+", "OK"), "WATCH k in db 1")
    c.r.set("k", "db0")
    watcher.call("MULTI")
    watcher.call("SET", "k", "mine")
    eq(values(watcher.call("EXEC")), ["OK"], "a write to k of db 0 does not abort it")
    watcher.call("WATCH", "k")
    watcher.call("SELECT", "0")
    in_db(c, 1).call("SET", "k", "theirs")
    watcher.call("MULTI")
    watcher.call("GET", "k")
    eq(watcher.call("EXEC"), ("*", None), "a write to k of db 1 aborts it, though the client SELECTed db 0 since")
    watcher.call("WATCH", "k")
    eq(c.raw.call("SWAPDB", "0", "1"), ("+", "OK"), "SWAPDB of the watched key's db")
    watcher.call("MULTI")
    watcher.call("GET", "k")
    eq(watcher.call("EXEC"), ("*", None), "a SWAPDB of the watched key's db aborts it")


# ---------------------------------------------------------------- CONFIG SET and OBJECT ENCODING (v7)


# Redis 7.0's built-in defaults (its sample redis.conf sets hash-max-listpack-entries to 128).
ENCODING_SETTINGS = {"hash-max-listpack-entries": b"512", "hash-max-listpack-value": b"64", "set-max-intset-entries": b"512"}


def config_failed(name, why):
    return f"ERR CONFIG SET failed (possibly related to argument '{name}') - {why}"


@suite.check(since=7)
def check_config_set_get(c):
    try:
        for name, value in ENCODING_SETTINGS.items():
            eq(values(c.raw.call("CONFIG", "GET", name)), [name.encode(), value], f"CONFIG GET {name}: the default")
        eq(c.raw.call("CONFIG", "SET", "hash-max-listpack-entries", "3", "set-max-intset-entries", "2"), ("+", "OK"),
           "CONFIG SET of two parameters")
        eq(dict(c.r.config_get("hash-max-*")), {"hash-max-listpack-entries": "3", "hash-max-ziplist-entries": "3",
                                                 "hash-max-listpack-value": "64", "hash-max-ziplist-value": "64"},
           "CONFIG GET hash-max-*: the old names too")
        eq(c.raw.call("CONFIG", "SET", "hash-max-ziplist-value", "5"), ("+", "OK"), "CONFIG SET by the old name")
        eq(values(c.raw.call("CONFIG", "GET", "hash-max-listpack-value")), [b"hash-max-listpack-value", b"5"], "set by it")
        c.error("ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'", "CONFIG", "SET", "nosuch", "1")
        c.error(config_failed("databases", "can't set immutable config"), "CONFIG", "SET", "databases", "3")
        c.error(config_failed("set-max-intset-entries", "argument couldn't be parsed into an integer"),
                "CONFIG", "SET", "set-max-intset-entries", "x")
        c.error(config_failed("set-max-intset-entries", "argument must be between 0 and 9223372036854775807 inclusive"),
                "CONFIG", "SET", "set-max-intset-entries", "-1")
        c.error(config_failed("set-max-intset-entries", "duplicate parameter"),
                "CONFIG", "SET", "set-max-intset-entries", "1", "set-max-intset-entries", "2")
        c.error(config_failed("appendonly", "argument must be 'yes' or 'no'"), "CONFIG", "SET", "appendonly", "maybe")
        c.error("ERR wrong number of arguments for 'config|set' command", "CONFIG", "SET", "appendonly")
        c.error(SYNTAX, "CONFIG", "SET", "appendonly", "no", "save")
        eq(c.raw.call("CONFIG", "SET", "set-max-intset-entries", "7", "nosuch", "1")[0], "-", "a bad pair refuses all")
        eq(values(c.raw.call("CONFIG", "GET", "set-max-intset-entries")), [b"set-max-intset-entries", b"2"], "none applied")
        eq(c.raw.call("CONFIG", "SET", "appendonly", "no", "save", ""), ("+", "OK"), "CONFIG SET appendonly no, save ''")
    finally:
        c.r.config_set("hash-max-listpack-entries", 512)
        c.r.config_set("hash-max-listpack-value", 64)
        c.r.config_set("set-max-intset-entries", 512)


@suite.check(since=7)
def check_object_encoding(c):
    for value, encoding in (("123", b"int"), ("-5", b"int"), ("0123", b"embstr"), ("+1", b"embstr"), (" 1", b"embstr"),
                            ("9223372036854775807", b"int"), ("9223372036854775808", b"embstr"), ("x" * 44, b"embstr"),
                            ("x" * 45, b"raw")):
        c.r.set("s", value)
        eq(c.raw.call("OBJECT", "ENCODING", "s"), ("$", encoding), f"OBJECT ENCODING of the string {value!r}")
    c.r.rpush("l", "a")
    eq(c.raw.call("OBJECT", "ENCODING", "l"), ("$", b"quicklist"), "a list")
    c.r.hset("h", mapping={f"f{i}": "v" for i in range(512)})
    eq(c.raw.call("OBJECT", "ENCODING", "h"), ("$", b"listpack"), "a hash of 512 short fields")
    c.r.hset("h", "f512", "v")
    eq(c.raw.call("OBJECT", "ENCODING", "h"), ("$", b"hashtable"), "of 513")
    c.r.hset("h2", "f", "v" * 64)
    eq(c.raw.call("OBJECT", "ENCODING", "h2"), ("$", b"listpack"), "a hash with a value of 64 bytes")
    c.r.hset("h3", "f", "v" * 65)
    eq(c.raw.call("OBJECT", "ENCODING", "h3"), ("$", b"hashtable"), "of 65 bytes")
    c.r.hset("h4", "f" * 65, "v")
    eq(c.raw.call("OBJECT", "ENCODING", "h4"), ("$", b"hashtable"), "a field of 65 bytes")
    c.r.sadd("s1", *range(512))
    eq(c.raw.call("OBJECT", "ENCODING", "s1"), ("$", b"intset"), "a set of 512 integers")
    c.r.sadd("s1", 512)
    eq(c.raw.call("OBJECT", "ENCODING", "s1"), ("$", b"hashtable"), "of 513")
    c.r.sadd("s2", 1, "a")
    eq(c.raw.call("OBJECT", "ENCODING", "s2"), ("$", b"hashtable"), "a set with a member that is no integer")
    try:
        c.r.config_set("hash-max-listpack-entries", 1)
        c.r.config_set("set-max-intset-entries", 1)
        c.r.hset("h5", "a", "1")
        eq(c.raw.call("OBJECT", "ENCODING", "h5"), ("$", b"listpack"), "one field, hash-max-listpack-entries 1")
        c.r.hset("h5", "b", "1")
        eq(c.raw.call("OBJECT", "ENCODING", "h5"), ("$", b"hashtable"), "two")
        c.r.sadd("s3", 1)
        eq(c.raw.call("OBJECT", "ENCODING", "s3"), ("$", b"intset"), "one member, set-max-intset-entries 1")
        c.r.sadd("s3", 2)
        eq(c.raw.call("OBJECT", "ENCODING", "s3"), ("$", b"hashtable"), "two")
    finally:
        c.r.config_set("hash-max-listpack-entries", 512)
        c.r.config_set("set-max-intset-entries", 512)


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



# ---------------------------------------------------------------- the rest of each type's commands (v6)

NO_SUCH_KEY = "ERR no such key"


def arity(name):
    return f"ERR wrong number of arguments for '{name}' command"


@suite.check(until=5)
def check_lacks_v6_commands(c):
    for command in (["GETDEL", "k"], ["LINDEX", "l", "0"], ["HMGET", "h", "f"], ["SPOP", "s"], ["RENAME", "a", "b"],
                    ["TIME"]):
        c.error(unknown(*command), *command)


@suite.check(since=6)
def check_getex(c):
    c.r.set("s", "hello")
    c.r.rpush("l", "a")
    eq(c.raw.call("GETEX", "s"), ("$", b"hello"), "GETEX without options")
    eq(c.raw.call("TTL", "s"), (":", -1), "GETEX without options leaves no deadline")
    eq(c.raw.call("GETEX", "s", "EX", "100"), ("$", b"hello"), "GETEX EX")
    eq(c.raw.call("TTL", "s"), (":", 100), "GETEX EX sets the TTL")
    eq(c.r.getex("s", persist=True), b"hello", "redis-py getex persist")
    eq(c.raw.call("TTL", "s"), (":", -1), "GETEX PERSIST clears the TTL")
    eq(c.raw.call("GETEX", "s", "PX", "5000", "PX", "20000"), ("$", b"hello"), "GETEX with an option repeated")
    ok(10000 < c.r.pttl("s") <= 20000, "the last of a repeated option counts")
    eq(c.raw.call("GETEX", "s", "EXAT", "1"), ("$", b"hello"), "GETEX EXAT in the past answers the value")
    eq(c.raw.call("EXISTS", "s"), (":", 0), "GETEX EXAT in the past removes the key")
    eq(c.raw.call("GETEX", "missing", "EX", "0"), ("$", None), "GETEX of a missing key: nil, the time unchecked")
    c.r.set("s", "v")
    c.error(SYNTAX, "GETEX", "s", "EX", "10", "PX", "20")
    c.error(SYNTAX, "GETEX", "s", "PERSIST", "EX", "10")
    c.error(SYNTAX, "GETEX", "s", "EX")
    c.error(SYNTAX, "GETEX", "missing", "BADOPT")
    c.error("ERR invalid expire time in 'getex' command", "GETEX", "s", "EX", "0")
    c.error("ERR invalid expire time in 'getex' command", "GETEX", "s", "EX", "-1")
    c.error("ERR invalid expire time in 'getex' command", "GETEX", "s", "EX", "9223372036854775")
    c.error("ERR invalid expire time in 'getex' command", "GETEX", "s", "PX", "9223372036854775807")
    c.error(NOT_INTEGER, "GETEX", "s", "EX", "abc")
    c.error(WRONGTYPE, "GETEX", "l")
    c.error(arity("getex"), "GETEX")


@suite.check(since=6)
def check_getdel_getset(c):
    c.r.set("s", "hello", ex=100)
    c.r.rpush("l", "a")
    eq(c.raw.call("GETDEL", "s"), ("$", b"hello"), "GETDEL")
    eq(c.raw.call("GETDEL", "s"), ("$", None), "GETDEL of the key it removed")
    eq(c.r.getdel("missing"), None, "redis-py getdel of a missing key")
    c.error(WRONGTYPE, "GETDEL", "l")
    c.error(arity("getdel"), "GETDEL", "a", "b")
    eq(c.raw.call("GETSET", "g", "v1"), ("$", None), "GETSET of a new key")
    c.r.expire("g", 100)
    eq(c.raw.call("GETSET", "g", "v2"), ("$", b"v1"), "GETSET answers the old value")
    eq(c.raw.call("TTL", "g"), (":", -1), "GETSET removes the TTL")
    eq(c.r.get("g"), b"v2", "GETSET set the new value")
    c.error(WRONGTYPE, "GETSET", "l", "x")
    c.error(arity("getset"), "GETSET", "g")


@suite.check(since=6)
def check_setnx_setex_psetex(c):
    c.r.rpush("l", "a")
    eq(c.raw.call("SETNX", "k", "1"), (":", 1), "SETNX of a new key")
    eq(c.raw.call("SETNX", "k", "2"), (":", 0), "SETNX of an existing key")
    eq(c.raw.call("SETNX", "l", "2"), (":", 0), "SETNX of a key of another type")
    eq(c.r.get("k"), b"1", "SETNX kept the first value")
    eq(c.raw.call("SETEX", "e", "10", "v"), ("+", "OK"), "SETEX")
    eq(c.raw.call("TTL", "e"), (":", 10), "SETEX's TTL")
    eq(c.raw.call("SETEX", "l", "10", "v"), ("+", "OK"), "SETEX overwrites a key of any type")
    eq(c.raw.call("PSETEX", "p", "1500", "v"), ("+", "OK"), "PSETEX")
    ok(1000 < c.r.pttl("p") <= 1500, "PSETEX's PTTL")
    c.error("ERR invalid expire time in 'setex' command", "SETEX", "e", "0", "v")
    c.error("ERR invalid expire time in 'setex' command", "SETEX", "e", "-5", "v")
    c.error("ERR invalid expire time in 'setex' command", "SETEX", "e", "9223372036854775807", "v")
    c.error("ERR invalid expire time in 'psetex' command", "PSETEX", "e", "0", "v")
    c.error("ERR invalid expire time in 'psetex' command", "PSETEX", "e", "9223372036854775807", "v")
    c.error(NOT_INTEGER, "SETEX", "e", "abc", "v")
    c.error(arity("setex"), "SETEX", "e", "10")
    c.error(arity("setnx"), "SETNX", "e")


@suite.check(since=6)
def check_msetnx(c):
    eq(c.raw.call("MSETNX", "a", "1", "b", "2"), (":", 1), "MSETNX of new keys")
    eq(c.raw.call("MSETNX", "a", "x", "c", "3"), (":", 0), "MSETNX with a key that exists")
    eq(c.raw.call("EXISTS", "c"), (":", 0), "MSETNX sets none when one exists")
    eq(c.r.mget("a", "b"), [b"1", b"2"], "MSETNX set them all")
    eq(c.r.msetnx({"x": "1", "y": "2"}), True, "redis-py msetnx")
    c.error(arity("msetnx"), "MSETNX", "a", "1", "b")
    c.error(arity("msetnx"), "MSETNX", "a")


@suite.check(since=6)
def check_strlen_append(c):
    c.r.rpush("l", "a")
    c.r.set("n", 12345)
    eq(c.raw.call("STRLEN", "n"), (":", 5), "STRLEN")
    eq(c.raw.call("STRLEN", "missing"), (":", 0), "STRLEN of a missing key")
    c.error(WRONGTYPE, "STRLEN", "l")
    eq(c.raw.call("APPEND", "a", "hello"), (":", 5), "APPEND creates the key")
    eq(c.raw.call("APPEND", "a", " world"), (":", 11), "APPEND answers the new length")
    eq(c.r.get("a"), b"hello world", "APPEND's value")
    c.r.set("t", "v", ex=100)
    eq(c.raw.call("APPEND", "t", "x"), (":", 2), "APPEND to a key with a TTL")
    eq(c.raw.call("TTL", "t"), (":", 100), "APPEND keeps the TTL")
    c.error(WRONGTYPE, "APPEND", "l", "x")
    c.error(arity("append"), "APPEND", "a")


@suite.check(since=6)
def check_getrange(c):
    c.r.set("s", "hello world")
    c.r.rpush("l", "a")
    for start, end, expected in ((0, 4, b"hello"), (-5, -1, b"world"), (-1, -5, b""), (5, 2, b""), (0, 100, b"hello world"),
                                 (-100, 2, b"hel"), (100, 200, b""), (-3, -100, b""), (0, -100, b"h")):
        eq(c.raw.call("GETRANGE", "s", start, end), ("$", expected), f"GETRANGE s {start} {end}")
    eq(c.raw.call("GETRANGE", "missing", "0", "1"), ("$", b""), "GETRANGE of a missing key")
    c.error(NOT_INTEGER, "GETRANGE", "s", "a", "1")
    c.error(NOT_INTEGER, "GETRANGE", "missing", "a", "1")
    c.error(WRONGTYPE, "GETRANGE", "l", "0", "1")


@suite.check(since=6)
def check_setrange(c):
    c.r.rpush("l", "a")
    eq(c.raw.call("SETRANGE", "s", "5", "hi"), (":", 7), "SETRANGE of a new key pads with zero bytes")
    eq(c.r.get("s"), b"\x00\x00\x00\x00\x00hi", "the padded value")
    eq(c.raw.call("SETRANGE", "s", "0", "HELLO"), (":", 7), "SETRANGE overwrites")
    eq(c.r.get("s"), b"HELLOhi", "the overwritten value")
    eq(c.raw.call("SETRANGE", "s", "1", ""), (":", 7), "SETRANGE of nothing answers the length")
    eq(c.raw.call("SETRANGE", "new", "1", ""), (":", 0), "SETRANGE of nothing on a missing key")
    eq(c.raw.call("EXISTS", "new"), (":", 0), "... does not create it")
    c.error("ERR offset is out of range", "SETRANGE", "s", "-1", "x")
    c.error("ERR offset is out of range", "SETRANGE", "l", "-1", "x")
    c.error(NOT_INTEGER, "SETRANGE", "s", "abc", "x")
    c.error(WRONGTYPE, "SETRANGE", "l", "0", "x")
    c.error("ERR string exceeds maximum allowed size (proto-max-bulk-len)", "SETRANGE", "s", "536870912", "x")
    eq(c.raw.call("SETRANGE", "new", "536870912", ""), (":", 0), "SETRANGE of nothing beyond the limit")


@suite.check(since=6)
def check_incrbyfloat(c):
    c.r.rpush("l", "a")
    c.r.set("f", "10.50")
    eq(c.raw.call("INCRBYFLOAT", "f", "0.1"), ("$", b"10.6"), "INCRBYFLOAT")
    eq(c.raw.call("INCRBYFLOAT", "f", "-5"), ("$", b"5.6"), "INCRBYFLOAT of a negative")
    c.r.set("f", "5.0e3")
    eq(c.raw.call("INCRBYFLOAT", "f", "2.0e2"), ("$", b"5200"), "INCRBYFLOAT with exponents")
    c.r.set("f", "0.1")
    eq(c.raw.call("INCRBYFLOAT", "f", "0.2"), ("$", b"0.3"), "0.1 + 0.2 as Redis prints it")
    eq(c.r.get("f"), b"0.3", "the value stored as answered")
    c.r.set("f", "-0.5")
    eq(c.raw.call("INCRBYFLOAT", "f", "0.5"), ("$", b"0"), "no negative zero")
    c.r.set("f", "12345678901234567890")
    eq(c.raw.call("INCRBYFLOAT", "f", "1"), ("$", b"12345678901234567891"), "20 digits")
    c.r.set("f", "1.23456789012345678")
    eq(c.raw.call("INCRBYFLOAT", "f", "0"), ("$", b"1.23456789012345678"), "17 decimals")
    eq(c.raw.call("INCRBYFLOAT", "n", "3"), ("$", b"3"), "INCRBYFLOAT of a missing key")
    for text, expected in ((".5", b"3.5"), ("1.", b"4.5"), ("+2", b"6.5"), ("-0", b"6.5"), ("1.5e1", b"21.5")):
        eq(c.raw.call("INCRBYFLOAT", "n", text), ("$", expected), f"INCRBYFLOAT n {text}")
    # Redis computes in 80-bit long double (64-bit mantissa, exponents to ±16383) and prints 17 decimals.
    c.r.set("z", "1e20")
    eq(c.raw.call("INCRBYFLOAT", "z", "1.234567890123456789"), ("$", b"100000000000000000000"), "beyond a 64-bit mantissa")
    c.r.set("z", "9496.541201362685")
    eq(c.raw.call("INCRBYFLOAT", "z", "16"), ("$", b"9512.5412013626850003"), "long double's own rounding, shown in 17 decimals")
    kind, big = c.raw.call("INCRBYFLOAT", "huge", "1e400")
    ok(kind == "$" and len(big) == 401 and big.startswith(b"1000000000000000000028188068394758651458645343"), f"1e400: {short(big)}")
    eq(c.raw.call("INCRBYFLOAT", "tiny", "1e-4950"), ("$", b"0"), "a subnormal is a float (printed as 0)")
    c.error("ERR value is not a valid float", "INCRBYFLOAT", "n", "1e5000")
    c.error("ERR value is not a valid float", "INCRBYFLOAT", "n", "1e-5000")
    c.r.set("t", "1", ex=100)
    eq(c.r.incrbyfloat("t", 1.5), 2.5, "redis-py incrbyfloat")
    eq(c.raw.call("TTL", "t"), (":", 100), "INCRBYFLOAT keeps the TTL")
    c.r.set("bad", "xyz")
    c.error("ERR value is not a valid float", "INCRBYFLOAT", "bad", "1")
    c.error("ERR value is not a valid float", "INCRBYFLOAT", "n", "abc")
    c.error("ERR value is not a valid float", "INCRBYFLOAT", "n", " 1")
    c.error("ERR increment would produce NaN or Infinity", "INCRBYFLOAT", "n", "inf")
    c.error(WRONGTYPE, "INCRBYFLOAT", "l", "abc")
    c.error(arity("incrbyfloat"), "INCRBYFLOAT", "n")


@suite.check(since=6)
def check_getbit_setbit(c):
    c.r.rpush("l", "a")
    eq(c.raw.call("SETBIT", "b", "7", "1"), (":", 0), "SETBIT answers the old bit")
    eq(c.r.get("b"), b"\x01", "bit 7 is the last of the first byte")
    eq(c.raw.call("SETBIT", "b", "7", "0"), (":", 1), "SETBIT clears")
    eq(c.raw.call("SETBIT", "b", "100", "1"), (":", 0), "SETBIT far away")
    eq(c.raw.call("STRLEN", "b"), (":", 13), "the string grew to hold the bit")
    eq(c.raw.call("GETBIT", "b", "100"), (":", 1), "GETBIT of a set bit")
    eq(c.raw.call("GETBIT", "b", "99"), (":", 0), "GETBIT of a clear bit")
    eq(c.raw.call("GETBIT", "b", "100000"), (":", 0), "GETBIT beyond the string")
    eq(c.raw.call("GETBIT", "missing", "5"), (":", 0), "GETBIT of a missing key")
    eq(c.r.setbit("r", 3, 1), 0, "redis-py setbit")
    eq(c.r.getbit("r", 3), 1, "redis-py getbit")
    for offset in ("-1", "abc", "4294967296"):
        c.error("ERR bit offset is not an integer or out of range", "GETBIT", "b", offset)
        c.error("ERR bit offset is not an integer or out of range", "SETBIT", "b", offset, "1")
    for bit in ("2", "abc", "-1", "01"):
        c.error("ERR bit is not an integer or out of range", "SETBIT", "b", "1", bit)
    c.error("ERR bit is not an integer or out of range", "SETBIT", "l", "1", "5")
    c.error(WRONGTYPE, "SETBIT", "l", "1", "1")
    c.error(WRONGTYPE, "GETBIT", "l", "0")


@suite.check(since=6)
def check_bitcount(c):
    c.r.rpush("l", "a")
    c.r.set("f", "foobar")
    for args, expected in (((), 26), (("0", "0"), 4), (("1", "1"), 6), (("1", "1", "BYTE"), 6), (("5", "30", "BIT"), 17),
                           (("-2", "-1"), 7), (("-100", "100"), 26), (("3", "1"), 0), (("-1", "-3"), 0),
                           (("0", "-1", "bit"), 26), (("-5", "-1", "bit"), 2)):
        eq(c.raw.call("BITCOUNT", "f", *args), (":", expected), f"BITCOUNT f {' '.join(args)}")
    eq(c.raw.call("BITCOUNT", "missing"), (":", 0), "BITCOUNT of a missing key")
    eq(c.raw.call("BITCOUNT", "missing", "a", "b"), (":", 0), "BITCOUNT of a missing key reads no range")
    c.error(SYNTAX, "BITCOUNT", "f", "0")
    c.error(SYNTAX, "BITCOUNT", "f", "0", "1", "WORD")
    c.error(SYNTAX, "BITCOUNT", "f", "0", "1", "2")
    c.error(NOT_INTEGER, "BITCOUNT", "f", "a", "1")
    c.error(WRONGTYPE, "BITCOUNT", "l")


@suite.check(since=6)
def check_lcs(c):
    c.r.rpush("l", "a")
    c.r.mset({"k1": "ohmytext", "k2": "mynewtext"})
    eq(c.raw.call("LCS", "k1", "k2"), ("$", b"mytext"), "LCS")
    eq(c.raw.call("LCS", "k1", "k2", "LEN"), (":", 6), "LCS LEN")
    eq(values(c.raw.call("LCS", "k1", "k2", "IDX")),
       [b"matches", [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], b"len", 6], "LCS IDX")
    eq(values(c.raw.call("LCS", "k1", "k2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN")),
       [b"matches", [[[4, 7], [5, 8], 4]], b"len", 6], "LCS IDX MINMATCHLEN WITHMATCHLEN")
    eq(values(c.raw.call("LCS", "k1", "k2", "MINMATCHLEN", "-5", "IDX")),
       [b"matches", [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], b"len", 6], "a negative MINMATCHLEN is 0")
    eq(c.raw.call("LCS", "k1", "k2", "LEN", "WITHMATCHLEN"), (":", 6), "LCS LEN WITHMATCHLEN")
    eq(c.raw.call("LCS", "k1", "missing"), ("$", b""), "LCS with a missing key")
    eq(values(c.raw.call("LCS", "missing", "other", "IDX")), [b"matches", [], b"len", 0], "LCS IDX of two missing keys")
    eq(c.r.lcs("k1", "k2"), b"mytext", "redis-py lcs")
    c.error("ERR If you want both the length and indexes, please just use IDX.", "LCS", "k1", "k2", "LEN", "IDX")
    c.error(NOT_INTEGER, "LCS", "k1", "k2", "MINMATCHLEN", "abc")
    c.error(SYNTAX, "LCS", "k1", "k2", "MINMATCHLEN")
    c.error(SYNTAX, "LCS", "k1", "k2", "FOO")
    c.error("ERR The specified keys must contain string values", "LCS", "k1", "l")
    c.error("ERR The specified keys must contain string values", "LCS", "l", "k1", "FOO")
    c.error(arity("lcs"), "LCS", "k1")


@suite.check(since=6)
def check_lindex_lset(c):
    c.r.set("s", "v")
    c.r.rpush("l", "a", "b", "c", "b", "a")
    for index, expected in (("0", b"a"), ("1", b"b"), ("-1", b"a"), ("-2", b"b"), ("10", None), ("-10", None)):
        eq(c.raw.call("LINDEX", "l", index), ("$", expected), f"LINDEX l {index}")
    eq(c.raw.call("LINDEX", "missing", "x"), ("$", None), "LINDEX of a missing key reads no index")
    c.error(NOT_INTEGER, "LINDEX", "l", "x")
    c.error(WRONGTYPE, "LINDEX", "s", "x")
    eq(c.raw.call("LSET", "l", "1", "B"), ("+", "OK"), "LSET")
    eq(c.raw.call("LSET", "l", "-1", "A"), ("+", "OK"), "LSET from the end")
    eq(c.r.lrange("l", 0, -1), [b"a", b"B", b"c", b"b", b"A"], "after LSET")
    c.error("ERR index out of range", "LSET", "l", "10", "x")
    c.error(NOT_INTEGER, "LSET", "l", "x", "y")
    c.error(NO_SUCH_KEY, "LSET", "missing", "x", "y")
    c.error(WRONGTYPE, "LSET", "s", "x", "y")


@suite.check(since=6)
def check_linsert(c):
    c.r.set("s", "v")
    c.r.rpush("l", "a", "b", "c")
    eq(c.raw.call("LINSERT", "l", "BEFORE", "b", "X"), (":", 4), "LINSERT BEFORE")
    eq(c.raw.call("LINSERT", "l", "after", "c", "Y"), (":", 5), "LINSERT after (any case)")
    eq(c.raw.call("LINSERT", "l", "BEFORE", "nothere", "Z"), (":", -1), "LINSERT without the pivot")
    eq(c.raw.call("LINSERT", "missing", "BEFORE", "a", "b"), (":", 0), "LINSERT into a missing key")
    eq(c.r.lrange("l", 0, -1), [b"a", b"X", b"b", b"c", b"Y"], "after LINSERT")
    c.error(SYNTAX, "LINSERT", "l", "MIDDLE", "b", "Z")
    c.error(SYNTAX, "LINSERT", "s", "MIDDLE", "b", "Z")
    c.error(WRONGTYPE, "LINSERT", "s", "BEFORE", "a", "b")


@suite.check(since=6)
def check_lrem(c):
    c.r.set("s", "v")
    c.r.rpush("l", "a", "b", "a", "c", "a", "a")
    eq(c.raw.call("LREM", "l", "2", "a"), (":", 2), "LREM from the head")
    eq(c.r.lrange("l", 0, -1), [b"b", b"c", b"a", b"a"], "after LREM 2")
    eq(c.raw.call("LREM", "l", "-1", "a"), (":", 1), "LREM from the tail")
    eq(c.r.lrange("l", 0, -1), [b"b", b"c", b"a"], "after LREM -1")
    eq(c.raw.call("LREM", "l", "0", "z"), (":", 0), "LREM of nothing")
    eq(c.r.lrem("l", 0, "a"), 1, "redis-py lrem")
    eq(c.raw.call("LREM", "l", "0", "b"), (":", 1), "LREM all")
    eq(c.raw.call("LREM", "l", "0", "c"), (":", 1), "LREM of the last element")
    eq(c.raw.call("EXISTS", "l"), (":", 0), "LREM of the last element removes the key")
    eq(c.raw.call("LREM", "missing", "0", "a"), (":", 0), "LREM of a missing key")
    c.error(NOT_INTEGER, "LREM", "missing", "x", "a")
    c.error(WRONGTYPE, "LREM", "s", "0", "a")


@suite.check(since=6)
def check_ltrim(c):
    c.r.set("s", "v")
    c.r.rpush("l", "a", "b", "c", "d", "e")
    eq(c.raw.call("LTRIM", "l", "1", "-2"), ("+", "OK"), "LTRIM")
    eq(c.r.lrange("l", 0, -1), [b"b", b"c", b"d"], "after LTRIM")
    eq(c.r.ltrim("l", 0, 100), True, "redis-py ltrim beyond the end")
    eq(c.r.lrange("l", 0, -1), [b"b", b"c", b"d"], "LTRIM beyond the end keeps all")
    eq(c.raw.call("LTRIM", "l", "5", "10"), ("+", "OK"), "LTRIM to an empty range")
    eq(c.raw.call("EXISTS", "l"), (":", 0), "an empty range removes the key")
    eq(c.raw.call("LTRIM", "missing", "0", "1"), ("+", "OK"), "LTRIM of a missing key")
    c.error(NOT_INTEGER, "LTRIM", "missing", "x", "1")
    c.error(WRONGTYPE, "LTRIM", "s", "0", "1")


@suite.check(since=6)
def check_lpos(c):
    c.r.set("s", "v")
    c.r.rpush("l", "a", "b", "c", "1", "2", "3", "c", "c")
    eq(c.raw.call("LPOS", "l", "c"), (":", 2), "LPOS")
    eq(c.raw.call("LPOS", "l", "c", "RANK", "2"), (":", 6), "LPOS RANK 2")
    eq(c.raw.call("LPOS", "l", "c", "RANK", "-1"), (":", 7), "LPOS RANK -1")
    eq(values(c.raw.call("LPOS", "l", "c", "COUNT", "0")), [2, 6, 7], "LPOS COUNT 0: all")
    eq(values(c.raw.call("LPOS", "l", "c", "COUNT", "2")), [2, 6], "LPOS COUNT 2")
    eq(values(c.raw.call("LPOS", "l", "c", "RANK", "-2", "COUNT", "2")), [6, 2], "LPOS RANK -2 COUNT 2")
    eq(c.raw.call("LPOS", "l", "c", "MAXLEN", "2"), ("$", None), "LPOS MAXLEN too short")
    eq(values(c.raw.call("LPOS", "l", "c", "MAXLEN", "3", "COUNT", "0")), [2], "LPOS MAXLEN 3 COUNT 0")
    eq(c.raw.call("LPOS", "l", "z"), ("$", None), "LPOS without a match")
    eq(values(c.raw.call("LPOS", "l", "z", "COUNT", "2")), [], "LPOS COUNT without a match")
    eq(c.raw.call("LPOS", "missing", "z"), ("$", None), "LPOS of a missing key")
    eq(values(c.raw.call("LPOS", "missing", "z", "COUNT", "1")), [], "LPOS COUNT of a missing key")
    eq(c.r.lpos("l", "c", rank=-1, count=3), [7, 6, 2], "redis-py lpos")
    rank_zero = ("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative "
                 "to start from the end of the list")
    c.error(rank_zero, "LPOS", "l", "c", "RANK", "0")
    c.error(rank_zero, "LPOS", "s", "c", "RANK", "0")
    c.error("ERR COUNT can't be negative", "LPOS", "l", "c", "COUNT", "-1")
    c.error("ERR MAXLEN can't be negative", "LPOS", "l", "c", "MAXLEN", "-1")
    c.error(NOT_INTEGER, "LPOS", "l", "c", "RANK", "x")
    c.error(SYNTAX, "LPOS", "l", "c", "FOO", "1")
    c.error(SYNTAX, "LPOS", "l", "c", "RANK")
    c.error(WRONGTYPE, "LPOS", "s", "c")


@suite.check(since=6)
def check_lpushx_rpushx(c):
    c.r.set("s", "v")
    eq(c.raw.call("LPUSHX", "missing", "a"), (":", 0), "LPUSHX to a missing key")
    eq(c.raw.call("RPUSHX", "missing", "a", "b"), (":", 0), "RPUSHX to a missing key")
    eq(c.raw.call("EXISTS", "missing"), (":", 0), "... creates nothing")
    c.r.rpush("l", "m")
    eq(c.raw.call("LPUSHX", "l", "x", "y"), (":", 3), "LPUSHX")
    eq(c.raw.call("RPUSHX", "l", "z"), (":", 4), "RPUSHX")
    eq(c.r.lrange("l", 0, -1), [b"y", b"x", b"m", b"z"], "after LPUSHX and RPUSHX")
    c.error(WRONGTYPE, "LPUSHX", "s", "a")
    c.error(arity("rpushx"), "RPUSHX", "l")


@suite.check(since=6)
def check_hmget_hmset(c):
    c.r.set("s", "v")
    eq(c.raw.call("HMSET", "h", "a", "1", "b", "2"), ("+", "OK"), "HMSET")
    eq(values(c.raw.call("HMGET", "h", "a", "x", "b")), [b"1", None, b"2"], "HMGET")
    eq(values(c.raw.call("HMGET", "missing", "a")), [None], "HMGET of a missing key")
    eq(c.r.hmget("h", ["b", "a"]), [b"2", b"1"], "redis-py hmget")
    c.error(WRONGTYPE, "HMGET", "s", "a")
    c.error(WRONGTYPE, "HMSET", "s", "x", "1")
    c.error(arity("hmget"), "HMGET", "h")
    c.error(arity("hmset"), "HMSET", "h", "c")
    c.error(arity("hmset"), "HMSET", "h", "c", "1", "d")


@suite.check(since=6)
def check_hincrby(c):
    c.r.set("s", "v")
    c.r.hset("h", mapping={"a": "1", "str": "hello", "sp": " 1"})
    eq(c.raw.call("HINCRBY", "h", "a", "5"), (":", 6), "HINCRBY")
    eq(c.raw.call("HINCRBY", "h", "new", "-7"), (":", -7), "HINCRBY of a new field")
    eq(c.raw.call("HINCRBY", "other", "f", "2"), (":", 2), "HINCRBY of a missing key")
    eq(c.raw.call("HINCRBY", "h", "a", "-9223372036854775808"), (":", -9223372036854775802), "HINCRBY by the least integer")
    c.error("ERR increment or decrement would overflow", "HINCRBY", "h", "a", "-7")
    c.error("ERR hash value is not an integer", "HINCRBY", "h", "str", "1")
    c.error("ERR hash value is not an integer", "HINCRBY", "h", "sp", "1")
    c.error(NOT_INTEGER, "HINCRBY", "s", "f", "x")
    c.error(WRONGTYPE, "HINCRBY", "s", "f", "1")


@suite.check(since=6)
def check_hincrbyfloat(c):
    c.r.set("s", "v")
    c.r.hset("h", mapping={"str": "hello", "i": "-9223372036854775808"})
    eq(c.raw.call("HINCRBYFLOAT", "h", "f", "1.5"), ("$", b"1.5"), "HINCRBYFLOAT of a new field")
    eq(c.raw.call("HINCRBYFLOAT", "h", "f", "0.1"), ("$", b"1.6"), "HINCRBYFLOAT")
    eq(c.raw.call("HINCRBYFLOAT", "h", "i", "1.5"), ("$", b"-9223372036854775806.5"), "HINCRBYFLOAT of a large integer")
    eq(c.raw.call("HINCRBYFLOAT", "other", "f", "1"), ("$", b"1"), "HINCRBYFLOAT of a missing key")
    eq(c.r.hincrbyfloat("h", "f", 2), 3.6, "redis-py hincrbyfloat")
    c.error("ERR value is not a valid float", "HINCRBYFLOAT", "h", "f", "abc")
    c.error("ERR value is not a valid float", "HINCRBYFLOAT", "s", "f", "abc")
    c.error("ERR hash value is not a float", "HINCRBYFLOAT", "h", "str", "1")
    c.error("ERR value is NaN or Infinity", "HINCRBYFLOAT", "h", "f", "inf")
    c.error("ERR value is NaN or Infinity", "HINCRBYFLOAT", "new", "f", "-inf")
    eq(c.raw.call("EXISTS", "new"), (":", 0), "an infinite increment creates no key")
    c.error(WRONGTYPE, "HINCRBYFLOAT", "s", "f", "1")


@suite.check(since=6)
def check_hexists_hkeys_hvals_hstrlen(c):
    c.r.set("s", "v")
    c.r.hset("h", mapping={"a": "1", "b": "22"})
    eq(c.raw.call("HEXISTS", "h", "a"), (":", 1), "HEXISTS of a field")
    eq(c.raw.call("HEXISTS", "h", "z"), (":", 0), "HEXISTS of no field")
    eq(c.raw.call("HEXISTS", "missing", "a"), (":", 0), "HEXISTS of a missing key")
    eq(sorted(values(c.raw.call("HKEYS", "h"))), [b"a", b"b"], "HKEYS")
    eq(sorted(values(c.raw.call("HVALS", "h"))), [b"1", b"22"], "HVALS")
    eq(values(c.raw.call("HKEYS", "missing")), [], "HKEYS of a missing key")
    eq(values(c.raw.call("HVALS", "missing")), [], "HVALS of a missing key")
    eq(c.raw.call("HSTRLEN", "h", "b"), (":", 2), "HSTRLEN")
    eq(c.raw.call("HSTRLEN", "h", "z"), (":", 0), "HSTRLEN of no field")
    eq(c.raw.call("HSTRLEN", "missing", "a"), (":", 0), "HSTRLEN of a missing key")
    for command in (["HEXISTS", "s", "a"], ["HKEYS", "s"], ["HVALS", "s"], ["HSTRLEN", "s", "a"]):
        c.error(WRONGTYPE, *command)
    c.error(arity("hkeys"), "HKEYS", "h", "x")


@suite.check(since=6)
def check_hsetnx(c):
    c.r.set("s", "v")
    eq(c.raw.call("HSETNX", "h", "a", "1"), (":", 1), "HSETNX creates the key")
    eq(c.raw.call("HSETNX", "h", "a", "2"), (":", 0), "HSETNX of an existing field")
    eq(c.raw.call("HSETNX", "h", "b", "2"), (":", 1), "HSETNX of a new field")
    eq(c.r.hgetall("h"), {b"a": b"1", b"b": b"2"}, "after HSETNX")
    c.error(WRONGTYPE, "HSETNX", "s", "a", "1")


@suite.check(since=6)
def check_hrandfield(c):
    c.r.set("s", "v")
    fields = {b"a": b"1", b"b": b"2", b"c": b"3"}
    c.r.hset("h", mapping=fields)
    ok(c.raw.call("HRANDFIELD", "h")[1] in fields, "HRANDFIELD answers a field")
    picked = values(c.raw.call("HRANDFIELD", "h", "2"))
    ok(len(picked) == 2 and len(set(picked)) == 2 and set(picked) <= set(fields), f"HRANDFIELD 2: two distinct fields: {picked}")
    eq(sorted(values(c.raw.call("HRANDFIELD", "h", "10"))), sorted(fields), "HRANDFIELD beyond the size: every field")
    repeated = values(c.raw.call("HRANDFIELD", "h", "-7"))
    ok(len(repeated) == 7 and set(repeated) <= set(fields), f"HRANDFIELD -7: seven fields, repeats allowed: {repeated}")
    pairs = values(c.raw.call("HRANDFIELD", "h", "-4", "WITHVALUES"))
    ok(len(pairs) == 8 and all(fields[f] == v for f, v in zip(pairs[0::2], pairs[1::2])), f"HRANDFIELD WITHVALUES: {pairs}")
    eq(values(c.raw.call("HRANDFIELD", "h", "0")), [], "HRANDFIELD 0")
    eq(c.raw.call("HRANDFIELD", "missing"), ("$", None), "HRANDFIELD of a missing key")
    eq(values(c.raw.call("HRANDFIELD", "missing", "3", "WITHVALUES")), [], "HRANDFIELD count of a missing key")
    ok(c.r.hrandfield("h") in fields, "redis-py hrandfield")
    c.error(NOT_INTEGER, "HRANDFIELD", "h", "x")
    c.error(SYNTAX, "HRANDFIELD", "h", "1", "FOO")
    c.error(SYNTAX, "HRANDFIELD", "h", "1", "WITHVALUES", "x")
    c.error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
            "HRANDFIELD", "h", "-9223372036854775808", "WITHVALUES")
    c.error(WRONGTYPE, "HRANDFIELD", "s")
    c.error(WRONGTYPE, "HRANDFIELD", "s", "1")


@suite.check(since=6)
def check_hscan_sscan(c):
    c.r.set("s", "v")
    c.r.hset("h", mapping={"a1": "1", "a2": "2", "b": "3"})
    c.r.sadd("set", "x1", "x2", "y")
    cursor, items = values(c.raw.call("HSCAN", "h", "0"))
    eq(cursor, b"0", "a small hash is scanned in one call")
    eq(dict(zip(items[0::2], items[1::2])), {b"a1": b"1", b"a2": b"2", b"b": b"3"}, "HSCAN answers fields and values")
    cursor, items = values(c.raw.call("HSCAN", "h", "0", "MATCH", "a*", "COUNT", "100"))
    eq(dict(zip(items[0::2], items[1::2])), {b"a1": b"1", b"a2": b"2"}, "HSCAN MATCH")
    eq(dict(c.r.hscan_iter("h")), {b"a1": b"1", b"a2": b"2", b"b": b"3"}, "redis-py hscan_iter")
    cursor, items = values(c.raw.call("SSCAN", "set", "0", "MATCH", "x*"))
    eq((cursor, sorted(items)), (b"0", [b"x1", b"x2"]), "SSCAN MATCH")
    eq(set(c.r.sscan_iter("set")), {b"x1", b"x2", b"y"}, "redis-py sscan_iter")
    eq(values(c.raw.call("HSCAN", "missing", "0", "FOO")), [b"0", []], "HSCAN of a missing key reads no options")
    eq(values(c.raw.call("SSCAN", "missing", "0")), [b"0", []], "SSCAN of a missing key")
    for command in ("HSCAN", "SSCAN"):
        key = "h" if command == "HSCAN" else "set"
        c.error(SYNTAX, command, key, "0", "COUNT", "0")
        c.error(NOT_INTEGER, command, key, "0", "COUNT", "x")
        c.error(SYNTAX, command, key, "0", "TYPE", "string")
        c.error(SYNTAX, command, key, "0", "MATCH")
        c.error("ERR invalid cursor", command, key, "x")
        c.error("ERR invalid cursor", command, key, "18446744073709551616")
        c.error("ERR invalid cursor", command, "s", "x")
        c.error(WRONGTYPE, command, "s", "0")


@suite.check(since=6)
def check_spop(c):
    c.r.set("str", "v")
    c.r.sadd("s", "a", "b", "c")
    ok(c.raw.call("SPOP", "s")[1] in (b"a", b"b", b"c"), "SPOP answers a member")
    eq(c.raw.call("SCARD", "s"), (":", 2), "SPOP removed it")
    eq(values(c.raw.call("SPOP", "s", "0")), [], "SPOP 0")
    eq(len(values(c.raw.call("SPOP", "s", "5"))), 2, "SPOP beyond the size: every member")
    eq(c.raw.call("EXISTS", "s"), (":", 0), "SPOP of the last member removes the key")
    eq(c.raw.call("SPOP", "missing"), ("$", None), "SPOP of a missing key")
    eq(values(c.raw.call("SPOP", "missing", "2")), [], "SPOP count of a missing key")
    c.r.sadd("s", "x")
    eq(c.r.spop("s"), b"x", "redis-py spop")
    for count in ("-1", "x"):
        c.error("ERR value is out of range, must be positive", "SPOP", "missing", count)
    c.error("ERR value is out of range, must be positive", "SPOP", "str", "-1")
    c.error(SYNTAX, "SPOP", "s", "1", "2")
    c.error(WRONGTYPE, "SPOP", "str")
    c.error(WRONGTYPE, "SPOP", "str", "1")


@suite.check(since=6)
def check_srandmember(c):
    c.r.set("str", "v")
    members = {b"a", b"b", b"c"}
    c.r.sadd("s", *members)
    ok(c.raw.call("SRANDMEMBER", "s")[1] in members, "SRANDMEMBER answers a member")
    picked = values(c.raw.call("SRANDMEMBER", "s", "2"))
    ok(len(set(picked)) == 2 and set(picked) <= members, f"SRANDMEMBER 2: distinct members: {picked}")
    eq(sorted(values(c.raw.call("SRANDMEMBER", "s", "9"))), sorted(members), "SRANDMEMBER beyond the size")
    repeated = values(c.raw.call("SRANDMEMBER", "s", "-6"))
    ok(len(repeated) == 6 and set(repeated) <= members, f"SRANDMEMBER -6: repeats allowed: {repeated}")
    eq(c.raw.call("SCARD", "s"), (":", 3), "SRANDMEMBER removes nothing")
    eq(values(c.raw.call("SRANDMEMBER", "s", "0")), [], "SRANDMEMBER 0")
    eq(c.raw.call("SRANDMEMBER", "missing"), ("$", None), "SRANDMEMBER of a missing key")
    eq(values(c.raw.call("SRANDMEMBER", "missing", "2")), [], "SRANDMEMBER count of a missing key")
    c.error(NOT_INTEGER, "SRANDMEMBER", "missing", "x")
    c.error(SYNTAX, "SRANDMEMBER", "s", "1", "2")
    c.error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
            "SRANDMEMBER", "s", "-9223372036854775808")
    c.error(WRONGTYPE, "SRANDMEMBER", "str")


@suite.check(since=6)
def check_smove_smismember(c):
    c.r.set("str", "v")
    c.r.sadd("a", "1", "2", "3")
    c.r.sadd("b", "3", "4")
    eq(c.raw.call("SMOVE", "a", "b", "1"), (":", 1), "SMOVE")
    eq(c.raw.call("SMOVE", "a", "b", "9"), (":", 0), "SMOVE of no member")
    eq(c.raw.call("SMOVE", "missing", "str", "1"), (":", 0), "SMOVE from a missing key checks no destination")
    eq(c.raw.call("SMOVE", "a", "a", "2"), (":", 1), "SMOVE to itself of a member")
    eq(c.raw.call("SMOVE", "a", "a", "9"), (":", 0), "SMOVE to itself of no member")
    eq(c.raw.call("SMOVE", "a", "new", "2"), (":", 1), "SMOVE to a new key")
    eq(c.r.smembers("new"), {b"2"}, "the new key")
    eq(c.r.smove("a", "new", "3"), True, "redis-py smove of the last member")
    eq(c.raw.call("EXISTS", "a"), (":", 0), "moving the last member removes the source")
    eq(values(c.raw.call("SMISMEMBER", "b", "3", "9", "1")), [1, 0, 1], "SMISMEMBER")
    eq(values(c.raw.call("SMISMEMBER", "missing", "1")), [0], "SMISMEMBER of a missing key")
    eq(c.r.smismember("b", ["4", "5"]), [1, 0], "redis-py smismember")
    c.error(WRONGTYPE, "SMOVE", "str", "b", "1")
    c.error(WRONGTYPE, "SMOVE", "b", "str", "9")
    c.error(WRONGTYPE, "SMISMEMBER", "str", "1")
    c.error(arity("smismember"), "SMISMEMBER", "b")
    c.error(arity("smove"), "SMOVE", "a", "b")


@suite.check(since=6)
def check_sinter_sunion_sdiff(c):
    c.r.set("str", "v")
    c.r.sadd("a", "1", "2", "3", "4")
    c.r.sadd("b", "3", "4", "5")
    c.r.sadd("c", "4", "6")
    eq(sorted(values(c.raw.call("SINTER", "a", "b"))), [b"3", b"4"], "SINTER")
    eq(sorted(values(c.raw.call("SINTER", "a", "b", "c"))), [b"4"], "SINTER of three")
    eq(values(c.raw.call("SINTER", "a", "missing")), [], "SINTER with a missing key")
    eq(sorted(values(c.raw.call("SUNION", "a", "c", "missing"))), [b"1", b"2", b"3", b"4", b"6"], "SUNION")
    eq(sorted(values(c.raw.call("SDIFF", "a", "b"))), [b"1", b"2"], "SDIFF")
    eq(sorted(values(c.raw.call("SDIFF", "a", "missing"))), [b"1", b"2", b"3", b"4"], "SDIFF with a missing key")
    eq(values(c.raw.call("SDIFF", "missing", "a")), [], "SDIFF of a missing key")
    eq(c.r.sinter("a", "c"), {b"4"}, "redis-py sinter")
    eq(c.r.sunion("b", "c"), {b"3", b"4", b"5", b"6"}, "redis-py sunion")
    eq(c.r.sdiff("b", "a"), {b"5"}, "redis-py sdiff")
    for command in ("SINTER", "SUNION", "SDIFF"):
        c.error(WRONGTYPE, command, "a", "missing", "str")
        c.error(WRONGTYPE, command, "str", "missing")
        c.error(arity(command.lower()), command)


@suite.check(since=6)
def check_set_store_commands(c):
    c.r.set("str", "v")
    c.r.sadd("a", "1", "2", "3", "4")
    c.r.sadd("b", "3", "4", "5")
    c.r.sadd("c", "4", "6")
    eq(c.raw.call("SINTERSTORE", "d", "a", "b"), (":", 2), "SINTERSTORE")
    eq(c.r.smembers("d"), {b"3", b"4"}, "SINTERSTORE's set")
    c.r.set("t", "v", ex=100)
    eq(c.raw.call("SUNIONSTORE", "t", "a", "c"), (":", 5), "SUNIONSTORE over a string with a TTL")
    eq((c.raw.call("TYPE", "t"), c.raw.call("TTL", "t")), (("+", "set"), (":", -1)), "the destination replaced, its TTL gone")
    eq(c.raw.call("SDIFFSTORE", "e", "a", "b", "c"), (":", 2), "SDIFFSTORE")
    eq(c.r.smembers("e"), {b"1", b"2"}, "SDIFFSTORE's set")
    eq(c.raw.call("SDIFFSTORE", "e", "b", "b"), (":", 0), "SDIFFSTORE of an empty result")
    eq(c.raw.call("EXISTS", "e"), (":", 0), "an empty result removes the destination")
    eq(c.raw.call("SINTERSTORE", "str", "a", "missing"), (":", 0), "SINTERSTORE of an empty result over a string")
    eq(c.raw.call("EXISTS", "str"), (":", 0), "... removes it")
    eq(c.raw.call("SINTERSTORE", "a", "a", "b"), (":", 2), "SINTERSTORE into one of its sources")
    eq(c.r.smembers("a"), {b"3", b"4"}, "the source replaced by the result")
    eq(c.r.sunionstore("u", ["b", "c"]), 4, "redis-py sunionstore")
    c.r.set("str", "v")
    c.error(WRONGTYPE, "SUNIONSTORE", "f", "a", "str")
    eq(c.raw.call("EXISTS", "f"), (":", 0), "a WRONGTYPE writes no destination")
    c.error(arity("sinterstore"), "SINTERSTORE", "f")


@suite.check(since=6)
def check_sintercard(c):
    c.r.set("str", "v")
    c.r.sadd("a", "1", "2", "3", "4")
    c.r.sadd("b", "3", "4", "5")
    eq(c.raw.call("SINTERCARD", "2", "a", "b"), (":", 2), "SINTERCARD")
    eq(c.raw.call("SINTERCARD", "2", "a", "b", "LIMIT", "1"), (":", 1), "SINTERCARD LIMIT 1")
    eq(c.raw.call("SINTERCARD", "2", "a", "b", "LIMIT", "0"), (":", 2), "SINTERCARD LIMIT 0: no limit")
    eq(c.raw.call("SINTERCARD", "1", "a"), (":", 4), "SINTERCARD of one set")
    eq(c.raw.call("SINTERCARD", "2", "a", "missing"), (":", 0), "SINTERCARD with a missing key")
    eq(c.raw.call("SINTERCARD", "2", "a", "b", "LIMIT", "1", "LIMIT", "5"), (":", 2), "the last LIMIT counts")
    eq(c.r.sintercard(2, ["a", "b"]), 2, "redis-py sintercard")
    for numkeys in ("0", "-1", "x"):
        c.error("ERR numkeys should be greater than 0", "SINTERCARD", numkeys, "a")
    c.error("ERR Number of keys can't be greater than number of args", "SINTERCARD", "3", "a", "b")
    c.error("ERR Number of keys can't be greater than number of args", "SINTERCARD", "9223372036854775807", "a")
    c.error("ERR LIMIT can't be negative", "SINTERCARD", "2", "a", "b", "LIMIT", "-1")
    c.error("ERR LIMIT can't be negative", "SINTERCARD", "2", "a", "b", "LIMIT", "x")
    c.error(SYNTAX, "SINTERCARD", "2", "a", "b", "FOO", "1")
    c.error(SYNTAX, "SINTERCARD", "2", "a", "b", "LIMIT")
    c.error(WRONGTYPE, "SINTERCARD", "2", "missing", "str")
    c.error(arity("sintercard"), "SINTERCARD", "1")


@suite.check(since=6)
def check_rename_renamenx(c):
    c.r.set("a", "1", ex=100)
    eq(c.raw.call("RENAME", "a", "b"), ("+", "OK"), "RENAME")
    eq((c.r.exists("a"), c.r.get("b"), c.r.ttl("b")), (0, b"1", 100), "RENAME moves the value and its TTL")
    eq(c.raw.call("RENAME", "b", "b"), ("+", "OK"), "RENAME to itself")
    c.r.set("c", "2")
    eq(c.raw.call("RENAME", "c", "b"), ("+", "OK"), "RENAME over an existing key")
    eq((c.r.get("b"), c.r.ttl("b")), (b"2", -1), "the destination replaced, its TTL with it")
    eq(c.raw.call("RENAMENX", "b", "c"), (":", 1), "RENAMENX to a new key")
    c.r.set("d", "x")
    eq(c.raw.call("RENAMENX", "c", "d"), (":", 0), "RENAMENX to an existing key")
    eq(c.raw.call("RENAMENX", "c", "c"), (":", 0), "RENAMENX to itself")
    c.r.rpush("l", "x")
    eq(c.r.rename("l", "d"), True, "redis-py rename of a list over a string")
    eq(c.raw.call("TYPE", "d"), ("+", "list"), "the type moves with the value")
    c.error(NO_SUCH_KEY, "RENAME", "missing", "x")
    c.error(NO_SUCH_KEY, "RENAME", "missing", "missing")
    c.error(NO_SUCH_KEY, "RENAMENX", "missing", "x")
    c.error(arity("rename"), "RENAME", "a")


@suite.check(since=6)
def check_rename_and_copy_serve_a_blocked_client(c):
    # A list renamed or copied onto a key a client is blocked on serves it, as a push does (Redis's dbAdd signals the key
    # ready).
    blocked = c.connect()
    blocked.send(encode_command("BLPOP", "q", "10"))
    wait_blocked(c, 1)
    c.r.rpush("src", "a", "b")
    eq(c.raw.call("RENAME", "src", "q"), ("+", "OK"), "RENAME onto the key the client waits on")
    eq(values(blocked.read()), [b"q", b"a"], "the blocked client is served")
    eq(c.r.lrange("q", 0, -1), [b"b"], "the rest stays")
    blocked.send(encode_command("BLPOP", "q2", "10"))
    wait_blocked(c, 1)
    eq(c.raw.call("COPY", "q", "q2"), (":", 1), "COPY onto the key the client waits on")
    eq(values(blocked.read()), [b"q2", b"b"], "the blocked client is served from the copy")
    eq(c.r.lrange("q", 0, -1), [b"b"], "the source is untouched")
    blocked.send(encode_command("BRPOP", "q3", "10"))
    wait_blocked(c, 1)
    eq(c.raw.call("LPUSHX", "q3", "x"), (":", 0), "LPUSHX to the missing key the client waits on")
    eq(c.raw.call("LPUSH", "q3", "y"), (":", 1), "LPUSH")
    eq(values(blocked.read()), [b"q3", b"y"], "served by the LPUSH, not by the LPUSHX")


@suite.check(since=6)
def check_copy(c):
    c.r.set("k", "v", ex=100)
    eq(c.raw.call("COPY", "k", "k2"), (":", 1), "COPY")
    eq((c.r.get("k2"), c.r.ttl("k2")), (b"v", 100), "COPY copies the value and the TTL")
    eq(c.raw.call("COPY", "k", "k2"), (":", 0), "COPY to an existing key")
    c.r.set("k", "w")
    eq(c.raw.call("COPY", "k", "k2", "REPLACE"), (":", 1), "COPY REPLACE")
    eq(c.r.get("k2"), b"w", "COPY REPLACE's value")
    eq(c.raw.call("COPY", "missing", "k3"), (":", 0), "COPY of a missing key")
    eq(c.raw.call("COPY", "k", "k3", "DB", "0"), (":", 1), "COPY DB 0")
    eq(c.raw.call("COPY", "k", "k5", "REPLACE", "REPLACE"), (":", 1), "REPLACE twice")
    c.r.hset("h", "f", "v")
    c.r.rpush("l", "a", "b")
    c.r.sadd("s", "m")
    eq(c.r.copy("h", "h2"), True, "redis-py copy of a hash")
    c.r.hset("h2", "f", "changed")
    eq(c.r.hget("h", "f"), b"v", "the copy is a value of its own")
    c.r.copy("l", "l2")
    c.r.rpush("l2", "c")
    eq((c.r.lrange("l", 0, -1), c.r.lrange("l2", 0, -1)), ([b"a", b"b"], [b"a", b"b", b"c"]), "a list copied")
    c.r.copy("s", "s2")
    c.r.sadd("s2", "n")
    eq((c.r.smembers("s"), c.r.smembers("s2")), ({b"m"}, {b"m", b"n"}), "a set copied")
    c.r.copy("k", "k6")
    c.r.setrange("k6", 0, "X")
    eq((c.r.get("k"), c.r.get("k6")), (b"w", b"X"), "a string copied, changed in place")
    c.error("ERR source and destination objects are the same", "COPY", "k", "k")
    c.error("ERR source and destination objects are the same", "COPY", "k", "k", "REPLACE")
    c.error("ERR DB index is out of range", "COPY", "k", "k5", "DB", "16")
    c.error(NOT_INTEGER, "COPY", "k", "k5", "DB", "x")
    c.error(NOT_INTEGER, "COPY", "missing", "k", "DB", "x")
    c.error(SYNTAX, "COPY", "k", "k5", "FOO")
    c.error(SYNTAX, "COPY", "k", "k5", "DB")
    c.error(arity("copy"), "COPY", "k")


@suite.check(only_kv=True, since=6, until=6)
def check_copy_to_another_db_refused(c):
    c.error("ERR DB index is out of range", "COPY", "k", "k4", "DB", "1")


@suite.check(since=6)
def check_randomkey(c):
    eq(c.raw.call("RANDOMKEY"), ("$", None), "RANDOMKEY of an empty database")
    c.r.mset({"a": "1", "b": "2"})
    c.r.rpush("l", "x")
    ok(c.raw.call("RANDOMKEY")[1] in (b"a", b"b", b"l"), "RANDOMKEY answers a key")
    c.r.delete("a", "b")
    eq(c.r.randomkey(), b"l", "redis-py randomkey of the one key")
    c.error(arity("randomkey"), "RANDOMKEY", "x")


@suite.check(since=6)
def check_expireat_pexpireat(c):
    c.r.set("k", "v")
    eq(c.raw.call("EXPIREAT", "k", "99999999999"), (":", 1), "EXPIREAT")
    eq(c.raw.call("EXPIRETIME", "k"), (":", 99999999999), "EXPIRETIME")
    eq(c.raw.call("PEXPIRETIME", "k"), (":", 99999999999000), "PEXPIRETIME")
    eq(c.raw.call("EXPIREAT", "k", "99999999998", "GT"), (":", 0), "EXPIREAT GT of an earlier time")
    eq(c.raw.call("EXPIREAT", "k", "99999999999", "NX"), (":", 0), "EXPIREAT NX of a key with a TTL")
    eq(c.raw.call("EXPIREAT", "k", "99999999990", "LT"), (":", 1), "EXPIREAT LT of an earlier time")
    eq(c.raw.call("PEXPIREAT", "k", "99999999990500"), (":", 1), "PEXPIREAT")
    eq(c.raw.call("EXPIRETIME", "k"), (":", 99999999991), "EXPIRETIME rounds to seconds")
    eq(c.raw.call("PEXPIREAT", "k", "9223372036854775807"), (":", 1), "PEXPIREAT at the end of time")
    eq(c.raw.call("EXPIREAT", "k", "1"), (":", 1), "EXPIREAT in the past")
    eq(c.raw.call("EXISTS", "k"), (":", 0), "EXPIREAT in the past removes the key")
    c.r.set("p", "v")
    eq(c.raw.call("PEXPIREAT", "p", "-1"), (":", 1), "PEXPIREAT of a negative time")
    eq(c.raw.call("EXISTS", "p"), (":", 0), "... removes the key")
    eq(c.raw.call("EXPIREAT", "missing", "99999999999"), (":", 0), "EXPIREAT of a missing key")
    c.r.set("q", "v")
    eq(c.r.expireat("q", 99999999999), True, "redis-py expireat")
    eq(c.r.pexpireat("q", 99999999999123), True, "redis-py pexpireat")
    c.error(NOT_INTEGER, "EXPIREAT", "q", "x")
    c.error("ERR Unsupported option FOO", "EXPIREAT", "q", "x", "FOO")
    c.error("ERR NX and XX, GT or LT options at the same time are not compatible", "PEXPIREAT", "q", "1", "NX", "XX")
    c.error("ERR GT and LT options at the same time are not compatible", "PEXPIREAT", "q", "1", "GT", "LT")
    c.error("ERR invalid expire time in 'expireat' command", "EXPIREAT", "q", "9223372036854776")
    eq(c.raw.call("EXPIREAT", "q", "9223372036854775"), (":", 1), "the latest EXPIREAT")
    c.error(arity("expireat"), "EXPIREAT", "q")


@suite.check(since=6)
def check_expiretime(c):
    c.r.set("p", "v")
    eq(c.raw.call("EXPIRETIME", "p"), (":", -1), "EXPIRETIME without a TTL")
    eq(c.raw.call("PEXPIRETIME", "p"), (":", -1), "PEXPIRETIME without a TTL")
    eq(c.raw.call("EXPIRETIME", "missing"), (":", -2), "EXPIRETIME of a missing key")
    eq(c.raw.call("PEXPIRETIME", "missing"), (":", -2), "PEXPIRETIME of a missing key")
    before = int(time.time() * 1000)
    c.r.pexpire("p", 100_000)
    deadline = c.r.pexpiretime("p")
    ok(before + 100_000 <= deadline <= int(time.time() * 1000) + 100_000, f"PEXPIRETIME is now + the TTL: {deadline}")
    eq(c.r.expiretime("p"), (deadline + 500) // 1000, "redis-py expiretime: seconds rounded")
    c.error(arity("expiretime"), "EXPIRETIME")
    c.error(arity("pexpiretime"), "PEXPIRETIME", "a", "b")


@suite.check(since=6)
def check_time(c):
    kind, reply = c.raw.call("TIME")
    eq(kind, "*", "TIME answers an array")
    seconds, micros = [int(v) for v in values((kind, reply))]
    ok(abs(seconds - time.time()) < 5, f"TIME's seconds are now: {seconds}")
    ok(0 <= micros < 1_000_000, f"TIME's microseconds: {micros}")
    eq(len(c.r.time()), 2, "redis-py time")
    c.error(arity("time"), "TIME", "x")


def main():
    args = parse_args(__doc__)
    return suite.run(Context, args)


if __name__ == "__main__":
    main_guard(main)
