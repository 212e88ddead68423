// Gates into weights: a squeeze-and-excitation layer (ScalesChannels: y = x * gate(x), one
// gate per channel from the whole map) whose value only a 1x1 convolution reads (TakesInputGate:
// EfficientNet's and MobileNetV3's projection) runs no pass of its own; the convolution's step
// computes the gate from the unscaled map, scales its packed weights by it — W diag(g), one
// product per weight — and runs on the unscaled map. Where the map has more floats than those
// weights, that is less work than scaling the map (one read and one write of it): the rule
// below asks four times the floats.
// The numbers differ from scaling the map by the rounding of one product per term
// (x (w g) instead of (x g) w). An int8 1x1 (GatesInputs) instead multiplies each pixel by the
// gate as it quantizes it: the products of scaling the map, so the same bits, and no pass.
//
// The gate is per sample: a batch scales the weights once a sample. One sample on several
// threads computes the gate on the leader, then shares the scaled weights by panels and the
// convolution by rows of its map (runtime/program.hpp's GatedStep::run_shared).
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <array>
#include <cstddef>

#include "../kernels/simd.hpp"
#include "crop_to_readers.hpp"
#include "epilogue.hpp"
#include "facts.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::passes {

template <std::size_t K>
struct Gates {
    std::array<std::size_t, K> applier{};  // a squeeze-and-excitation node: the 1x1 kernel taking its gate (none: not)
    std::array<std::size_t, K> gate{};     // a 1x1 kernel: the node whose gate it takes (none: not)
    std::size_t floats = 0;                // scratch: the largest scaled weights, a gate and the gate's own scratch
    constexpr bool any() const noexcept { return floats > 0; }
    // Where the gate and its scratch go, after the scaled weights of kernel q (or, where the
    // kernel gates its inputs instead (GatesInputs), after the kernel's own scratch).
    static constexpr std::size_t weights_floats(std::size_t packed, bool gates_inputs = false, std::size_t scratch = 0) noexcept {
        return kernels::round_up(gates_inputs ? scratch : packed, kernels::alignment / sizeof(float));
    }
};

template <std::size_t K, std::size_t A>
constexpr Gates<K> gate_into_weights(const Facts<K, A>& f, const Epilogues<K>& e, const Crops<K>& c) {
    constexpr std::size_t align = kernels::alignment / sizeof(float);
    Gates<K> g;
    g.applier.fill(none);
    g.gate.fill(none);
    for (std::size_t s = 0; s < K; ++s) {
        if (f.kind[s] != Kind::layer || !f.scales_channels[s] || e.head[s] != s || e.tail[s] != s || f.arity(s) != 1) continue;
        const std::size_t q = e.sole_reader[s];
        if (q == none || !only_for(f, e, s, q)) continue;
        if (f.kind[q] != Kind::layer || !f.takes_input_gate[q] || e.head[q] != q || f.arity(q) != 1 || !plain_kernel(f, e, c, q))
            continue;
        // Scaling the weights costs as much per float as scaling the map (a read and a write,
        // and the GEMM then reads the copy): it pays where the map has several times the
        // floats. EfficientNet-B0, per block, against scaling the map: 112x112x32 (0.25% of
        // the map's floats) 245-252 -> 234-244 us, 56x56x144 (1%) 505-519 -> 491-498, but
        // 14x14x672 (65%) 401-410 -> 410-414.
        // A kernel that gates its inputs as it quantizes them (int8) costs nothing more for it.
        if (!f.gates_inputs[q] && 4 * f.packed[q] > f.floats[s]) continue;
        const std::size_t channels = kernels::round_up(f.last_dim[s], align);
        g.applier[s] = q, g.gate[q] = s;
        g.floats = std::max(g.floats, Gates<K>::weights_floats(f.packed[q], f.gates_inputs[q], f.scratch_fixed[q]) + channels +
                                          f.scratch_per_row[s]);  // a row's scratch: the gate's
    }
    return g;
}

}  // namespace typenet::passes
