// SeparableConv2D<Filters, Options...>: Keras' (and MobileNet's) depthwise-separable
// convolution, a named block of two layers:
//   0: DepthwiseConv2D with the spatial options (kernel, stride, dilation, padding,
//      depth_multiplier), no bias;
//   1: Conv2D<Filters, kernel<1>> with the activation and the bias (unless no_bias).
// Its weights are "<i>.0.weight" [C * multiplier, 1, KH, KW] and "<i>.1.weight" / ".bias".
#pragma once
#include "../core/isa.hpp"
#include <cstddef>
#include <string>
#include <tuple>

#include "options.hpp"
#include "sequential.hpp"
#include "conv2d.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

namespace detail {
template <class T>
struct is_spatial_option
    : std::bool_constant<is_kernel<T>::value || is_stride<T>::value || is_dilation<T>::value || is_padding<T>::value ||
                         is_depth_multiplier<T>::value> {};
template <template <class...> class T, class Tuple> struct apply_tuple;
template <template <class...> class T, class... A> struct apply_tuple<T, std::tuple<A...>> { using type = T<A...>; };
template <template <class> class Keep, class... Options>
using keep_options = decltype(std::tuple_cat(std::conditional_t<Keep<Options>::value, std::tuple<Options>, std::tuple<>>{}...));
template <class T> struct is_pointwise_option : std::bool_constant<!is_spatial_option<T>::value> {};

template <std::size_t Filters>
struct pointwise {
    template <class... Options> using type = Conv2D<Filters, kernel<1>, Options...>;
};
template <class... Options> using depthwise_no_bias = DepthwiseConv2D<Options..., no_bias>;

template <std::size_t Filters, class... Options>
using separable_chain =
    Sequential<typename apply_tuple<depthwise_no_bias, keep_options<is_spatial_option, Options...>>::type,
               typename apply_tuple<pointwise<Filters>::template type, keep_options<is_pointwise_option, Options...>>::type>;
}  // namespace detail

template <std::size_t Filters, class... Options>
struct SeparableConv2D : detail::separable_chain<Filters, Options...> {
    static std::string name() { return "SeparableConv2D<" + std::to_string(Filters) + ">"; }
};

}  // namespace typenet
