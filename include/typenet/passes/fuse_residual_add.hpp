// Residual-add absorption: an Add of two nodes runs in the epilogue of the kernel computing
// its later operand (AddsInEpilogue: Dense, Conv2D, after any folded BatchNorm) when that
// operand is read by the Add alone and the other operand is ready before the kernel runs.
// ResNet's conv-BN-add is then one kernel (and with fuse_activation, conv-BN-add-ReLU).
// Identity layers between the kernel and the Add (EfficientNet's StochasticDepth, a Dropout,
// Identity: nothing to compute in inference), each read by the next alone, are computed by
// the kernel too.
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <cstddef>

#include "epilogue.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::passes {

template <std::size_t K, std::size_t A>
constexpr Epilogues<K> fuse_residual_add(const Facts<K, A>& f, Epilogues<K> e) {
    for (std::size_t k = 0; k < K; ++k) {
        if (!f.is_add[k]) continue;
        const std::size_t a0 = f.arg(k, 0), a1 = f.arg(k, 1);
        if (a0 == a1) continue;
        const std::size_t later = std::max(a0, a1), other = std::min(a0, a1);
        std::size_t v = later, reader = k;
        while (f.kind[v] == Kind::layer && f.is_identity[v] && f.arity(v) == 1 && e.head[v] == v && only_for(f, e, v, reader))
            reader = v, v = f.arg(v);
        const std::size_t p = e.head[v];
        if (f.kind[p] != Kind::layer || !f.adds[p] || e.tail[p] != v || !only_for(f, e, v, reader)) continue;
        if (e.add[p] != none || e.activation[p] != none || other >= p) continue;
        for (std::size_t u = later; u != v; u = f.arg(u)) e.head[u] = p;
        e.add[p] = k;
        e.addend[p] = other;
        e.head[k] = p;
        e.tail[p] = k;
    }
    return e;
}

}  // namespace typenet::passes
