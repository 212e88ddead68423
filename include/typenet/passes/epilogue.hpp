// What the fusion passes decide, and the reader counts they all ask for.
//
// A kernel is the node that runs it (its head). Nodes fused into it are computed by it:
// head[m] is the kernel computing node m (m itself when m runs its own), and tail[h] the last
// node kernel h computes, whose value it writes. The passes run in a fixed order, each on
// the result of the one before (runtime/program.hpp): fold_batchnorm, fuse_residual_add,
// fuse_activation, concat_in_place.
#pragma once
#include "../core/isa.hpp"
#include <array>
#include <cstddef>

#include "facts.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::passes {

template <std::size_t K>
struct Epilogues {
    std::array<std::size_t, K> head{}, tail{};
    std::array<std::size_t, K> batchnorm{};     // the BatchNorm folded into kernel k's weights
    std::array<std::size_t, K> add{}, addend{};  // the Add in kernel k's epilogue, and its other operand
    std::array<std::size_t, K> activation{};    // the activation node run in kernel k's epilogue
    std::array<std::size_t, K> into{};          // the Concat whose output kernel k writes its slice of
    std::array<std::size_t, K> slice_offset{};  // where that slice starts in each row
    std::array<std::size_t, K> readers{};       // how many nodes read node k (a node read twice counts twice)
    std::array<std::size_t, K> sole_reader{};   // the one node reading k, or none

    constexpr bool fused_away(std::size_t k) const noexcept { return head[k] != k; }
};

// Nothing fused yet: every node its own kernel.
template <std::size_t K, std::size_t A>
constexpr Epilogues<K> unfused_epilogues(const Facts<K, A>& f) {
    Epilogues<K> e;
    for (std::size_t k = 0; k < K; ++k) {
        e.head[k] = e.tail[k] = k;
        e.batchnorm[k] = e.add[k] = e.addend[k] = e.activation[k] = e.into[k] = none;
        e.sole_reader[k] = none;
    }
    for (std::size_t c = 0; c < K; ++c)
        for (std::size_t j = 0; j < f.arity(c); ++j) {
            const std::size_t k = f.arg(c, j);
            e.sole_reader[k] = ++e.readers[k] == 1 ? c : none;
        }
    return e;
}

// Whether node v's value exists only to be read by node c: one reader, not an output.
template <std::size_t K, std::size_t A>
constexpr bool only_for(const Facts<K, A>& f, const Epilogues<K>& e, std::size_t v, std::size_t c) {
    return e.readers[v] == 1 && e.sole_reader[v] == c && f.output_slot[v] == none;
}

}  // namespace typenet::passes
