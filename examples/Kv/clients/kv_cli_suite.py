#!/usr/bin/python3
"""redis-cli suite of the kv server: Debian's real redis-cli (7.0), run as a user runs it.

    /usr/bin/python3 kv_cli_suite.py --port P --version N|redis [--only SUBSTRING]

One-shot commands (default output, --raw, --no-raw, --csv, -e), a script of commands piped on stdin (with quoted
arguments), -x (last argument from stdin, binary), --pipe mass insertion of 10,000 SETs in RESP, -r/-i repeats,
--scan --pattern, -n (SELECT). Outputs are compared byte for byte with what redis-cli prints for Redis. Each check
starts with FLUSHDB. Prints `PASS name` / `FAIL name: why` per check, then `N passed, M failed`; exit 1 if any
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
        self.r.flushdb()

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
    bad = "1" if c.level != REDIS else "16"
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


def main():
    if shutil.which("redis-cli") is None:
        print("FAIL setup: redis-cli not found: run `bash scripts/install-test-deps.sh`", flush=True)
        return 1
    args = parse_args(__doc__)
    return suite.run(Context, args)


if __name__ == "__main__":
    main_guard(main)
