#!/usr/bin/env bash
# ONNX Runtime with 1 and 2 intra-op threads on the Keras CNN and ResNet-20, beside
# bench_threads (bench/threads.cpp), on both cores of the 2-core VM:
#   bench/threads_ort.sh [ONNX_DIR]
# Exports the models with Debian's PyTorch (bench/threads_onnx.py) once, then times them with
# npm's onnxruntime-node, which ../shared/peers/run_all.sh installs under /tmp/peers-work/ort
# (ORT_NODE_DIR to use another).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-/tmp/typenet-threads-onnx}
/usr/bin/python3 bench/threads_onnx.py "$dir"
for t in 1 2; do THREADS=$t taskset -c "${CORES:-0,1}" node bench/zoo_ort.mjs "$dir"; done
