#!/usr/bin/env bash
# typenet against ONNX Runtime on the zoo, model by model, the two runs seconds apart: this
# VM's speed moves by 10-40% within minutes, so a ratio of two sweeps taken minutes apart
# measures the VM as much as the libraries. Each round times, for every model in turn, ONNX
# Runtime (bench/zoo_ort.mjs on that model alone, MIN_SECONDS of rounds) and then typenet
# (bench_zoo, the same batch, --benchmark_min_time=MIN_SECONDS), both pinned to one core; the
# report is each model's ratio ORT / typenet in every round, and their median.
#   bench/zoo_vs_ort.sh ONNX_DIR [ROUNDS] [MODEL...]
# ONNX_DIR holds bench/zoo_onnx.py's models (<name>_b<batch>.onnx); MODEL defaults to every
# model there that bench_zoo also has. BENCH_ZOO (default build/bench/bench/bench_zoo),
# ORT_NODE_DIR (default /tmp/peers-work/ort), CORE (default 1), MIN_SECONDS (default 1).
#   e.g. bench/zoo_vs_ort.sh /tmp/typenet-zoo-onnx 5 mobilenet_v2_b1 efficientnet_b0_b8
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$1 rounds=${2:-5}
shift $(( $# >= 2 ? 2 : $# ))
bench=${BENCH_ZOO:-build/bench/bench/bench_zoo} core=${CORE:-1} secs=${MIN_SECONDS:-1}
export ORT_NODE_DIR=${ORT_NODE_DIR:-/tmp/peers-work/ort}
models=("$@")
if [[ ${#models[@]} -eq 0 ]]; then
  have=$("$bench" --benchmark_list_tests | sed -n 's|/typenet/.*$||p')
  for f in "$dir"/*.onnx; do
    m=$(basename "$f" .onnx)
    grep -qx "$m" <<< "$have" && models+=("$m")
  done
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for ((r = 0; r < rounds; ++r)); do
  for m in "${models[@]}"; do
    mkdir -p "$tmp/one" && rm -f "$tmp/one"/* && ln -s "$(realpath "$dir/$m.onnx")" "$tmp/one/$m.onnx"
    ort=$(MIN_SECONDS=$secs taskset -c "$core" node bench/zoo_ort.mjs "$tmp/one" | awk -v m="$m" '$1 == m { print $2 }')
    tn=$(taskset -c "$core" "$bench" --benchmark_filter="^$m/typenet/" --benchmark_min_time="$secs" --benchmark_color=false 2>/dev/null |
         sed 's/\x1b\[[0-9;]*m//g' | awk -v m="$m/typenet/" 'index($1, m) == 1 && !done { print ($3 == "ms" ? $2 : $3 == "us" ? $2 / 1e3 : $2 / 1e6); done = 1 }')
    echo "$m $ort $tn" >> "$tmp/times"
  done
done
python3 - "$tmp/times" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    m, ort, tn = line.split()
    rows.setdefault(m, []).append((float(ort), float(tn)))
print(f"{'model':26s} {'ORT ms':>9s} {'typenet ms':>11s}  ORT / typenet by round (median)")
for m, v in rows.items():
    ratios = [o / t for o, t in v]
    print(f"{m:26s} {statistics.median(o for o, _ in v):9.2f} {statistics.median(t for _, t in v):11.2f}  "
          + " ".join(f"{x:.2f}" for x in ratios) + f"  ({statistics.median(ratios):.2f}x)")
PY
