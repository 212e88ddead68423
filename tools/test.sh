#!/usr/bin/env bash
# One command: every test, as CI runs them (each stage prints its minutes: CI allows 30 in all).
#   1. g++ 12, release: unit and golden tests, compile-fail tests (g++ and clang 16), the
#      examples, find_package/add_subdirectory consumers
#   2. clang 16 with AddressSanitizer + UndefinedBehaviorSanitizer (-O0: clang builds it in half
#      the time g++ does): every test program, so clang's reading of all the code runs too
#   3. the other instruction sets the README promises: the tests whose kernels depend on the
#      register width, built at -O1 by clang 16 — with -mavx2 -mfma (this build also compiles
#      every header alone and runs the model zoo at 224x224: clang compiles those large types
#      in half g++'s time) and with SSE4.2 only (no FMA: xsimd's fma is a multiply and an add)
#      — and by g++ for AArch64 (NEON; g++-aarch64-linux-gnu, run under qemu-user-static);
#      the threaded tests with ThreadSanitizer (g++)
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
stage=$SECONDS
tools/install-deps.sh --arm
jobs=$(nproc)
timed() {  # what the last stage took, and the run so far
  echo "--- $1: $(( (SECONDS - stage) / 60 )) min $(( (SECONDS - stage) % 60 )) s (all so far: $(( (SECONDS - started) / 60 )) min)"
  stage=$SECONDS
}
timed dependencies
run() {  # name, cmake args...
  local name=$1; shift
  echo "=== $name"
  cmake -S . -B "build/$name" -G Ninja -DTYPENET_BUILD_EXAMPLES=OFF "$@" >/dev/null
  cmake --build "build/$name" -j "$jobs"
  ctest --test-dir "build/$name" --output-on-failure -j "$jobs"
  timed "$name"
}
run gcc -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ -DTYPENET_HEADER_TESTS=OFF -DTYPENET_ZOO_TESTS=OFF
# (The compile-fail tests and the examples are compile-time checks, and the examples run what
# the tests run: the g++ build runs them; the sanitizer build runs the test programs. The model
# zoo at 224x224 runs in the AVX2 build: its layers are the ones the test programs check at
# small sizes, and at -O0 under ASan it would take minutes.)
run sanitize -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++-16 -DTYPENET_SANITIZE=ON -DTYPENET_SLOW_TESTS=OFF -DTYPENET_HEADER_TESTS=OFF \
  -DTYPENET_EXAMPLE_TESTS=OFF -DTYPENET_ZOO_TESTS=OFF
subset() {  # name, ctest regex, build targets (space-separated), cmake args...
  local name=$1 regex=$2 targets=$3; shift 3
  echo "=== $name"
  cmake -S . -B "build/$name" -G Ninja -DTYPENET_BUILD_EXAMPLES=OFF -DTYPENET_SLOW_TESTS=OFF "$@" >/dev/null
  # shellcheck disable=SC2086
  cmake --build "build/$name" -j "$jobs" --target $targets
  ctest --test-dir "build/$name" --output-on-failure -j "$jobs" -R "$regex"
  timed "$name"
}
# The tests whose kernels depend on the register width (dense, activations, convolution, the
# lanes schedule, the recurrent cells and their register path, one network four ways), at -O1:
# they check which code runs and what it computes, not its speed, and build in far less time.
isa_tests="test_layers test_conv test_one_engine test_sequence"
isa_regex='^test_(layers|conv|one_engine|sequence)$'
isa_opt="-DCMAKE_CXX_FLAGS_RELEASE=-O1 -DNDEBUG"
subset avx2 '^test_(layers|conv|one_engine|sequence|zoo)$' "$isa_tests test_zoo test_headers_alone" -DCMAKE_BUILD_TYPE=Release "$isa_opt" \
  -DCMAKE_CXX_COMPILER=clang++-16 "-DTYPENET_ARCH_FLAGS=-mavx2;-mfma"
subset sse42 "$isa_regex" "$isa_tests" -DCMAKE_BUILD_TYPE=Release "$isa_opt" -DCMAKE_CXX_COMPILER=clang++-16 -DTYPENET_ZOO_TESTS=OFF \
  -DTYPENET_HEADER_TESTS=OFF "-DTYPENET_ARCH_FLAGS=-msse4.2"
# (No threaded test: under Debian 12's qemu-user-static, pthread_create in the guest hangs.)
# (The readers of weight files, test_io, run in the x86 builds only: they read bytes through
# unsigned char and memcpy, whatever the target's char, and both targets are little-endian.)
arm_tests="test_layers test_finite_fast_math test_conv test_one_engine test_sequence"
arm_regex='^test_(layers|finite_fast_math|conv|one_engine|sequence)$'
# ARMv8.2 with the dot product (Cortex-A55/A76 and later, Graviton 2+, Apple M): int8's sdot
# path; the toolchain's own armv8-a target would take int8's reference path, which the x86
# builds run in the same generic form.
subset aarch64 "$arm_regex" "$arm_tests" -DCMAKE_BUILD_TYPE=Release "$isa_opt" -DTYPENET_ZOO_TESTS=OFF -DTYPENET_HEADER_TESTS=OFF --toolchain cmake/toolchains/aarch64-linux-gnu.cmake \
  "-DTYPENET_ARCH_FLAGS=-march=armv8.2-a+dotprod"
subset tsan '^test_(hot_swap|no_allocation|threads)$' "test_hot_swap test_no_allocation test_threads" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=g++ -DTYPENET_SANITIZE_THREAD=ON
echo "all test configurations passed in $(( (SECONDS - started) / 60 )) min $(( (SECONDS - started) % 60 )) s"
