#!/usr/bin/python3
"""The dataset tool of the kv example: deterministic data written, checked, and a live writer and session.

    kv_data.py load   --port P --prefix PFX --keys N [--types string[,list,hash,set]] [--ttl-every K] [--seed S]
    kv_data.py verify --port P --prefix PFX --keys N [--types ...] [--ttl-every K] [--seed S] [--elapsed-max SECONDS]
    kv_data.py verify-bench --port P [--pattern 'key:*'] --size D
    kv_data.py writer --port P --prefix PFX --duration S --max-keys M --status-file F [--types ...] [--ttl-every K]
                      [--seed S] [--rate OPS]
    kv_data.py session --port P
    kv_data.py crowd --port P --connections N

Key i is `PFX{i}`; its type is types[i % len(types)]; its content derives from (seed, i) alone; every K-th key
(i % K == 0; K = 0: none) has an EX TTL of 3600 + (i % 600) seconds. `writer` writes the very keys `load`
writes, one at a time, so `verify --keys <acknowledged>` with the same options checks them. Every command prints
one JSON line (`session`: one per reply; `crowd`: one per check) and exits 0 only when everything was right. Uses Debian's redis-py.
"""

import argparse
import json
import os
import signal
import sys
import time

import redis

BATCH = 1000
SOCKET_TIMEOUT = 30.0
TYPES = ("string", "list", "hash", "set")


# ---------------------------------------------------------------- the deterministic dataset


def string_value(seed, i):
    mixed = (i * 2654435761 + seed * 40503) & 0xFFFFFFFF
    return f"v{seed}:{i}:{mixed:08x}".encode()


def list_value(seed, i):
    return [f"{seed}:{i}:e{j}".encode() for j in range(3)]


def hash_value(seed, i):
    return {f"f{j}".encode(): f"{seed}:{i}:h{j}".encode() for j in range(3)}


def set_value(seed, i):
    return {f"{seed}:{i}:m{j}".encode() for j in range(3)}


class Dataset:
    def __init__(self, prefix, types, ttl_every, seed):
        self.prefix, self.types, self.ttl_every, self.seed = prefix, types, ttl_every, seed

    def key(self, i):
        return f"{self.prefix}{i}".encode()

    def type_of(self, i):
        return self.types[i % len(self.types)]

    def ttl(self, i):
        """The EX TTL key i is written with, or None."""
        return 3600 + (i % 600) if self.ttl_every and i % self.ttl_every == 0 else None

    def value(self, i):
        kind = self.type_of(i)
        return {"string": string_value, "list": list_value, "hash": hash_value, "set": set_value}[kind](self.seed, i)

    def write_commands(self, i):
        """The commands that write key i, and the reply each must get (None: any integer)."""
        key, kind, ttl, value = self.key(i), self.type_of(i), self.ttl(i), self.value(i)
        if kind == "string":
            return [(("SET", key, value) + (("EX", ttl) if ttl else ()), b"OK")]
        commands = [(("DEL", key), None)]
        if kind == "list":
            commands.append((("RPUSH", key, *value), len(value)))
        elif kind == "hash":
            commands.append((("HSET", key, *[x for pair in sorted(value.items()) for x in pair]), len(value)))
        else:
            commands.append((("SADD", key, *sorted(value)), len(value)))
        if ttl:
            commands.append((("EXPIRE", key, ttl), 1))
        return commands


def dataset_arguments(parser, keys_required=True):
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--prefix", required=True)
    if keys_required:
        parser.add_argument("--keys", type=int, required=True)
    parser.add_argument("--types", default="string", help="comma-separated: string,list,hash,set")
    parser.add_argument("--ttl-every", type=int, default=10, help="every K-th key gets a TTL (0: none)")
    parser.add_argument("--seed", type=int, default=0)


def dataset_of(args):
    types = [t.strip() for t in args.types.split(",") if t.strip()]
    bad = [t for t in types if t not in TYPES]
    if not types or bad:
        sys.exit(f"--types must list some of {','.join(TYPES)} (got {args.types!r})")
    return Dataset(args.prefix, types, args.ttl_every, args.seed)


def client(args):
    return redis.Redis(host=args.host, port=args.port, socket_timeout=SOCKET_TIMEOUT,
                       socket_connect_timeout=SOCKET_TIMEOUT)


def emit(obj):
    print(json.dumps(obj), flush=True)


def describe(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


# ---------------------------------------------------------------- load


def load(args):
    data = dataset_of(args)
    r = client(args)
    started = time.monotonic()
    errors, first_errors = 0, []
    for start in range(0, args.keys, BATCH):
        expected = []
        with r.pipeline(transaction=False) as p:
            for i in range(start, min(start + BATCH, args.keys)):
                for command, reply in data.write_commands(i):
                    p.execute_command(*command)
                    expected.append((i, command[0], reply))
            replies = p.execute(raise_on_error=False)
        for (i, name, want), got in zip(expected, replies):
            if not reply_ok(got, want):
                errors += 1
                if len(first_errors) < 10:
                    first_errors.append(f"{data.key(i).decode(errors='replace')} {name}: {describe(got)}")
    result = {"loaded": args.keys, "seconds": round(time.monotonic() - started, 3)}
    if errors:
        result.update(errors=errors, first_errors=first_errors)
    emit(result)
    return 1 if errors else 0


def reply_ok(got, want):
    if isinstance(got, Exception):
        return False
    if want is None:
        return isinstance(got, int)
    if want == b"OK":
        return got is True or got == b"OK"
    return got == want


# ---------------------------------------------------------------- verify


READERS = {"string": ("GET",), "list": ("LRANGE", 0, -1), "hash": ("HGETALL",), "set": ("SMEMBERS",)}


def verify(args):
    data = dataset_of(args)
    r = client(args)
    missing = wrong = 0
    problems = []
    # kv v1 has no TYPE (it has only strings): there a string key's type is told by GET answering a value.
    has_type = knows_type(r)
    if not has_type and data.types != ["string"]:
        emit({"error": "the server has no TYPE command, so it holds only strings: verify --types string"})
        return 2

    def problem(text):
        if len(problems) < 10:
            problems.append(text)

    for start in range(0, args.keys, BATCH):
        indexes = range(start, min(start + BATCH, args.keys))
        with r.pipeline(transaction=False) as p:
            for i in indexes:
                key = data.key(i)
                if has_type:
                    p.type(key)
                else:
                    p.exists(key)
                p.execute_command(*READERS[data.type_of(i)][:1], key, *READERS[data.type_of(i)][1:])
                p.ttl(key)
            replies = p.execute(raise_on_error=False)
        for n, i in enumerate(indexes):
            kind, value, ttl = replies[3 * n: 3 * n + 3]
            name = data.key(i).decode(errors="replace")
            expected_type = data.type_of(i)
            if isinstance(kind, Exception):
                wrong += 1
                problem(f"{name}: TYPE failed: {kind}")
                continue
            if not has_type:
                kind = "string" if kind == 1 else "none"
            kind = kind.decode() if isinstance(kind, bytes) else str(kind)
            if kind == "none":
                missing += 1
                problem(f"{name}: missing")
                continue
            issue = None
            if kind != expected_type:
                issue = f"type {kind}, expected {expected_type}"
            elif isinstance(value, Exception):
                issue = f"{READERS[expected_type][0]} failed: {value}"
            else:
                got = normalise(expected_type, value)
                if got != data.value(i):
                    issue = f"value {describe(got)}, expected {describe(data.value(i))}"
            if issue is None:
                issue = ttl_problem(data.ttl(i), ttl, args.elapsed_max)
            if issue:
                wrong += 1
                problem(f"{name}: {issue}")
    emit({"checked": args.keys, "missing": missing, "wrong": wrong, "first_problems": problems})
    return 0 if missing == 0 and wrong == 0 else 1


def knows_type(r):
    try:
        r.type("kv_data:probe")
        return True
    except redis.ResponseError as e:
        if "unknown command" in str(e):
            return False
        raise


def normalise(kind, value):
    if kind == "hash" and isinstance(value, list):  # HGETALL as a flat list (no response callback)
        return dict(zip(value[0::2], value[1::2]))
    if kind == "set":
        return set(value)
    return value


def ttl_problem(original, ttl, elapsed_max):
    if isinstance(ttl, Exception):
        return f"TTL failed: {ttl}"
    if original is None:
        return None if ttl == -1 else f"ttl {ttl}, expected -1 (no expiry)"
    low = original - elapsed_max - 2
    if not (0 < ttl <= original and ttl >= low):
        return f"ttl {ttl}, expected {max(low, 1):g}..{original}"
    return None


# ---------------------------------------------------------------- verify-bench


def bench_data(size):
    """What redis-benchmark writes with -d size: its generator, a fixed-seed LCG (checked against redis-server)."""
    state, out = 1234, bytearray()
    for _ in range(size):
        state = (state * 1103515245 + 12345) & 0xFFFFFFFF
        out.append(ord("0") + ((state >> 16) & 63))
    return bytes(out)


def verify_bench(args):
    r = client(args)
    expected = bench_data(args.size)
    keys, cursor = set(), 0
    for _ in range(1_000_000):  # bounded: a full SCAN of any keyspace this example holds
        cursor, found = r.scan(cursor, match=args.pattern, count=1000)
        keys.update(found)
        if cursor == 0:
            break
    else:
        emit({"checked": len(keys), "wrong": 0, "first_problems": ["SCAN never returned cursor 0"]})
        return 1
    keys = sorted(keys)
    wrong, problems = 0, []
    for start in range(0, len(keys), BATCH):
        batch = keys[start:start + BATCH]
        with r.pipeline(transaction=False) as p:
            for key in batch:
                p.get(key)
            replies = p.execute(raise_on_error=False)
        for key, value in zip(batch, replies):
            if value != expected:
                wrong += 1
                if len(problems) < 10:
                    problems.append(f"{key.decode(errors='replace')}: {difference(value, expected)}")
    emit({"checked": len(keys), "wrong": wrong, "size": args.size, "pattern": args.pattern, "first_problems": problems})
    return 0 if wrong == 0 and keys else 1


def difference(value, expected):
    if isinstance(value, bytes):
        at = next((n for n, (a, b) in enumerate(zip(value, expected)) if a != b), min(len(value), len(expected)))
        return f"{len(value)} bytes (expected {len(expected)}), first difference at byte {at}: {describe(value[at:at + 20])}"
    return f"{describe(value)}, expected {len(expected)} bytes"


# ---------------------------------------------------------------- writer


class Stop(Exception):
    pass


def writer(args):
    data = dataset_of(args)
    connection = redis.Connection(host=args.host, port=args.port, socket_timeout=SOCKET_TIMEOUT,
                                  socket_connect_timeout=SOCKET_TIMEOUT)
    state = {"acknowledged": 0, "errors": 0, "first_errors": [], "max_latency_ms": 0.0, "reconnect_attempts": 0,
             "seconds": 0.0, "running": True}
    latencies = []
    started = time.monotonic()
    deadline = started + args.duration
    stopping = []

    def on_term(signum, frame):
        if not stopping:
            stopping.append(signum)
            raise Stop()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    def save():
        state["seconds"] = round(time.monotonic() - started, 3)
        if latencies:
            ordered = sorted(latencies)
            state["p50_latency_ms"] = round(ordered[len(ordered) // 2], 3)
            state["p99_latency_ms"] = round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3)
        temporary = args.status_file + ".tmp"
        with open(temporary, "w") as f:
            json.dump(state, f)
        os.replace(temporary, args.status_file)

    i, last_save = 0, started
    try:
        connection.connect()
        while i < args.max_keys and time.monotonic() < deadline:
            commands = data.write_commands(i)
            sent = time.monotonic()
            try:
                if connection._sock is None:
                    state["reconnect_attempts"] += 1
                connection.send_packed_command(connection.pack_commands([c for c, _ in commands]))
                replies = []
                for _ in commands:
                    try:
                        replies.append(connection.read_response())
                    except redis.ResponseError as e:
                        replies.append(e)
                bad = [(c[0], got) for (c, want), got in zip(commands, replies) if not reply_ok(got, want)]
                if bad:
                    raise ValueError(f"unexpected reply to {bad[0][0]}: {describe(bad[0][1])}")
            except (redis.RedisError, OSError, ValueError) as e:
                # Counted, then the same key again: acknowledged keys stay 0..n-1 for `verify --keys n`.
                state["errors"] += 1
                if len(state["first_errors"]) < 10:
                    state["first_errors"].append(f"key {i} at {time.monotonic() - started:.3f} s: "
                                                 f"{type(e).__name__}: {e}")
                time.sleep(0.05)
                continue
            latency = (time.monotonic() - sent) * 1000
            latencies.append(latency)
            state["max_latency_ms"] = max(state["max_latency_ms"], round(latency, 3))
            i += 1
            state["acknowledged"] = i
            if args.rate > 0:
                pause = started + i / args.rate - time.monotonic()
                if pause > 0:
                    time.sleep(min(pause, 1.0))
            if time.monotonic() - last_save >= 1.0:
                save()
                last_save = time.monotonic()
    except Stop:
        pass
    except (redis.RedisError, OSError) as e:  # the first connect failed
        state["errors"] += 1
        state["first_errors"].append(f"connect: {type(e).__name__}: {e}")
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    state["running"] = False
    save()
    emit(state)
    connection.disconnect()
    return 0 if state["errors"] == 0 else 1


# ---------------------------------------------------------------- session


def jsonable(reply):
    if isinstance(reply, bytes):
        return reply.decode("utf-8", "backslashreplace")
    if isinstance(reply, list):
        return [jsonable(x) for x in reply]
    return reply


def session(args):
    # One connection, never a pool: redis.Connection reconnects only if asked to send after losing its socket,
    # and the session refuses to do that, so every reply it prints came over the very first socket.
    connection = redis.Connection(host=args.host, port=args.port, socket_timeout=60.0, socket_connect_timeout=30.0)
    connection.connect()
    original = connection._sock
    local_port = original.getsockname()[1]
    emit({"ready": True, "local_port": local_port})
    lost = None
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if lost:
            emit({"error": f"connection lost earlier ({lost}); the session never reconnects", "connection_lost": True})
            continue
        try:
            if connection._sock is not original:
                raise redis.ConnectionError("the socket changed")
            connection.send_command(*words)
            out = {"reply": jsonable(connection.read_response())}
        except redis.ResponseError as e:
            out = {"error": str(e)}
        except (redis.ConnectionError, redis.TimeoutError, OSError) as e:
            lost = f"{type(e).__name__}: {e}"
            emit({"error": lost, "connection_lost": True})
            continue
        if words[0].upper() == "INFO" and isinstance(out.get("reply"), str):
            out["info"] = dict(l.split(":", 1) for l in out["reply"].splitlines() if ":" in l and not l.startswith("#"))
        out["local_port"] = local_port
        out["same_socket"] = connection._sock is original
        emit(out)
    connection.disconnect()
    return 0 if lost is None else 1


def crowd(args):
    # Many connections held open, each named with CLIENT SETNAME and never reconnected (as in `session`): on each line
    # of stdin, every one is asked its name, all sends first, then all replies; one JSON line says how that went.
    connections = []
    for i in range(args.connections):
        connection = redis.Connection(host=args.host, port=args.port, socket_timeout=60.0, socket_connect_timeout=30.0)
        connection.connect()
        connection.send_command("CLIENT", "SETNAME", f"crowd-{i}")
        if connection.read_response() not in (b"OK", "OK"):
            emit({"error": f"CLIENT SETNAME failed on connection {i}"})
            return 1
        connections.append((connection, connection._sock))
    emit({"ready": len(connections)})
    failed = False
    for line in sys.stdin:
        if not line.strip():
            continue
        problems = []
        asked = []
        for i, (connection, original) in enumerate(connections):
            try:
                if connection._sock is not original:
                    raise redis.ConnectionError("the socket changed")
                connection.send_command("CLIENT", "GETNAME")
                asked.append(i)
            except (redis.ConnectionError, redis.TimeoutError, OSError) as e:
                problems.append(f"connection {i}: {type(e).__name__}: {e}")
        for i in asked:
            connection, original = connections[i]
            try:
                name = connection.read_response()
                if name not in (f"crowd-{i}".encode(), f"crowd-{i}"):
                    problems.append(f"connection {i}: its name is {name!r}, not crowd-{i}")
                elif connection._sock is not original:
                    problems.append(f"connection {i}: the socket changed")
            except (redis.ConnectionError, redis.TimeoutError, OSError, redis.ResponseError) as e:
                problems.append(f"connection {i}: {type(e).__name__}: {e}")
        failed = failed or bool(problems)
        emit({"checked": len(connections), "problem_count": len(problems), "problems": problems[:5]})
    for connection, _ in connections:
        connection.disconnect()
    return 1 if failed else 0


# ---------------------------------------------------------------- command line


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    dataset_arguments(commands.add_parser("load", help="write N deterministic keys"))
    p = commands.add_parser("verify", help="check N keys: type, value, TTL")
    dataset_arguments(p)
    p.add_argument("--elapsed-max", type=float, default=600.0,
                   help="most seconds since the keys were written (the TTL lower bound); default 600")
    p = commands.add_parser("verify-bench", help="check the keys redis-benchmark wrote with -d SIZE")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--pattern", default="key:*")
    p.add_argument("--size", type=int, required=True)
    p = commands.add_parser("writer", help="write keys one at a time until duration or max, counting errors")
    dataset_arguments(p, keys_required=False)
    p.add_argument("--duration", type=float, required=True)
    p.add_argument("--max-keys", type=int, required=True)
    p.add_argument("--status-file", required=True)
    p.add_argument("--rate", type=float, default=0.0, help="keys per second at most (0: as fast as it can)")
    p = commands.add_parser("session", help="one connection; commands from stdin, one JSON reply per line")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p = commands.add_parser("crowd", help="N named connections; on each stdin line, checks each is the same one with its name")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--connections", type=int, required=True)
    args = parser.parse_args()
    run = {"load": load, "verify": verify, "verify-bench": verify_bench, "writer": writer, "session": session, "crowd": crowd}
    return run[args.command](args)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except redis.ConnectionError as e:
        emit({"error": f"cannot talk to the server: {e}"})
        sys.exit(2)
