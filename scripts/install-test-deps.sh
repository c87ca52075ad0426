#!/usr/bin/env bash
# Installs what the end-to-end tests of the examples need, when it is missing. examples/Kv: Debian's redis-tools
# (redis-cli, redis-benchmark), redis-server (the reference the client suites are checked against) and python3-redis
# (the Python client, for /usr/bin/python3). examples/Shop: curl, wrk (load during the live updates), chromium,
# chromium-driver and python3-selenium (the page watched in a headless browser, for /usr/bin/python3).
# Idempotent: does nothing when everything is there.
set -euo pipefail

missing=()
command -v redis-cli >/dev/null 2>&1 && command -v redis-benchmark >/dev/null 2>&1 || missing+=(redis-tools)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
/usr/bin/python3 -c 'import redis' >/dev/null 2>&1 || missing+=(python3-redis)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
/usr/bin/python3 -c 'import selenium' >/dev/null 2>&1 || missing+=(python3-selenium)

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "missing: ${missing[*]} — install them as root: apt-get install ${missing[*]}" >&2
    exit 1
fi
echo "installing ${missing[*]} from Debian's packages"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The package may start a redis-server of its own where there is an init system; the tests start their own.
