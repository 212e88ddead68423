#!/usr/bin/env bash
# Compile time and compiler peak memory of a model with N Dense layers (default 8, 32, 128),
# g++ -O2, one translation unit that makes the model, runs it and prints its summary.
#   tools/compile_time.sh [N...]
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
for n in "${@:-8 32 128}"; do
  for n1 in $n; do
    layers=""
    for ((i = 0; i < n1; ++i)); do layers+=", tn::Dense<$((32 + (i % 5) * 8)), tn::relu>"; done
    cat > "$tmp/m$n1.cpp" <<CPP
#include <typenet/typenet.hpp>
#include <iostream>
namespace tn = typenet;
using M = tn::Sequential<tn::Input<64>$layers>;
int main() {
    auto net = tn::make<M>();
    typename tn::Net<M>::input_type x{};
    auto y = net(x);
    std::cout << tn::summary<M>() << y(0) << "\n";
}
CPP
    /usr/bin/time -f "$n1 layers: %e s, %M KB peak" g++ -std=c++20 -O2 -march=native -Iinclude -c "$tmp/m$n1.cpp" -o "$tmp/m$n1.o"
  done
done
rm -rf "$tmp"
