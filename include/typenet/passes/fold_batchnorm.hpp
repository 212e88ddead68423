// BatchNorm folding: a BatchNorm whose input is a kernel that can fold it (FoldsBatchNorm:
// a linear Conv2D or Dense) and that only it reads is folded into that kernel's weights and
// bias when they are packed; it costs nothing at run time. Not when either layer's weights
// are shared with another call: folding would change them for both.
#pragma once
#include "../core/isa.hpp"
#include <cstddef>

#include "epilogue.hpp"
#include "param_owners.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::passes {

template <std::size_t K, std::size_t A>
constexpr Epilogues<K> fold_batchnorm(const Facts<K, A>& f, const std::array<std::size_t, K>& owner, Epilogues<K> e) {
    for (std::size_t k = 0; k < K; ++k) {
        if (!f.is_batchnorm[k] || f.arity(k) != 1) continue;
        const std::size_t j = f.arg(k);
        if (!f.folds_batchnorm[j] || e.fused_away(j) || e.tail[j] != j || !only_for(f, e, j, k)) continue;
        if (!owns_alone(owner, j) || !owns_alone(owner, k)) continue;
        e.batchnorm[j] = k;
        e.head[k] = j;
        e.tail[j] = k;
    }
    return e;
}

}  // namespace typenet::passes
