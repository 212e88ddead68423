#!/usr/bin/env bash
# ONNX Runtime on torchvision's models, beside bench_zoo (bench/zoo.cpp), pinned to one core:
#   bench/zoo_ort.sh [ONNX_DIR]
# Exports the models with Debian's PyTorch (bench/zoo_onnx.py) once, then times them with
# npm's onnxruntime-node, which ../shared/peers/run_all.sh installs under /tmp/peers-work/ort
# (ORT_NODE_DIR to use another).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-/tmp/typenet-zoo-onnx}
/usr/bin/python3 bench/zoo_onnx.py "$dir"
taskset -c "${CORE:-1}" node bench/zoo_ort.mjs "$dir"
