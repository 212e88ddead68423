// The memory plan of a chain, computed at compile time from the fixed execution order.
//
// Activation j is the output of layer j-1 (activation 0 is the model input). Activations
// that a layer may rewrite in place or merely reinterpret share one buffer (a "group");
// the groups take turns at the bottom and the top of the arena, so a group's bytes are
// reused as soon as its last consumer has run. The arena is therefore the largest sum of
// two consecutive groups, not the sum of all activations. The input group is the caller's
// (read-only: only views may alias it), the last group is the caller's output buffer.
//
// Sizes are floats per sample; a batch block of r rows scales every offset by r.
#pragma once
#include <algorithm>
#include <array>
#include <cstddef>

#include "../kernels/simd.hpp"
#include "../layer.hpp"

namespace typenet::detail {

enum class Where { input, output, arena };

template <std::size_t N>  // N layers, N + 1 activations
struct MemoryPlan {
    std::array<Where, N + 1> where{};
    std::array<std::size_t, N + 1> offset{};  // floats per sample, into the arena
    std::size_t activation_floats = 0;        // the arena part that holds activations
    std::size_t naive_floats = 0;             // every intermediate activation in its own buffer
    // After the activations: the largest scratch any layer asks for, which may grow with the
    // rows of the call (a nested block's arena) or not (an im2col block).
    std::array<std::size_t, N> scratch_per_row{}, scratch_fixed{};
    constexpr std::size_t scratch_floats(std::size_t rows) const noexcept {
        std::size_t m = 0;
        for (std::size_t i = 0; i < N; ++i) m = std::max(m, scratch_per_row[i] * rows + scratch_fixed[i]);
        return m;
    }
    constexpr std::size_t max_scratch_per_row() const noexcept { return *std::max_element(scratch_per_row.begin(), scratch_per_row.end()); }
    constexpr std::size_t max_scratch_fixed() const noexcept { return *std::max_element(scratch_fixed.begin(), scratch_fixed.end()); }
    // Arena for a call on `rows` samples.
    constexpr std::size_t arena_floats(std::size_t rows = 1) const noexcept {
        return activation_floats * rows + scratch_floats(rows);
    }
};

template <std::size_t N>
constexpr MemoryPlan<N> plan_memory(const std::array<std::size_t, N + 1>& sizes,
                                    const std::array<LayerAliasing, N>& aliasing,
                                    const std::array<std::size_t, N>& scratch_per_row,
                                    const std::array<std::size_t, N>& scratch_fixed) {
    constexpr std::size_t align = kernels::alignment / sizeof(float);
    MemoryPlan<N> plan;
    std::array<std::size_t, N + 1> group{};
    std::size_t groups = 1;
    for (std::size_t j = 1; j <= N; ++j) {
        const LayerAliasing a = aliasing[j - 1];
        const bool shares = a == LayerAliasing::view || (a == LayerAliasing::in_place && group[j - 1] != 0);
        group[j] = shares ? group[j - 1] : groups++;
    }
    if (group[N] == 0) group[N] = groups++;  // the output must not alias the input
    const std::size_t last = group[N];

    std::array<std::size_t, N + 2> gsize{};
    for (std::size_t j = 0; j <= N; ++j) gsize[group[j]] = std::max(gsize[group[j]], kernels::round_up(sizes[j], align));
    std::size_t arena = 0;
    for (std::size_t g = 1; g < last; ++g) {
        arena = std::max(arena, gsize[g]);
        if (g + 1 < last) arena = std::max(arena, gsize[g] + gsize[g + 1]);
    }
    for (std::size_t j = 0; j <= N; ++j) {
        const std::size_t g = group[j];
        plan.where[j] = g == 0 ? Where::input : g == last ? Where::output : Where::arena;
        plan.offset[j] = (g % 2 == 1) ? 0 : arena - gsize[g];
        if (j > 0 && j < N) plan.naive_floats += kernels::round_up(sizes[j], align);
    }
    plan.activation_floats = arena;
    for (std::size_t i = 0; i < N; ++i) {
        plan.scratch_per_row[i] = kernels::round_up(scratch_per_row[i], align);
        plan.scratch_fixed[i] = kernels::round_up(scratch_fixed[i], align);
    }
    return plan;
}

}  // namespace typenet::detail
