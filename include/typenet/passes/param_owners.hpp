// Parameter owners: nodes with one path are one layer with one set of weights (a layer shared
// by name, or every node of a shared block). owner[k] is the first node with k's path; only
// owners have parameter slots.
#pragma once
#include "../core/isa.hpp"
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "facts.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::passes {

namespace detail {
// FNV-1a: a path's hash, so that the pairwise search below compares integers and compares the
// strings only where the hashes agree (clang's constant evaluator took 1.35 s over
// EfficientNet-B0's 15,000 pairs of string_views).
constexpr std::uint64_t path_hash(std::string_view s) {
    std::uint64_t h = 14695981039346656037ull;
    for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    return h;
}
}  // namespace detail

template <std::size_t K, std::size_t A>
constexpr std::array<std::size_t, K> param_owners(const Facts<K, A>& f) {
    std::array<std::uint64_t, K> hash{};
    for (std::size_t k = 0; k < K; ++k)
        if (f.kind[k] == Kind::layer) hash[k] = detail::path_hash(f.path[k]);
    std::array<std::size_t, K> owner{};
    for (std::size_t k = 0; k < K; ++k) {
        owner[k] = k;
        if (f.kind[k] != Kind::layer) continue;
        for (std::size_t j = 0; j < k; ++j)
            if (hash[j] == hash[k] && f.kind[j] == Kind::layer && f.path[j] == f.path[k]) {
                owner[k] = j;
                break;
            }
    }
    return owner;
}

// The facts and owners of a lowered module, evaluated once and shared by the name check and
// the program.
template <class M> inline constexpr auto facts_of = gather_facts<M>();
template <class M> inline constexpr auto owners_of = param_owners(facts_of<M>);

// Whether node k's weights are used by no other node.
template <std::size_t K>
constexpr bool owns_alone(const std::array<std::size_t, K>& owner, std::size_t k) {
    for (std::size_t j = 0; j < K; ++j)
        if (j != k && owner[j] == owner[k]) return false;
    return true;
}

}  // namespace typenet::passes
