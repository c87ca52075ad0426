"""The little test runner shared by the client suites (no pytest: /usr/bin/python3 has none).

A suite registers plain functions with @suite.check(...); the runner runs those the target has, one after
another, and prints one line per check (`PASS name` / `FAIL name: why`), then `N passed, M failed`. The exit
code is 1 when any check failed. Also a minimal raw RESP2 client, for checks that must see the exact bytes of
a reply (its type, the exact error text) rather than what redis-py makes of it.
"""

import argparse
import socket
import sys
import time
import traceback

# A version number for `--version redis`: the real redis-server has every command of every kv version.
REDIS = 99

# Every socket operation of a check gives up after this long, so that a silent server fails a check, never hangs it.
SOCKET_TIMEOUT = 15.0


def parse_args(description):
    """The suites' common command line: --port P --version N|redis [--host H] [--only SUBSTRING]."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--version", required=True,
                        help="1..7: the kv version (only its commands are checked); redis: a real redis-server")
    parser.add_argument("--only", default=None, help="run only the checks whose name contains this")
    args = parser.parse_args()
    if args.version == "redis":
        args.level = REDIS
    elif args.version in ("1", "2", "3", "4", "5", "6", "7"):
        args.level = int(args.version)
    else:
        parser.error("--version must be 1..7 or redis")
    return args


class CheckFailed(AssertionError):
    pass


def eq(actual, expected, what):
    if actual != expected:
        raise CheckFailed(f"{what}: expected {short(expected)}, got {short(actual)}")


def ok(condition, what):
    if not condition:
        raise CheckFailed(what)


def short(value, limit=160):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


def wait_until(predicate, timeout, interval=0.05):
    """Polls predicate until it is true or the timeout passes; returns its last value (bounded wait)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


class Suite:
    def __init__(self, name):
        self.name = name
        self.checks = []

    def check(self, since=1, until=None, only_kv=False, only_redis=False):
        """Registers a check for the versions since..until (inclusive); redis-server has everything."""
        def register(fn):
            self.checks.append((fn.__name__.removeprefix("check_"), fn, since, until, only_kv, only_redis))
            return fn
        return register

    def applicable(self, level):
        for name, fn, since, until, only_kv, only_redis in self.checks:
            if only_kv and level == REDIS or only_redis and level != REDIS:
                continue
            if level < since or (until is not None and level > until):
                continue
            yield name, fn

    def run(self, make_context, args):
        passed = failed = 0
        started = time.monotonic()
        for name, fn in self.applicable(args.level):
            if args.only and args.only not in name:
                continue
            context = None
            try:
                context = make_context(args)
                fn(context)
                print(f"PASS {name}", flush=True)
                passed += 1
            except CheckFailed as e:
                print(f"FAIL {name}: {e}", flush=True)
                failed += 1
            except Exception as e:  # a crash of the check is a failure of the check, with where it happened
                where = traceback.extract_tb(e.__traceback__)[-1]
                print(f"FAIL {name}: {type(e).__name__}: {e} (at line {where.lineno})", flush=True)
                failed += 1
            finally:
                if context is not None:
                    context.close()
        print(f"{self.name}: {passed} passed, {failed} failed in {time.monotonic() - started:.1f} s", flush=True)
        return 1 if failed or passed == 0 else 0


def encode_command(*args):
    """One command in RESP2 (an array of bulk strings), as every real client sends it."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, int):
            arg = str(arg)
        if isinstance(arg, str):
            arg = arg.encode("latin-1")
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)


class Raw:
    """A raw RESP connection: replies as (type, value) with type one of + - : $ * as sent, and after HELLO 3 RESP3's
    % (a map: a list of (key, value) pairs), ~ (a set: a list), _ (the null: None), = (verbatim text, its format
    prefix included), , (a double, as its text), # (a boolean)."""

    def __init__(self, host, port, timeout=SOCKET_TIMEOUT):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.file = self.sock.makefile("rb")

    def send(self, data):
        self.sock.sendall(data)

    def call(self, *args):
        self.send(encode_command(*args))
        return self.read()

    def read(self):
        line = self.file.readline()
        if not line:
            raise ConnectionError("the server closed the connection")
        if not line.endswith(b"\r\n"):
            raise CheckFailed(f"reply line not ended by CRLF: {short(line)}")
        kind, body = chr(line[0]), line[1:-2]
        if kind in "+-":
            return kind, body.decode("latin-1")
        if kind == ":":
            return kind, int(body)
        if kind == "$":
            length = int(body)
            if length < 0:
                return kind, None
            data = self.file.read(length + 2)
            if len(data) != length + 2 or data[-2:] != b"\r\n":
                raise CheckFailed(f"bulk reply of {length} bytes malformed or cut short")
            return kind, data[:-2]
        if kind in "*~":
            count = int(body)
            if count < 0:
                return kind, None
            return kind, [self.read() for _ in range(count)]
        if kind == "%":
            return kind, [(self.read(), self.read()) for _ in range(int(body))]
        if kind == "_":
            return kind, None
        if kind == "=":
            length = int(body)
            data = self.file.read(length + 2)
            if len(data) != length + 2 or data[-2:] != b"\r\n":
                raise CheckFailed(f"verbatim reply of {length} bytes malformed or cut short")
            return kind, data[:-2]
        if kind == ",":
            return kind, body.decode("latin-1")
        if kind == "#":
            return kind, body == b"t"
        raise CheckFailed(f"unknown reply type {short(line)}")

    def closed_by_peer(self, timeout=5.0):
        """True when the server closes the connection within the timeout."""
        self.sock.settimeout(timeout)
        try:
            return self.file.read(1) == b""
        except (socket.timeout, OSError):
            return False

    def close(self):
        try:
            self.file.close()
            self.sock.close()
        except OSError:
            pass


def values(reply):
    """A raw array reply's elements without their types (nested arrays, sets and maps too)."""
    kind, value = reply
    if kind in "*~" and value is not None:
        return [values(item) for item in value]
    if kind == "%":
        return [(values(k), values(v)) for k, v in value]
    return value


def main_guard(run):
    try:
        sys.exit(run())
    except KeyboardInterrupt:
        sys.exit(130)
