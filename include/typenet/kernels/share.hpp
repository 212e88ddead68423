// A share of one kernel's work, for several threads on one sample (runtime/program.hpp,
// run_shared). Share `index` of `count` does phase 0 (its part of a kernel's preparation, such
// as its rows of a padded copy) or phase 1 (its part of the output), with a barrier between
// the phases. Kernels split their work in whole register tiles, so every output is computed
// as on one thread: the same bits. The default, one share doing both phases, is one thread.
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <cstddef>
#include <utility>

namespace typenet::inline TYPENET_ISA_NAMESPACE::kernels {

struct Share {
    std::size_t index = 0, count = 1;
    int phase = -1;  // -1: both
    constexpr bool copies() const noexcept { return phase != 1; }
    constexpr bool computes() const noexcept { return phase != 0; }
    // This share's part of [0, n), in whole units (a multiple of unit from 0).
    constexpr std::pair<std::size_t, std::size_t> range(std::size_t n, std::size_t unit = 1) const noexcept {
        const std::size_t units = (n + unit - 1) / unit;
        return {std::min(n, units * index / count * unit), std::min(n, units * (index + 1) / count * unit)};
    }
};

// Weights at least this large stream from beyond L2 (1 MB on Zen 4) on every pass. Threads
// sharing one sample of a small map split such a layer by output channels, each reading its
// part of the weights (every output still computed as on one thread); smaller weights stay
// split by pixels, since a split by channels makes the next layer read half of its input from
// the other core's cache (docs/precision-and-threads.md).
inline constexpr std::size_t streamed_weight_bytes = std::size_t{1} << 20;
constexpr bool weights_stream(std::size_t weight_bytes) noexcept { return weight_bytes >= streamed_weight_bytes; }

}  // namespace typenet::kernels
