#!/bin/bash
# The memory an update needs: kv under `molt run` holding N keys, updated once with `molt update`; the process's resident
# memory before the update, its peak during it (VmHWM, reset just before with /proc/PID/clear_refs) and after it, and
# the managed heap (molt status) before and after. While the state crosses, the old version's objects and the new
# version's are both alive.
#   dotnet build bench/Kv.Benchmarks -c Release
#   bash bench/Kv.Benchmarks/memory_during_update.sh 1000000 1 2      # 1M keys, v1 -> v2
#   bash bench/Kv.Benchmarks/memory_during_update.sh 1000000 4 5 --keep-old-code
set -u
D="$(dirname "$0")/bin/Release/net10.0"
KEYS=${1:-1000000}
FROM=${2:-1}
TO=${3:-2}
FLAG=${4:-}
NAME=kv-update-memory-$$
OUT=$(mktemp)
MOLT=(dotnet "$D/molt/Molt.Cli.dll")
"${MOLT[@]}" run "$D/versions/v$FROM/Kv.dll" --name $NAME $FLAG -- --port 0 > "$OUT" 2>&1 &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait; rm -f "$OUT"' EXIT
PORT=
for _ in $(seq 1 150); do
  PORT=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$OUT" | head -1 | cut -d: -f2)
  [ -n "$PORT" ] && "${MOLT[@]}" list 2>/dev/null | grep -q "^$NAME" && break
  sleep 0.2
done
[ -n "$PORT" ] || { echo "kv did not start:"; cat "$OUT"; exit 1; }

# N keys of 16-byte values, every tenth with a TTL of an hour, sent as RESP through redis-cli --pipe.
awk -v n="$KEYS" 'BEGIN {
  for (i = 0; i < n; i++) {
    k = sprintf("key:%012d", i); v = sprintf("value-%010d", i)
    if (i % 10 == 0) printf "*5\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$2\r\nEX\r\n$4\r\n3600\r\n", length(k), k, length(v), v
    else printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, length(v), v
  }
}' | redis-cli -p "$PORT" --pipe | tail -1
[ "$(redis-cli -p "$PORT" dbsize)" = "$KEYS" ] || { echo "dbsize is not $KEYS"; exit 1; }
sleep 2

# molt run supervises: the program runs in a child process of its own (molt status names it), not in $PID.
SERVING=$("${MOLT[@]}" status $NAME --json | grep -o '"processId": *[0-9]*' | grep -o '[0-9]*$')
kb() { awk -v f="$1:" '$1 == f {print $2}' /proc/$SERVING/status; }
managed() { "${MOLT[@]}" status $NAME --json | grep -o '"managedMemoryBytes": *[0-9]*' | grep -o '[0-9]*$' | awk '{printf "%d", $1 / 1048576}'; }
BEFORE=$(kb VmRSS)
MANAGED_BEFORE=$(managed)
echo 5 > /proc/$SERVING/clear_refs   # resets VmHWM to the current resident size
RESULT=$("${MOLT[@]}" update $NAME "$D/versions/v$TO/Kv.dll" --json 2>&1)
echo "$RESULT" | grep -q '"outcome": *"Committed"' || { echo "the update did not commit: $RESULT"; exit 1; }
PEAK=$(kb VmHWM)
AFTER=$(kb VmRSS)
MANAGED_AFTER=$(managed)
PAUSE=$(echo "$RESULT" | grep -o '"pauseMilliseconds": *[0-9.]*' | grep -o '[0-9.]*$')
[ "$(redis-cli -p "$PORT" dbsize)" = "$KEYS" ] || { echo "dbsize is not $KEYS after the update"; exit 1; }
echo "keys $KEYS, v$FROM -> v$TO ${FLAG:-(default)}: resident before $((BEFORE / 1024)) MiB, peak during the update $((PEAK / 1024)) MiB" \
  "(+$(((PEAK - BEFORE) / 1024)) MiB), after $((AFTER / 1024)) MiB; managed heap before ${MANAGED_BEFORE} MiB, after ${MANAGED_AFTER} MiB; pause ${PAUSE} ms"
