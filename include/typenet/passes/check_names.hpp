// The name check over the IR: one path is one layer with one set of weights, called on one
// input shape. Two different layers under one name, or a shared layer called on two shapes,
// is one error in words naming the path (a graph's label, a Named block's, a position).
#pragma once
#include "../core/isa.hpp"
#include <cstddef>
#include <type_traits>
#include <utility>

#include "../core/fixed_string.hpp"
#include "facts.hpp"
#include "param_owners.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

template <fixed_string Name>
struct layer_named {
    template <class First, class Second> static constexpr bool names_two_different_layers = false;
    template <class FirstInput, class SecondInput> static constexpr bool is_shared_by_calls_on_different_shapes = false;
};

namespace passes {
namespace detail {

template <fixed_string Name, class A, class B>
struct report_name_clash {
    static_assert(layer_named<Name>::template names_two_different_layers<A, B>,
                  "typenet: two different layers have the same name; a name is one layer with one set of weights");
};
template <fixed_string Name, class SA, class SB>
struct report_shared_shapes {
    static_assert(layer_named<Name>::template is_shared_by_calls_on_different_shapes<SA, SB>,
                  "typenet: a shared layer (one name, one set of weights) is called on inputs of different shapes");
};

}  // namespace detail

// Names over the lowered IR: one path is one layer, called on one input shape.
// (A class, not a function: g++ mangles every instantiated function, and this one's name
// would carry the whole model.)
template <class A, class B>
struct clashes : std::bool_constant<!std::is_same_v<typename A::op, typename B::op> || !(typename A::in_shape{} == typename B::in_shape{})> {};
template <class A>
struct clashes<A, A> : std::false_type {};
// Returns std::true_type or std::false_type: it is called for its type (decltype), so that a
// clash is reported while the return type is deduced, never during a constant evaluation.
template <class M>
consteval auto check_names() {
    constexpr auto& owner = owners_of<M>;
    constexpr std::size_t clash = [&]<std::size_t... k>(std::index_sequence<k...>) {
        std::size_t r = M::size;
        ((r = r == M::size && clashes<typename M::template node<owner[k]>, typename M::template node<k>>::value ? k : r), ...);
        return r;
    }(std::make_index_sequence<M::size>{});
    if constexpr (clash == M::size) {
        return std::true_type{};
    } else {
        using A = typename M::template node<owner[clash]>;
        using B = typename M::template node<clash>;
        if constexpr (!std::is_same_v<typename A::op, typename B::op>)
            (void)detail::report_name_clash<A::path, typename A::op, typename B::op>{};
        else
            (void)detail::report_shared_shapes<A::path, typename A::in_shape, typename B::in_shape>{};
        return std::false_type{};
    }
}

}  // namespace passes
}  // namespace typenet
