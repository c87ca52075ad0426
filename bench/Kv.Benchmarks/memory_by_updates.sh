#!/bin/bash
# The resident memory of kv v5 under `molt run [--keep-old-code]` as it is updated to itself N times with `molt update`:
# what keeping old code loaded costs in memory, against the default (each version unloaded).
#   dotnet build bench/Kv.Benchmarks -c Release
#   bash bench/Kv.Benchmarks/memory_by_updates.sh --keep-old-code 40
#   bash bench/Kv.Benchmarks/memory_by_updates.sh "" 40
set -u
D="$(dirname "$0")/bin/Release/net10.0"
FLAG=${1:-}
UPDATES=${2:-40}
NAME=kv-memory-$$
dotnet "$D/molt/Molt.Cli.dll" run "$D/versions/v5/Kv.dll" --name $NAME $FLAG -- --port 0 > /dev/null 2>&1 &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait' EXIT
for _ in $(seq 1 150); do
  dotnet "$D/molt/Molt.Cli.dll" list 2>/dev/null | grep -q "^$NAME" && break
  sleep 0.2
done
sleep 2
rss() { awk '/VmRSS/{print $2}' /proc/$PID/status; }
echo "molt run ${FLAG:-(default)}: updates 0: resident $(rss) kB"
for i in $(seq 1 "$UPDATES"); do
  out=$(dotnet "$D/molt/Molt.Cli.dll" update $NAME "$D/versions/v5/Kv.dll" --json 2>&1)
  echo "$out" | grep -q '"outcome": *"Committed"' || { echo "update $i did not commit: $out"; exit 1; }
  (( i % 10 == 0 )) && echo "molt run ${FLAG:-(default)}: updates $i: resident $(rss) kB"
done
exit 0
