#!/usr/bin/env bash
# Install axe-core (the accessibility engine the browser tests inject) once, from the npm
# registry, into a cache outside the clone, and print the path of its axe.min.js:
#
#   export WAGTAIL_SYNDICATE_AXE="$(.ci/axe/install.sh)"
#
# The cache is WAGTAIL_SYNDICATE_AXE_CACHE, else /var/cache/wagtail-syndicate/axe when writable,
# else ~/.cache/wagtail-syndicate/axe; it is keyed by AXE_VERSION (default 4: the newest 4.x).
# Needs npm (any version). Progress goes to stderr.
set -euo pipefail
version=${AXE_VERSION:-4}
say() { echo "   $*" >&2; }

cache_root() {
    if [ -n "${WAGTAIL_SYNDICATE_AXE_CACHE:-}" ]; then
        echo "$WAGTAIL_SYNDICATE_AXE_CACHE"
    elif mkdir -p /var/cache/wagtail-syndicate/axe 2>/dev/null && [ -w /var/cache/wagtail-syndicate/axe ]; then
        echo /var/cache/wagtail-syndicate/axe
    else
        echo "${XDG_CACHE_HOME:-$HOME/.cache}/wagtail-syndicate/axe"
    fi
}

cache=$(cache_root)
dir="$cache/axe-core@$version"
mkdir -p "$cache"
(
    flock 9  # one install at a time (test runs and CI may share the cache)
    if [ ! -f "$dir/.installed" ]; then
        say "installing axe-core@$version into $dir"
        rm -rf "$dir" && mkdir -p "$dir"
        if ! (cd "$dir" && npm install --no-audit --no-fund --no-save --loglevel=warn \
            --prefix "$dir" "axe-core@$version" >"$dir.log" 2>&1); then
            tail -n 20 "$dir.log" >&2
            say "npm install axe-core@$version failed (log: $dir.log)"
            exit 1
        fi
        touch "$dir/.installed"
    fi
) 9>"$cache/.lock"
script="$dir/node_modules/axe-core/axe.min.js"
[ -f "$script" ] || { say "no $script"; exit 1; }
echo "$script"
