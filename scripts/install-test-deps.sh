#!/usr/bin/env bash
# Installs what the end-to-end tests of the examples need, when it is missing. examples/Kv: Debian's redis-tools
# (redis-cli, redis-benchmark), redis-server (the reference the client suites are checked against) and python3-redis
# (the Python client, for /usr/bin/python3). examples/Shop: curl, wrk (load during the live updates), chromium,
# chromium-driver and python3-selenium (the page watched in a headless browser, for /usr/bin/python3); and the Node.js
# client `redis` (node-redis 6, which needs Node.js 20 or later) in examples/Kv/clients/node, installed from its
# package-lock.json by `npm ci`.
# Idempotent: does nothing when everything is there.
set -euo pipefail

# The Node.js client: installed again only when package-lock.json changed since the last `npm ci`.
node_client="$(cd "$(dirname "$0")/.." && pwd)/examples/Kv/clients/node"
install_node_client() {
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        echo "missing: Node.js 20 or later with npm (https://nodejs.org, or NodeSource's Debian packages)" >&2
        return 1
    fi
    if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
        echo "Node.js $(node --version) is too old for node-redis 6: install Node.js 20 or later" >&2
        return 1
    fi
    if [ ! -f "$node_client/node_modules/.package-lock.json" ] \
        || [ "$node_client/package-lock.json" -nt "$node_client/node_modules/.package-lock.json" ]; then
        echo "installing the Node.js client in $node_client (npm ci)"
        (cd "$node_client" && npm ci --no-audit --no-fund --loglevel=error)
    fi
}

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
    install_node_client
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
install_node_client
