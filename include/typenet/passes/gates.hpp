// Gates into weights: squeeze-and-excitation scales each channel of its map by a gate, and
// when a 1x1 convolution alone reads the scaled map (MobileNetV3's and EfficientNet's blocks:
// the projection), conv(x * g) = conv'(x) with conv' the convolution whose weights for input
// channel c are scaled by g[c]. The gate is computed (a pool over the map and two small
// products), the convolution's packed weights are scaled into scratch, and the convolution
// reads the unscaled map: the pass over the map that scaled it is gone. Worth it where the
// weights are far fewer than the map's values (min_ratio: EfficientNet's and MobileNetV3's
// 56x56 and 28x28 blocks; their 14x14 and 7x7 ones keep the scaling pass). Per sample: each
// has its gate.
//
// The rounding differs from scaling the map (w g x against w (g x), each rounded once), so the
// threads path (run_shared) runs the same: the outputs are bitwise one thread's. Only where the
// memory plan gives the gate layer's value its input's buffer (it runs in place): the
// convolution then reads that buffer, which the scaling pass would have written over.
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <array>
#include <cstddef>

#include "../kernels/simd.hpp"
#include "bands.hpp"
#include "crop_to_readers.hpp"
#include "epilogue.hpp"
#include "facts.hpp"
#include "memory_plan.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::passes {

template <std::size_t K>
struct Gates {
    std::array<std::size_t, K> reader{};  // a gate layer: the 1x1 convolution that takes its gate (none: not)
    std::array<std::size_t, K> source{};  // a 1x1 convolution: the gate layer whose gate it takes (none: not)
    std::size_t floats = 0;                // scratch: the gate, the pooled vector, the scaled weights (the largest)
    constexpr bool any() const noexcept { return floats > 0; }
};

// Scratch floats of one pair: gate and pooled vector (channels rounded to vectors), then the
// convolution's packed parameters.
constexpr std::size_t gate_floats(std::size_t channels) noexcept {
    return kernels::round_up(kernels::round_up(channels, kernels::lanes), kernels::alignment / sizeof(float));
}

// The map's values per weight scaled, at least: the weights come from memory (the map was just
// written, in cache), and scaling them costs the convolution's read of them too. EfficientNet-B0,
// 14x14x480 -> 80 (2 values a weight): the gate and the scaling 10.2 -> 15.8 us; 56x56x96 -> 24
// (98 a weight) 41.3 -> 28.5.
inline constexpr std::size_t min_ratio = 8;

template <std::size_t K, std::size_t A>
constexpr Gates<K> gate_into_weights(const Facts<K, A>& f, const Epilogues<K>& e, const Crops<K>& c, const Bands<K>& b,
                                     const MemoryPlan<K>& plan) {
    Gates<K> g;
    g.reader.fill(none);
    g.source.fill(none);
    for (std::size_t s = 0; s < K; ++s) {
        if (f.kind[s] != Kind::layer || !f.gates_channels[s] || e.head[s] != s || f.arity(s) != 1) continue;
        const std::size_t x = f.arg(s), r = e.sole_reader[s];
        if (r == none || !only_for(f, e, s, r) || plan.where[s] != Where::arena || plan.group[s] != plan.group[x]) continue;
        if (f.kind[r] != Kind::layer || !f.scales_inputs[r] || e.head[r] != r || e.into[r] != none || c.out[r][0] || c.in[r][0]) continue;
        if (b.reader[r] != none || b.producer[r] != none || f.scratch_per_row[r] || f.scratch_fixed[r]) continue;
        const std::size_t pixels = f.in_hwc[r][0] * f.in_hwc[r][1], channels = f.in_hwc[r][2];
        if (f.packed[r] * min_ratio > pixels * channels) continue;
        g.reader[s] = r, g.source[r] = s;
        g.floats = std::max(g.floats, 2 * gate_floats(channels) + f.packed[r]);
    }
    return g;
}

}  // namespace typenet::passes
