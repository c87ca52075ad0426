#!/usr/bin/python3
"""redis-cli suite of the kv server: Debian's real redis-cli (7.0), run as a user runs it.

    /usr/bin/python3 kv_cli_suite.py --port P --version N|redis [--only SUBSTRING]

One-shot commands (default output, --raw, --no-raw, --csv, -e), a script of commands piped on stdin (with quoted
arguments), -x (last argument from stdin, binary), --pipe mass insertion of 10,000 SETs in RESP, -r/-i repeats,
--scan --pattern, -n (SELECT; databases 0-15 from v7). Outputs are compared byte for byte with what redis-cli prints
for Redis. Each check starts with FLUSHALL (every database; FLUSHDB's database 0 before v7). Prints `PASS name` / `FAIL name: why` per check, then `N passed, M failed`; exit 1 if any
check failed.
"""

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import redis  # noqa: E402

from kvcheck import REDIS, SOCKET_TIMEOUT, CheckFailed, Suite, encode_command, eq, ok, main_guard, parse_args, \
    short  # noqa: E402

suite = Suite("kv_cli_suite")

CLI_TIMEOUT = 60.0


class Context:
    def __init__(self, args):
        self.args = args
        self.level = args.level
        self.r = redis.Redis(host=args.host, port=args.port, socket_timeout=SOCKET_TIMEOUT,
                             socket_connect_timeout=SOCKET_TIMEOUT)
        self.r.flushall()

    def run(self, *cli_args, stdin=b"", expect_exit=0):
        """Runs redis-cli against the server; returns (stdout, stderr) as bytes; checks the exit code."""
        command = ["redis-cli", "-h", self.args.host, "-p", str(self.args.port), *cli_args]
        try:
            done = subprocess.run(command, input=stdin, capture_output=True, timeout=CLI_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise CheckFailed(f"'{' '.join(command)}' did not finish within {CLI_TIMEOUT} s")
        if expect_exit is not None and done.returncode != expect_exit:
            raise CheckFailed(f"'{' '.join(cli_args)}' exited {done.returncode} (expected {expect_exit}); "
                              f"stdout {short(done.stdout)}, stderr {short(done.stderr)}")
        return done.stdout, done.stderr

    def out(self, *cli_args, stdin=b""):
        return self.run(*cli_args, stdin=stdin)[0]

    def close(self):
        self.r.close()


def lines(*texts):
    return "".join(t + "\n" for t in texts).encode()


@suite.check()
def check_oneshot_default_output(c):
    eq(c.out("PING"), b"PONG\n", "PING")
    eq(c.out("SET", "k", "hello world"), b"OK\n", "SET")
    eq(c.out("GET", "k"), b"hello world\n", "GET")
    eq(c.out("INCR", "n"), b"1\n", "INCR")
    eq(c.out("GET", "missing"), b"\n", "GET of a missing key (raw nil: an empty line)")
    eq(c.out("ECHO", "x y"), b"x y\n", "ECHO")


@suite.check()
def check_oneshot_no_raw_formatting(c):
    c.r.mset({"a": "1", "b": "2"})
    eq(c.out("--no-raw", "GET", "a"), b'"1"\n', "GET")
    eq(c.out("--no-raw", "GET", "missing"), b"(nil)\n", "GET missing")
    eq(c.out("--no-raw", "INCR", "a"), b"(integer) 2\n", "INCR")
    eq(c.out("--no-raw", "MGET", "a", "missing", "b"), lines('1) "2"', "2) (nil)", '3) "2"'), "MGET")
    eq(c.out("--no-raw", "TTL", "a"), b"(integer) -1\n", "TTL")
    eq(c.out("--no-raw", "KEYS", "nomatch*"), b"(empty array)\n", "KEYS with no match")
    eq(c.out("--no-raw", "nosuch", "x"),
       b"(error) ERR unknown command 'nosuch', with args beginning with: 'x' \n", "an unknown command")


@suite.check()
def check_oneshot_raw_binary(c):
    c.r.set("bin", b"line1\nline2\x00\xff")
    eq(c.out("--raw", "GET", "bin"), b"line1\nline2\x00\xff\n", "--raw GET prints the bytes as they are")
    eq(c.out("--no-raw", "GET", "bin"), b'"line1\\nline2\\x00\\xff"\n', "--no-raw GET escapes them")


@suite.check()
def check_csv_output(c):
    c.r.mset({"a": "1", "b": "2"})
    eq(c.out("--csv", "MGET", "a", "b", "missing").strip(), b'"1","2",NULL', "--csv MGET")


@suite.check()
def check_error_exit_code(c):
    out, err = c.run("-e", "nosuch", expect_exit=1)
    ok(b"ERR unknown command 'nosuch'" in out + err, f"-e prints the error: {short(out + err)}")
    c.run("nosuch", expect_exit=0)
    c.run("-e", "PING", expect_exit=0)


@suite.check()
def check_commands_piped_on_stdin(c):
    script = b'SET a 1\nINCR a\nINCRBY a 40\nGET a\nSET "with space" "quoted value"\nGET "with space"\nDEL a missing\n'
    eq(c.out(stdin=script), lines("OK", "2", "42", "42", "OK", "quoted value", "1"), "a script on stdin")
    eq(c.r.get("with space"), b"quoted value", "the quoted key as redis-py sees it")


@suite.check()
def check_last_argument_from_stdin(c):
    value = bytes(range(256)) * 8
    eq(c.out("-x", "SET", "blob", stdin=value), b"OK\n", "-x SET")
    eq(c.r.get("blob"), value, "the binary value from stdin, intact")


@suite.check()
def check_pipe_mass_insertion(c):
    data = b"".join(encode_command("SET", f"mass:{i}", f"value-{i}") for i in range(10_000))
    out, err = c.run("--pipe", stdin=data)
    ok(b"errors: 0, replies: 10000" in out, f"--pipe reports 0 errors and 10000 replies: {short(out + err, 400)}")
    eq(c.r.dbsize(), 10_000, "DBSIZE after mass insertion")
    eq(c.r.mget(["mass:0", "mass:4567", "mass:9999"]), [b"value-0", b"value-4567", b"value-9999"], "sample values")


@suite.check()
def check_pipe_counts_errors(c):
    data = encode_command("SET", "a", "1") + encode_command("INCR", "a") + encode_command("nosuch") \
        + encode_command("GET", "a")
    out, err = c.run("--pipe", stdin=data, expect_exit=1)
    ok(b"errors: 1, replies: 4" in out, f"--pipe counts the error reply: {short(out + err, 400)}")
    eq(c.r.get("a"), b"2", "the commands around the error ran")


@suite.check()
def check_repeat(c):
    eq(c.out("-r", "5", "INCR", "counter"), lines("1", "2", "3", "4", "5"), "-r 5 INCR")
    eq(c.out("-r", "3", "-i", "0.05", "PING"), lines("PONG", "PONG", "PONG"), "-r 3 -i 0.05 PING")


@suite.check()
def check_scan_pattern(c):
    with c.r.pipeline(transaction=False) as p:
        for i in range(300):
            p.set(f"user:{i}", i)
        for i in range(50):
            p.set(f"other:{i}", i)
        p.execute()
    listed = c.out("--scan", "--pattern", "user:*").splitlines()
    eq(set(listed), {f"user:{i}".encode() for i in range(300)}, "--scan --pattern user:*")
    eq(len(set(c.out("--scan").splitlines())), 350, "--scan of everything")


@suite.check()
def check_keys_and_dbsize(c):
    c.r.mset({"k1": "a", "k2": "b", "x": "c"})
    eq(sorted(c.out("KEYS", "k*").splitlines()), [b"k1", b"k2"], "KEYS k*")
    eq(c.out("DBSIZE"), b"3\n", "DBSIZE")
    eq(c.out("FLUSHDB"), b"OK\n", "FLUSHDB")
    eq(c.out("DBSIZE"), b"0\n", "DBSIZE after FLUSHDB")


@suite.check()
def check_expiry_commands(c):
    eq(c.out("SET", "k", "v", "EX", "100"), b"OK\n", "SET EX")
    ok(c.out("TTL", "k") in (b"100\n", b"99\n"), "TTL after EX 100")
    eq(c.out("PERSIST", "k"), b"1\n", "PERSIST")
    eq(c.out("TTL", "k"), b"-1\n", "TTL after PERSIST")
    eq(c.out("TTL", "missing"), b"-2\n", "TTL missing")
    eq(c.out("SET", "k", "v", "NX"), b"\n", "SET NX on an existing key answers nil")


@suite.check()
def check_info_server(c):
    out = c.out("INFO", "server")
    ok(b"# Server" in out and b"redis_version:" in out, f"INFO server: {short(out)}")
    if c.level != REDIS:
        ok(f"kv_version:{c.level}".encode() in out, f"INFO server says kv_version:{c.level}")


@suite.check()
def check_select_with_n(c):
    eq(c.out("-n", "0", "SET", "k", "db0"), b"OK\n", "-n 0")
    bad = "1" if c.level < 7 else "16"
    out, err = c.run("-n", bad, "PING")
    ok(f"SELECT {bad} failed: ERR DB index is out of range".encode() in err,
       f"-n {bad}: redis-cli reports the refused SELECT: {short(err)}")


@suite.check()
def check_client_name(c):
    eq(c.out(stdin=b"CLIENT SETNAME cli-user\nCLIENT GETNAME\n"), lines("OK", "cli-user"), "SETNAME then GETNAME")
    eq(c.out("CLIENT", "GETNAME"), b"\n", "a new redis-cli has no name")


@suite.check(since=2)
def check_lists_and_hashes(c):
    eq(c.out("RPUSH", "l", "a", "b", "c"), b"3\n", "RPUSH")
    eq(c.out("--no-raw", "LRANGE", "l", "0", "-1"), lines('1) "a"', '2) "b"', '3) "c"'), "LRANGE")
    eq(c.out("LPOP", "l"), b"a\n", "LPOP")
    eq(c.out("HSET", "h", "f1", "v1", "f2", "v2"), b"2\n", "HSET")
    eq(c.out("HGET", "h", "f2"), b"v2\n", "HGET")
    pairs = c.out("HGETALL", "h").splitlines()
    eq(dict(zip(pairs[0::2], pairs[1::2])), {b"f1": b"v1", b"f2": b"v2"}, "HGETALL")
    eq(c.out("TYPE", "l"), b"list\n", "TYPE list")
    eq(c.out("TYPE", "h"), b"hash\n", "TYPE hash")
    eq(c.out("GET", "l"), b"WRONGTYPE Operation against a key holding the wrong kind of value\n\n",
       "GET of a list (redis-cli ends an error with an empty line)")


@suite.check(since=3)
def check_object(c):
    c.r.set("k", "v")
    ok(c.out("OBJECT", "IDLETIME", "k").strip().isdigit(), "OBJECT IDLETIME answers an integer")
    if c.level == REDIS:
        c.r.config_set("maxmemory-policy", "allkeys-lfu")
    try:
        ok(c.out("OBJECT", "FREQ", "k").strip().isdigit(), "OBJECT FREQ answers an integer")
    finally:
        if c.level == REDIS:
            c.r.config_set("maxmemory-policy", "noeviction")


@suite.check(since=5)
def check_sets(c):
    eq(c.out("SADD", "s", "x", "y", "z", "x"), b"3\n", "SADD")
    eq(sorted(c.out("SMEMBERS", "s").splitlines()), [b"x", b"y", b"z"], "SMEMBERS")
    eq(c.out("SISMEMBER", "s", "y"), b"1\n", "SISMEMBER")
    eq(c.out("SREM", "s", "y"), b"1\n", "SREM")
    eq(c.out("SCARD", "s"), b"2\n", "SCARD")
    eq(c.out("TYPE", "s"), b"set\n", "TYPE set")


@suite.check()
def check_resp3_with_dash_3(c):
    c.r.set("k", "v")
    hello = c.out("-3", "--no-raw", "HELLO", "3").decode().splitlines()
    eq([line.split(" => ")[0] for line in hello],
       ['1# "server"', '2# "version"', '3# "proto"', '4# "id"', '5# "mode"', '6# "role"', '7# "modules"'],
       "redis-cli -3 prints HELLO's map")
    eq((hello[2], hello[4], hello[6]), ('3# "proto" => (integer) 3', '5# "mode" => "standalone"', '7# "modules" => (empty array)'),
       "HELLO's values")
    eq(c.out("-3", "--no-raw", "GET", "missing"), b"(nil)\n", "the null")
    eq(c.out("-3", "--no-raw", "MGET", "k", "missing"), lines('1) "v"', "2) (nil)"), "an array with a null")
    eq(c.out("-3", "--no-raw", "CONFIG", "GET", "appendonly"), lines('1# "appendonly" => "no"'), "CONFIG GET: a map")
    eq(c.out("-3", "GET", "k"), b"v\n", "a string")


@suite.check(since=2)
def check_resp3_hashes_with_dash_3(c):
    c.r.hset("h", "f", "v")
    eq(c.out("-3", "--no-raw", "HGETALL", "h"), lines('1# "f" => "v"'), "HGETALL: a map")
    eq(c.out("-3", "--no-raw", "HGETALL", "missing"), lines("(empty hash)"), "HGETALL of a missing key")
    eq(c.out("-3", "--no-raw", "LPOP", "missing"), lines("(nil)"), "LPOP of a missing key")


@suite.check(since=5)
def check_resp3_sets_with_dash_3(c):
    c.r.sadd("s", "x")
    eq(c.out("-3", "--no-raw", "SMEMBERS", "s"), lines('1~ "x"'), "SMEMBERS: a set")
    eq(c.out("-3", "--no-raw", "SMEMBERS", "missing"), lines("(empty set)"), "SMEMBERS of a missing key")


@suite.check()
def check_transaction_script(c):
    eq(c.out("--no-raw", stdin=lines("MULTI", "SET a 1", "INCR a", "GET missing", "EXEC")),
       lines("OK", "QUEUED", "QUEUED", "QUEUED", "1) OK", "2) (integer) 2", "3) (nil)"), "MULTI ... EXEC from a script")
    eq(c.out("--no-raw", stdin=lines("MULTI", "SET a 5", "DISCARD", "GET a")),
       lines("OK", "QUEUED", "OK", '"2"'), "MULTI ... DISCARD")
    eq(c.out("--no-raw", stdin=lines("MULTI", "SET a 5", "NOSUCH", "EXEC", "GET a")),
       lines("OK", "QUEUED", "(error) ERR unknown command 'NOSUCH', with args beginning with: ",
             "(error) EXECABORT Transaction discarded because of previous errors.", '"2"'), "EXECABORT")
    eq(c.out("--no-raw", stdin=lines("WATCH a", "SET a 3", "MULTI", "INCR a", "EXEC", "GET a")),
       lines("OK", "OK", "OK", "QUEUED", "(nil)", '"3"'), "a watched key written: EXEC aborted")
    eq(c.out("--no-raw", "EXEC"), lines("(error) ERR EXEC without MULTI"), "EXEC without MULTI")


@suite.check(since=2)
def check_transaction_script_with_dash_3(c):
    c.r.hset("h", "f", "v")
    eq(c.out("-3", "--no-raw", stdin=lines("MULTI", "HGETALL h", "GET missing", "EXEC")),
       lines("OK", "QUEUED", "QUEUED", '1) 1# "f" => "v"', "2) (nil)"), "EXEC's replies in RESP3")


@suite.check(until=4)
def check_unknown_later_commands(c):
    eq(c.out("sadd", "s", "x"), b"ERR unknown command 'sadd', with args beginning with: 's' 'x' \n\n",
       "SADD before v5")



# ---------------------------------------------------------------- the rest of each type's commands (v6)


@suite.check(until=5)
def check_unknown_v6_commands(c):
    eq(c.out("getdel", "k"), b"ERR unknown command 'getdel', with args beginning with: 'k' \n\n", "GETDEL before v6")


@suite.check(since=6)
def check_string_commands_v6(c):
    eq(c.out("SETNX", "k", "hello"), b"1\n", "SETNX")
    eq(c.out("APPEND", "k", " world"), b"11\n", "APPEND")
    eq(c.out("GETRANGE", "k", "-5", "-1"), b"world\n", "GETRANGE")
    eq(c.out("SETRANGE", "k", "0", "J"), b"11\n", "SETRANGE")
    eq(c.out("GETSET", "k", "x"), b"Jello world\n", "GETSET")
    eq(c.out("--no-raw", "GETEX", "k", "EX", "100"), b'"x"\n', "GETEX EX")
    eq(c.out("TTL", "k"), b"100\n", "the TTL GETEX set")
    eq(c.out("GETDEL", "k"), b"x\n", "GETDEL")
    eq(c.out("--no-raw", "GETDEL", "k"), b"(nil)\n", "GETDEL of the key it removed")
    eq(c.out("SETEX", "e", "10", "v"), b"OK\n", "SETEX")
    eq(c.out("PSETEX", "p", "10000", "v"), b"OK\n", "PSETEX")
    eq(c.out("--no-raw", "MSETNX", "a", "1", "e", "2"), b"(integer) 0\n", "MSETNX with a key that exists")
    eq(c.out("STRLEN", "e"), b"1\n", "STRLEN")
    eq(c.out("SET", "f", "10.50"), b"OK\n", "SET a float")
    eq(c.out("INCRBYFLOAT", "f", "0.1"), b"10.6\n", "INCRBYFLOAT")
    eq(c.out("--no-raw", "INCRBYFLOAT", "f", "x"), b"(error) ERR value is not a valid float\n", "INCRBYFLOAT error")
    eq(c.out("SETEX", "e", "0", "v"), b"ERR invalid expire time in 'setex' command\n\n", "SETEX error")


@suite.check(since=6)
def check_bits_and_lcs(c):
    eq(c.out("SETBIT", "b", "7", "1"), b"0\n", "SETBIT")
    eq(c.out("GETBIT", "b", "7"), b"1\n", "GETBIT")
    eq(c.out("SET", "foo", "foobar"), b"OK\n", "SET")
    eq(c.out("BITCOUNT", "foo", "1", "1"), b"6\n", "BITCOUNT")
    eq(c.out("--no-raw", "BITCOUNT", "foo", "5", "30", "BIT"), b"(integer) 17\n", "BITCOUNT BIT")
    eq(c.out("SETBIT", "b", "-1", "1"), b"ERR bit offset is not an integer or out of range\n\n", "SETBIT error")
    c.r.mset({"k1": "ohmytext", "k2": "mynewtext"})
    eq(c.out("LCS", "k1", "k2"), b"mytext\n", "LCS")
    eq(c.out("--no-raw", "LCS", "k1", "k2", "IDX", "MINMATCHLEN", "3", "WITHMATCHLEN"),
       lines('1) "matches"', "2) 1) 1) 1) (integer) 4", "         2) (integer) 7", "      2) 1) (integer) 5",
             "         2) (integer) 8", "      3) (integer) 4", '3) "len"', "4) (integer) 6"), "LCS IDX, nested arrays")


@suite.check(since=6)
def check_list_commands_v6(c):
    eq(c.out("RPUSH", "l", "a", "b", "c", "1", "c"), b"5\n", "RPUSH")
    eq(c.out("LINDEX", "l", "-1"), b"c\n", "LINDEX")
    eq(c.out("--no-raw", "LINDEX", "l", "10"), b"(nil)\n", "LINDEX out of range")
    eq(c.out("LSET", "l", "0", "A"), b"OK\n", "LSET")
    eq(c.out("--no-raw", "LSET", "missing", "0", "x"), b"(error) ERR no such key\n", "LSET of a missing key")
    eq(c.out("LINSERT", "l", "BEFORE", "b", "X"), b"6\n", "LINSERT")
    eq(c.out("--no-raw", "LPOS", "l", "c", "COUNT", "0"), lines("1) (integer) 3", "2) (integer) 5"), "LPOS COUNT")
    eq(c.out("--csv", "LPOS", "l", "c", "COUNT", "0"), b"3,5\n", "LPOS --csv")
    eq(c.out("LREM", "l", "0", "c"), b"2\n", "LREM")
    eq(c.out("LTRIM", "l", "0", "1"), b"OK\n", "LTRIM")
    eq(c.out("LPUSHX", "l", "z"), b"3\n", "LPUSHX")
    eq(c.out("RPUSHX", "missing", "z"), b"0\n", "RPUSHX of a missing key")
    eq(c.out("--no-raw", "LRANGE", "l", "0", "-1"), lines('1) "z"', '2) "A"', '3) "X"'), "the list after")


@suite.check(since=6)
def check_hash_commands_v6(c):
    eq(c.out("HMSET", "h", "a", "1", "b", "2"), b"OK\n", "HMSET")
    eq(c.out("--no-raw", "HMGET", "h", "a", "x"), lines('1) "1"', "2) (nil)"), "HMGET")
    eq(c.out("HINCRBY", "h", "a", "10"), b"11\n", "HINCRBY")
    eq(c.out("HINCRBYFLOAT", "h", "b", "0.5"), b"2.5\n", "HINCRBYFLOAT")
    eq(c.out("HEXISTS", "h", "a"), b"1\n", "HEXISTS")
    eq(c.out("HSETNX", "h", "a", "x"), b"0\n", "HSETNX")
    eq(c.out("HSTRLEN", "h", "b"), b"3\n", "HSTRLEN")
    eq(sorted(c.out("HKEYS", "h").splitlines()), [b"a", b"b"], "HKEYS")
    eq(sorted(c.out("HVALS", "h").splitlines()), [b"11", b"2.5"], "HVALS")
    ok(c.out("HRANDFIELD", "h") in (b"a\n", b"b\n"), "HRANDFIELD")
    eq(c.out("HINCRBY", "h", "b", "1"), b"ERR hash value is not an integer\n\n", "HINCRBY error")
    scanned = c.out("HSCAN", "h", "0").splitlines()
    eq((scanned[0], dict(zip(scanned[1::2], scanned[2::2]))), (b"0", {b"a": b"11", b"b": b"2.5"}), "HSCAN")


@suite.check(since=6)
def check_set_commands_v6(c):
    eq(c.out("SADD", "a", "1", "2", "3"), b"3\n", "SADD")
    eq(c.out("SADD", "b", "2", "3", "4"), b"3\n", "SADD")
    eq(sorted(c.out("SINTER", "a", "b").splitlines()), [b"2", b"3"], "SINTER")
    eq(sorted(c.out("SUNION", "a", "b").splitlines()), [b"1", b"2", b"3", b"4"], "SUNION")
    eq(c.out("SDIFF", "a", "b"), b"1\n", "SDIFF")
    eq(c.out("SINTERSTORE", "i", "a", "b"), b"2\n", "SINTERSTORE")
    eq(c.out("SUNIONSTORE", "u", "a", "b"), b"4\n", "SUNIONSTORE")
    eq(c.out("SDIFFSTORE", "d", "b", "a"), b"1\n", "SDIFFSTORE")
    eq(c.out("SINTERCARD", "2", "a", "b", "LIMIT", "1"), b"1\n", "SINTERCARD")
    eq(c.out("--no-raw", "SMISMEMBER", "a", "1", "9"), lines("1) (integer) 1", "2) (integer) 0"), "SMISMEMBER")
    eq(c.out("SMOVE", "d", "a", "4"), b"1\n", "SMOVE")
    ok(c.out("SRANDMEMBER", "a") in (b"1\n", b"2\n", b"3\n", b"4\n"), "SRANDMEMBER")
    eq(len(c.out("SPOP", "u", "3").splitlines()), 3, "SPOP 3")
    eq(sorted(c.out("SSCAN", "a", "0", "MATCH", "[12]").splitlines()), [b"0", b"1", b"2"], "SSCAN MATCH")
    eq(c.out("--no-raw", "SINTERCARD", "0", "a"), b"(error) ERR numkeys should be greater than 0\n", "SINTERCARD error")


@suite.check(since=6)
def check_key_commands_v6(c):
    eq(c.out("SET", "k", "v"), b"OK\n", "SET")
    eq(c.out("RENAME", "k", "r"), b"OK\n", "RENAME")
    eq(c.out("RENAME", "k", "r"), b"ERR no such key\n\n", "RENAME of a missing key")
    eq(c.out("RENAMENX", "r", "n"), b"1\n", "RENAMENX")
    eq(c.out("COPY", "n", "c"), b"1\n", "COPY")
    ok(c.out("RANDOMKEY") in (b"n\n", b"c\n"), "RANDOMKEY")
    eq(c.out("EXPIREAT", "c", "99999999999"), b"1\n", "EXPIREAT")
    eq(c.out("EXPIRETIME", "c"), b"99999999999\n", "EXPIRETIME")
    eq(c.out("PEXPIREAT", "c", "99999999999123"), b"1\n", "PEXPIREAT")
    eq(c.out("PEXPIRETIME", "c"), b"99999999999123\n", "PEXPIRETIME")
    eq(c.out("--no-raw", "EXPIRETIME", "missing"), b"(integer) -2\n", "EXPIRETIME of a missing key")
    seconds, micros = c.out("TIME").split()
    ok(seconds.isdigit() and micros.isdigit(), "TIME: seconds and microseconds")



# ---------------------------------------------------------------- sixteen databases (v7)


@suite.check(since=7)
def check_databases_with_n(c):
    eq(c.out("-n", "3", "SET", "k", "db3"), b"OK\n", "-n 3 SET")
    eq(c.out("-n", "0", "GET", "k"), b"\n", "db 0 has no k")
    eq(c.out("-n", "3", "GET", "k"), b"db3\n", "db 3 has it")
    eq(c.out("-n", "3", "DBSIZE"), b"1\n", "DBSIZE of db 3")
    eq(c.out("-n", "3", "MOVE", "k", "5"), b"1\n", "MOVE k 5")
    eq(c.out("-n", "5", "GET", "k"), b"db3\n", "k moved to db 5")
    eq(c.out("--no-raw", "-n", "5", "MOVE", "k", "5"), b"(error) ERR source and destination objects are the same\n",
       "MOVE to its own db")
    eq(c.out("SWAPDB", "0", "5"), b"OK\n", "SWAPDB 0 5")
    eq(c.out("GET", "k"), b"db3\n", "db 0 has db 5's keys")
    eq(c.out("INFO", "keyspace"), b"# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n", "INFO keyspace")
    eq(c.out(stdin=b"SELECT 7\nSET x 1\nDBSIZE\nSELECT 0\nDBSIZE\n"), lines("OK", "OK", "1", "OK", "1"),
       "SELECT in a script")
    eq(c.out("-n", "7", "FLUSHDB"), b"OK\n", "FLUSHDB of db 7")
    eq(c.out("DBSIZE"), b"1\n", "db 0 kept")
    eq(c.out("FLUSHALL"), b"OK\n", "FLUSHALL")
    eq(c.out("DBSIZE"), b"0\n", "db 0 empty")


def main():
    if shutil.which("redis-cli") is None:
        print("FAIL setup: redis-cli not found: run `bash scripts/install-test-deps.sh`", flush=True)
        return 1
    args = parse_args(__doc__)
    return suite.run(Context, args)


if __name__ == "__main__":
    main_guard(main)
