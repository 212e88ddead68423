// The PyTorch flatten permutation. typenet flattens an [H, W, C] map in (h, w, c) order;
// PyTorch holds a spatial layer's output channels-first and flattens (c, h, w). So the weight
// of a layer that reads flattened features (a Dense) fed by a Flatten of a rank-3 map that a
// spatial layer computed (through any nesting of blocks, and through Dropout and other
// identities) has its columns permuted when it is loaded from PyTorch. hwc[k]: that
// map's {H, W, C} for the layer at node k, zeros if none.
#pragma once
#include "../core/isa.hpp"
#include <array>
#include <cstddef>

#include "facts.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::passes {

template <std::size_t K, std::size_t A>
constexpr std::array<std::array<std::size_t, 3>, K> flatten_permutation(const Facts<K, A>& f) {
    std::array<bool, K> after_spatial{};  // a spatial layer is among k's ancestors (or is k)
    for (std::size_t k = 0; k < K; ++k) {
        after_spatial[k] = f.spatial[k];
        for (std::size_t j = 0; j < f.arity(k); ++j) after_spatial[k] = after_spatial[k] || after_spatial[f.arg(k, j)];
    }
    std::array<std::array<std::size_t, 3>, K> hwc{};
    for (std::size_t k = 0; k < K; ++k) {
        if (f.kind[k] != Kind::layer || !f.reads_flat[k] || f.arity(k) != 1) continue;
        std::size_t a = f.arg(k);
        while (f.kind[a] == Kind::layer && f.is_identity[a]) a = f.arg(a);
        if (f.kind[a] == Kind::layer && f.is_flatten[a] && f.in_hwc[a][0] != 0 && after_spatial[f.arg(a)]) hwc[k] = f.in_hwc[a];
    }
    return hwc;
}

}  // namespace typenet::passes
