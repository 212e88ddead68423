// Crop to readers: a convolution whose value only a floor pooling reads, and whose last rows
// or columns that pooling never reads (MaxPool2D<2> on an 11 x 11 map reads 10 x 10), computes
// only the part read (CropsOutput: Conv2D, DepthwiseConv2D) and stores it as a smaller map,
// which the pooling reads as its input (ReadsInputCrop: MaxPool2D, AveragePool2D). The
// pixels computed are bitwise the whole map's. Not for a kernel that adds a residual or writes
// a Concat's slice (their operands have the whole map's layout), nor for a layer whose own
// activation runs as a pass of its own. Runs after the fusion passes: the value read is the
// kernel's tail (after its folded BatchNorm and fused activation).
#pragma once
#include "../core/isa.hpp"
#include <array>
#include <cstddef>

#include "epilogue.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::passes {

template <std::size_t K>
struct Crops {
    using HW = std::array<std::size_t, 2>;
    std::array<HW, K> out{};  // kernel k computes out[k] = {rows, cols} of its map ({0, 0}: all of it)
    std::array<HW, K> in{};   // node k reads its input as that crop ({0, 0}: the whole map)
    constexpr bool any() const noexcept {
        for (const HW& c : out)
            if (c[0]) return true;
        return false;
    }
};

template <std::size_t K, std::size_t A>
constexpr Crops<K> crop_to_readers(const Facts<K, A>& f, const Epilogues<K>& e) {
    Crops<K> c;
    for (std::size_t r = 0; r < K; ++r) {
        const auto used = f.input_used[r];
        if (f.kind[r] != Kind::layer || f.arity(r) != 1 || used[0] == 0) continue;
        const std::size_t t = f.arg(r), k = e.head[t];
        if (used[0] >= f.in_hwc[r][0] && used[1] >= f.in_hwc[r][1]) continue;  // it reads the whole map
        if (f.kind[k] != Kind::layer || !f.crops_output[k] || f.separate_activation[k] || e.tail[k] != t || !only_for(f, e, t, r)) continue;
        if (e.add[k] != none || e.into[k] != none) continue;
        c.out[k] = c.in[r] = used;
    }
    return c;
}

// Whether kernel k writes its value plainly: into a buffer of its own (not a Concat's slice),
// neither its input nor its output cropped, its activation in its epilogue, no scratch (or one
// it computes without: scratch_optional) — what
// the passes that run a kernel on parts of a map (passes/bands.hpp) or with other weights
// (passes/gates.hpp) can call as it is.
template <std::size_t K, std::size_t A>
constexpr bool plain_kernel(const Facts<K, A>& f, const Epilogues<K>& e, const Crops<K>& c, std::size_t k) {
    return e.into[k] == none && c.out[k][0] == 0 && c.in[k][0] == 0 && !f.separate_activation[k] && !f.scratch_per_row[k] &&
           (!f.scratch_fixed[k] || f.scratch_optional[k]);
}

}  // namespace typenet::passes
