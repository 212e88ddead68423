#!/usr/bin/env bash
# Installs the Debian 12 packages typenet needs, only those that are missing.
#   tools/install-deps.sh          library, tests and demo: compilers, CMake, xtensor, xsimd,
#                                  zlib, Catch2 v2, nlohmann-json (the tests' JSON oracle),
#                                  libsndfile (the streaming amp example)
#   tools/install-deps.sh --bench  also the benchmark peers: Google Benchmark, Eigen,
#                                  LibTorch with OpenBLAS, oneDNN
#   tools/install-deps.sh --fixtures  also PyTorch for /usr/bin/python3 (to regenerate fixtures)
#   tools/install-deps.sh --arm    also the AArch64 cross compiler, qemu-user-static and arm64
#                                  zlib (multiarch), for the ARM tests tools/test.sh runs
set -euo pipefail
pkgs=(g++ cmake ninja-build clang-16 libclang-rt-16-dev libxtensor-dev libxsimd-dev
      nlohmann-json3-dev zlib1g-dev catch2 libsndfile1-dev)
arm=0
for arg in "$@"; do
  case "$arg" in
    --bench) pkgs+=(libbenchmark-dev libeigen3-dev libtorch-dev libopenblas0 libopenblas-dev libdnnl-dev) ;;
    --fixtures) pkgs+=(python3-torch python3-numpy python3-torchvision) ;;
    --arm) arm=1; pkgs+=(g++-aarch64-linux-gnu qemu-user-static zlib1g-dev:arm64) ;;
    *) echo "usage: $0 [--bench] [--fixtures] [--arm]" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  if ((arm)) && ! dpkg --print-foreign-architectures | grep -qx arm64; then
    $sudo dpkg --add-architecture arm64
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
