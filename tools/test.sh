#!/usr/bin/env bash
# One command: every test, as CI runs them.
#   1. g++ 12, release: unit and golden tests, compile-fail tests (g++ and clang 16),
#      header self-containment, find_package/add_subdirectory consumers
#   2. clang 16: the same suite built and run with the other compiler
#   3. g++ with AddressSanitizer + UndefinedBehaviorSanitizer
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
jobs=$(nproc)
run() {  # name, cmake args...
  local name=$1; shift
  echo "=== $name"
  cmake -S . -B "build/$name" -G Ninja -DTYPENET_BUILD_EXAMPLES=OFF "$@" >/dev/null
  cmake --build "build/$name" -j "$jobs"
  ctest --test-dir "build/$name" --output-on-failure -j "$jobs"
}
run gcc -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++
run clang -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++-16 -DTYPENET_SLOW_TESTS=OFF
run sanitize -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=g++ -DTYPENET_SANITIZE=ON -DTYPENET_SLOW_TESTS=OFF
echo "all test configurations passed"
