// Layer options are types in a pack (Dense<10, relu, no_bias>), so a layer prints exactly as
// the user wrote it. These helpers pick options out of the pack with flat folds.
#pragma once
#include "../core/isa.hpp"
#include <tuple>
#include <type_traits>

#include "../kernels/activations.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::detail {

template <class Default, class... Options>
struct activation_option {
    using found = decltype(std::tuple_cat(
        std::conditional_t<ActivationFunction<Options>, std::tuple<Options>, std::tuple<>>{}...));
    static_assert(std::tuple_size_v<found> <= 1, "typenet: a layer takes at most one activation");
    using type = typename decltype([] {
        if constexpr (std::tuple_size_v<found> == 0) return std::type_identity<Default>{};
        else return std::type_identity<std::tuple_element_t<0, found>>{};
    }())::type;
};

// The first option that is a specialisation of a given template (kernel<...>, stride<...>),
// or Default. Is<T> says whether T is one.
template <template <class> class Is, class Default, class... Options>
struct find_option {
    using found = decltype(std::tuple_cat(std::conditional_t<Is<Options>::value, std::tuple<Options>, std::tuple<>>{}...));
    using type = typename decltype([] {
        if constexpr (std::tuple_size_v<found> == 0) return std::type_identity<Default>{};
        else return std::type_identity<std::tuple_element_t<0, found>>{};
    }())::type;
};
template <template <class> class Is, class Default, class... Options>
using find_option_t = typename find_option<Is, Default, Options...>::type;

template <class Option, class... Options>
inline constexpr bool has_option = (std::is_same_v<Option, Options> || ...);

}  // namespace typenet::detail
