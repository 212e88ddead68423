// Activation fusion: an activation layer whose input is computed by a kernel that can run it
// in its epilogue (FusesActivation: a linear Dense or Conv2D, also after a folded BatchNorm;
// or any kernel that absorbed a residual Add, which applies it after the add) and that only
// the activation reads runs in that epilogue, in registers.
#pragma once
#include "../core/isa.hpp"
#include <cstddef>

#include "epilogue.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::passes {

template <std::size_t K, std::size_t A>
constexpr Epilogues<K> fuse_activation(const Facts<K, A>& f, Epilogues<K> e) {
    for (std::size_t k = 0; k < K; ++k) {
        if (!f.is_activation[k] || f.arity(k) != 1) continue;
        const std::size_t a = f.arg(k);
        const std::size_t p = e.head[a];
        if (f.kind[p] != Kind::layer || e.tail[p] != a || !only_for(f, e, a, k)) continue;
        if (e.activation[p] != none || e.into[p] != none) continue;
        if (!(e.add[p] != none ? f.adds[p] : f.fuses_activation[p])) continue;
        e.activation[p] = k;
        e.head[k] = p;
        e.tail[p] = k;
    }
    return e;
}

}  // namespace typenet::passes
