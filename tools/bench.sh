#!/usr/bin/env bash
# Builds and runs the benchmarks against the peers (installs them first when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh --bench
cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DTYPENET_BUILD_BENCH=ON -DTYPENET_BUILD_TESTS=OFF \
      -DTYPENET_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build/bench
# Medians of 5 repetitions: the peers (LibTorch above all) vary from run to run.
for b in build/bench/bench/bench_*; do "$b" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true "$@"; done
