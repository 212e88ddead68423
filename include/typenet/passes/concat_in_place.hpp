// Concat in place: a kernel whose value only a Concat on the last axis reads, and that can
// write rows at a stride (WritesStrided: Dense, Conv2D, DepthwiseConv2D), writes its slice
// of the Concat's output directly; the Concat copies only its other inputs (nothing, when
// every input wrote its own slice). Not for a kernel that adds a residual.
#pragma once
#include "../core/isa.hpp"
#include <cstddef>

#include "epilogue.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::passes {

template <std::size_t K, std::size_t A>
constexpr Epilogues<K> concat_in_place(const Facts<K, A>& f, Epilogues<K> e) {
    for (std::size_t c = 0; c < K; ++c) {
        if (!f.is_channel_concat[c]) continue;
        std::size_t offset = 0;
        for (std::size_t j = 0; j < f.arity(c); ++j) {
            const std::size_t m = f.arg(c, j);
            const std::size_t p = e.head[m];
            if (f.kind[p] == Kind::layer && f.writes_strided[p] && !f.separate_activation[p] && e.tail[p] == m &&
                only_for(f, e, m, c) && e.add[p] == none && e.into[p] == none) {
                e.into[p] = c;
                e.slice_offset[p] = offset;
            }
            offset += f.last_dim[m];
        }
    }
    return e;
}

// How many of Concat node c's inputs write their own slices.
template <std::size_t K>
constexpr std::size_t inputs_in_place(const Epilogues<K>& e, std::size_t c) {
    std::size_t n = 0;
    for (std::size_t m = 0; m < K; ++m) n += e.into[m] == c;
    return n;
}

}  // namespace typenet::passes
