#!/usr/bin/env bash
# One command on a fresh Debian 12 machine: install what is missing, build, run the MLP demo.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DTYPENET_BUILD_TESTS=OFF >/dev/null
cmake --build build/release --target mlp_demo
build/release/examples/mlp_demo
