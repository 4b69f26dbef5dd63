#!/usr/bin/env bash
# The whole test suite, on a fresh Debian/Ubuntu machine with Rust and npm:
# installs what the tests need from the system, fetches the real test data,
# pins the software Vulkan adapter (so snapshots match everywhere) and runs
# every test of the workspace.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

need=()
ls /usr/share/vulkan/icd.d/lvp_icd.*.json >/dev/null 2>&1 || need+=(mesa-vulkan-drivers)
ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1' || need+=(libvulkan1)
command -v npm >/dev/null || need+=(npm)
python3 -m pip --version >/dev/null 2>&1 || need+=(python3-pip)   # test data from PyPI wheels
if [ ${#need[@]} -gt 0 ]; then
    echo "installing: ${need[*]}"
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

tests/fetch-data.sh

# Mesa's lavapipe, whatever the machine's own GPU: snapshots are pixels.
VK_DRIVER_FILES="$(ls /usr/share/vulkan/icd.d/lvp_icd.*.json | head -n1)"
export VK_DRIVER_FILES VK_ICD_FILENAMES="$VK_DRIVER_FILES" WGPU_BACKEND=vulkan
XDG_RUNTIME_DIR="$(mktemp -d)"
chmod 700 "$XDG_RUNTIME_DIR"
export XDG_RUNTIME_DIR

# Style and lints first: they fail in seconds where the tests take minutes.
cargo fmt --all --check
python3 tests/import_cycles.py engine/src app
cargo clippy --workspace --all-targets --locked -- -D warnings

cargo test --workspace --locked "$@"
