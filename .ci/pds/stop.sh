#!/usr/bin/env bash
# Stop the PDS that start.sh started (its pid in $PDS_STATE/pid) and delete its data.
set -uo pipefail
state=${PDS_STATE:-/tmp/wagtail-syndicate-pds}
if [ -f "$state/pid" ]; then
    pid=$(cat "$state/pid")
    if kill -TERM "$pid" 2>/dev/null; then
        for _ in $(seq 1 40); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.25
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
fi
# Only what server.mjs and start.sh put there.
rm -rf "$state/data" "$state/blobs" "$state/url" "$state/pid" "$state/pds.log"
rmdir "$state" 2>/dev/null || true
