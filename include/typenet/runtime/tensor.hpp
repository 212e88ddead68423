// Tensor<Dims...>: one sample, fixed size, on the stack (xtensor_fixed underneath).
#pragma once
#include "../core/isa.hpp"
#include <cstddef>
#include <xtensor/xfixed.hpp>
#include <xtensor/xtensor.hpp>

#include "../core/shape.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

template <std::size_t... Dims>
using Tensor = xt::xtensor_fixed<float, xt::xshape<Dims...>>;

namespace detail {
template <class S> struct tensor_of;
template <std::size_t... D> struct tensor_of<Shape<D...>> { using type = Tensor<D...>; };
}  // namespace detail

// The tensor type of one sample of shape S.
template <class S>
using tensor_of = typename detail::tensor_of<S>::type;

// A batch of samples of shape S whose count is known at run time.
template <class S>
using batch_of = xt::xtensor<float, S::rank + 1>;

}  // namespace typenet
