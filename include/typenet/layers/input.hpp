// Input<Dims...>: the first element of a model; fixes the shape of one sample.
#pragma once
#include "../core/isa.hpp"
#include <cstddef>

#include "../core/shape.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

template <std::size_t... Dims>
struct Input {
    using shape_type = Shape<Dims...>;
};

namespace detail {
template <class T> struct is_input : std::false_type {};
template <std::size_t... D> struct is_input<Input<D...>> : std::true_type {};
}  // namespace detail

}  // namespace typenet
