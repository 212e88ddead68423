// The memory plan: where each node's value lives, fixed at compile time.
//
// A value lives in the caller's input buffer (inputs, and views of them), the caller's
// output buffer (outputs, and the kernels that write them), or the arena. Nodes that share
// one buffer form a group: a view and its input; an in-place layer and its input once every
// other reader of that buffer has run; the nodes a kernel computes (its epilogue); a Concat
// and the kernels writing their slices of it. Each arena group lives from the node that
// first writes it to the last node that reads it. Groups are placed largest first, each at
// the lowest offset that no group alive at the same time occupies (greedy by size, as
// TFLite's arena planner does): on a chain that is the largest pair of neighbours, the
// least any plan can do.
//
// A 1x1 convolution that takes a squeeze-and-excitation's gate into its weights (gates.hpp)
// reads that layer's input. A 1x1 convolution that runs band by band (bands.hpp) before its depthwise reader reads its
// input until the reader's last band: that input lives until then. One that runs on each band
// after its depthwise producer writes its value from the producer's first band: that value
// lives from then.
//
// Sizes are floats per sample; a block of r rows scales every offset by r. Scratch (im2col
// blocks) sits above the activations and is live only during its node.
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <array>
#include <cstddef>

#include "../kernels/simd.hpp"
#include "bands.hpp"
#include "gates.hpp"
#include "epilogue.hpp"
#include "facts.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::passes {

enum class Where { input, output, arena };

template <std::size_t K>
struct MemoryPlan {
    std::array<Where, K> where{};
    std::array<std::size_t, K> index{};   // input or output slot, for Where::input / output
    std::array<std::size_t, K> offset{};  // floats per sample into the arena, for Where::arena
    std::array<std::size_t, K> group{};   // the node whose buffer this node's value is in
    std::array<std::size_t, K> last_use{};
    std::size_t activation_floats = 0;
    std::size_t naive_floats = 0;  // every intermediate value in a buffer of its own
    std::array<std::size_t, K> scratch_per_row{}, scratch_fixed{}, scratch_most{};

    constexpr std::size_t scratch_floats(std::size_t rows) const noexcept {
        std::size_t m = 0;
        for (std::size_t i = 0; i < K; ++i) m = std::max(m, std::min(scratch_per_row[i] * rows + scratch_fixed[i], scratch_most[i]));
        return m;
    }
    constexpr std::size_t arena_floats(std::size_t rows = 1) const noexcept { return activation_floats * rows + scratch_floats(rows); }
};

template <std::size_t K, std::size_t A>
constexpr MemoryPlan<K> plan_memory(const Facts<K, A>& f, const Epilogues<K>& e, const Bands<K>& b, const Gates<K>& gates) {
    constexpr std::size_t align = kernels::alignment / sizeof(float);
    MemoryPlan<K> p;
    for (std::size_t k = 0; k < K; ++k) p.last_use[k] = k;
    for (std::size_t c = 0; c < K; ++c)  // one pass over the edges: readers come in order
        for (std::size_t j = 0; j < f.arity(c); ++j) p.last_use[f.arg(c, j)] = c;
    // A 1x1 convolution run band by band reads its input until its depthwise reader's last band.
    for (std::size_t d = 0; d < K; ++d)
        if (b.producer[d] != none) p.last_use[f.arg(b.producer[d])] = std::max(p.last_use[f.arg(b.producer[d])], d);
    // A squeeze-and-excitation whose gate a 1x1 convolution takes: that convolution reads its input.
    for (std::size_t s = 0; s < K; ++s)
        if (gates.applier[s] != none) p.last_use[f.arg(s)] = std::max(p.last_use[f.arg(s)], gates.applier[s]);
    // Whether every reader of group g's members, other than k, has run before node k.
    auto readers_done_by = [&](std::size_t g, std::size_t k) {
        for (std::size_t m = 0; m < k; ++m)
            if (p.group[m] == g && p.last_use[m] > k) return false;
        return true;
    };
    auto share = [&](std::size_t k, std::size_t with) {
        p.group[k] = p.group[with];
        p.where[k] = p.where[with];
        p.index[k] = p.index[with];
    };
    for (std::size_t k = 0; k < K; ++k) {
        p.group[k] = k;
        // A Concat and the kernels that write their slices of it are one buffer, first
        // written by the first of those kernels.
        const std::size_t target = e.into[k] != none ? e.into[k] : k;
        std::size_t first_writer = none;
        for (std::size_t m = 0; m < k && first_writer == none; ++m)
            if (e.into[m] == target) first_writer = m;
        if (first_writer != none) {
            share(k, first_writer);
        } else if (e.into[k] != none) {
            p.where[k] = f.output_slot[target] != none ? Where::output : Where::arena;
            p.index[k] = f.output_slot[target] != none ? f.output_slot[target] : 0;
        } else if (e.head[k] != k) {  // computed by an earlier kernel, into that kernel's buffer
            share(k, e.head[k]);
        } else if (f.kind[k] == Kind::input) {
            p.where[k] = Where::input;
            p.index[k] = f.input_slot[k];
        } else if (f.output_slot[e.tail[k]] != none) {  // the node itself, or the tail it writes for
            p.where[k] = Where::output;
            p.index[k] = f.output_slot[e.tail[k]];
        } else {
            const std::size_t src = f.arity(k) == 1 ? f.arg(k) : none;
            p.where[k] = Where::arena;
            if (src != none && f.aliasing[k] == LayerAliasing::view) {
                share(k, src);
            } else if (src != none && f.aliasing[k] == LayerAliasing::in_place && p.where[p.group[src]] == Where::arena &&
                       readers_done_by(p.group[src], k)) {
                share(k, src);
            }
        }
        if (f.kind[k] != Kind::input && f.output_slot[k] == none) p.naive_floats += kernels::round_up(f.floats[k], align);
    }
    // Live range and size of each arena group.
    std::array<std::size_t, K> start{}, end{}, gsize{};
    for (std::size_t k = 0; k < K; ++k) start[k] = k;
    for (std::size_t d = 0; d < K; ++d)
        if (b.consumer[d] != none) start[p.group[b.consumer[d]]] = std::min(start[p.group[b.consumer[d]]], d);
    for (std::size_t k = 0; k < K; ++k) {
        const std::size_t g = p.group[k];
        end[g] = std::max({end[g], p.last_use[k], k});
        gsize[g] = std::max(gsize[g], kernels::round_up(f.floats[k], align));
    }
    // Greedy by size: the largest group first, each at the lowest offset that fits.
    std::array<std::size_t, K> order{};
    std::size_t n = 0;
    for (std::size_t g = 0; g < K; ++g)
        if (p.group[g] == g && p.where[g] == Where::arena) order[n++] = g;
    for (std::size_t i = 1; i < n; ++i)  // insertion sort: stable, by size descending
        for (std::size_t j = i; j > 0 && gsize[order[j]] > gsize[order[j - 1]]; --j) std::swap(order[j], order[j - 1]);
    std::array<bool, K> placed{};
    auto overlaps = [&](std::size_t g, std::size_t h) { return start[g] <= end[h] && start[h] <= end[g]; };
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t g = order[i];
        std::size_t best = std::size_t(-1);
        for (std::size_t c = 0; c <= K; ++c) {  // candidates: 0 and the end of every placed group
            if (c < K && (!placed[c] || !overlaps(g, c))) continue;
            const std::size_t at = c < K ? p.offset[c] + gsize[c] : 0;
            bool fits = true;
            for (std::size_t h = 0; h < K && fits; ++h)
                if (placed[h] && overlaps(g, h)) fits = at + gsize[g] <= p.offset[h] || p.offset[h] + gsize[h] <= at;
            if (fits) best = std::min(best, at);
        }
        p.offset[g] = best;
        placed[g] = true;
        p.activation_floats = std::max(p.activation_floats, best + gsize[g]);
    }
    for (std::size_t k = 0; k < K; ++k) {
        p.offset[k] = p.offset[p.group[k]];
        p.scratch_per_row[k] = kernels::round_up(f.scratch_per_row[k], align);
        p.scratch_fixed[k] = kernels::round_up(f.scratch_fixed[k], align);
        p.scratch_most[k] = f.scratch_most[k] == std::size_t(-1) ? f.scratch_most[k] : kernels::round_up(f.scratch_most[k], align);
    }
    return p;
}

}  // namespace typenet::passes
