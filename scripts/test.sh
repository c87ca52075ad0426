#!/usr/bin/env bash
# Runs every test project of the solution in Release, then prints one closing line that counts them all
# (dotnet test prints one summary per test project).
set -uo pipefail
cd "$(dirname "$0")/.."

# The examples' end-to-end tests use Debian's tools: kv's redis-cli, redis-benchmark and Python redis client; the
# shop's curl, wrk, Chromium and Selenium.
bash scripts/install-test-deps.sh || exit 1

log=$(mktemp)
trap 'rm -f "$log"' EXIT
dotnet test Molt.slnx -c Release 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{ s += $2 } END { print s + 0 }')
failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{ s += $2 } END { print s + 0 }')
echo
echo "$passed passed, $failed failed"
exit "$status"
