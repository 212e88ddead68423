// Conv2DTranspose<Filters, kernel<KH, KW>, Options...>: the U-Net decoder's upsampling
// convolution. Weights in PyTorch's ConvTranspose2d layout: weight [C, Filters, KH, KW],
// bias [Filters]. Output size per axis: (in - 1) * stride - pad_before - pad_after +
// dilation * (kernel - 1) + 1 + output_padding, where
//   padding<P> (PyTorch's padding=P) removes P on each side,
//   padding_valid (default) removes nothing (Keras: (in - 1) * stride + kernel),
//   padding_same gives in * stride (Keras' rule: max(kernel - stride, 0) removed, the extra
//   one at the end),
//   output_padding<OH, OW> adds rows/columns at the bottom/right (PyTorch's output_padding).
#pragma once
#include "../core/isa.hpp"
#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "../kernels/activations.hpp"
#include "options.hpp"
#include "../core/diagnostics.hpp"
#include "../kernels/conv_transpose.hpp"
#include "../core/layer.hpp"
#include "conv_options.hpp"
#include "dense.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

template <std::size_t H, std::size_t W = H> struct output_padding {};

namespace detail {
template <class T> struct is_output_padding : std::false_type {};
template <std::size_t H, std::size_t W> struct is_output_padding<output_padding<H, W>> : std::true_type {};
template <std::size_t H, std::size_t W> struct pair_of<output_padding<H, W>> { static constexpr std::size_t h = H, w = W; };

template <class T> struct is_symmetric_padding : std::false_type {};
template <std::size_t H, std::size_t W> struct is_symmetric_padding<padding<H, W>> : std::true_type {};

// Removed before/after along one axis, and the output size.
struct TransposeAxis {
    std::size_t before, after, out;
    bool ok;
};
template <class P>
consteval TransposeAxis transpose_axis(std::size_t in, std::size_t k, std::size_t s, std::size_t d, std::size_t op, bool rows) {
    const std::size_t full = (in - 1) * s + d * (k - 1) + 1 + op;
    std::size_t before = 0, after = 0;
    if constexpr (std::is_same_v<P, padding_same>) {
        const std::size_t total = (k - 1) * d + 1 > s ? (k - 1) * d + 1 - s : 0;
        before = total / 2, after = total - total / 2;
    } else if constexpr (!std::is_same_v<P, padding_valid>) {
        before = after = rows ? padding_rule<P>::rows(0, 0, 1).before : padding_rule<P>::cols(0, 0, 1).before;
    }
    const bool ok = full > before + after;
    return {before, after, ok ? full - before - after : 0, ok};
}
}  // namespace detail

template <std::size_t Filters, class... Options>
struct Conv2DTranspose {
    using activation = typename detail::activation_option<linear, Options...>::type;
    static constexpr bool bias = !detail::has_option<no_bias, Options...>;
    static constexpr std::string_view keras_class = "conv2d_transpose";
    static constexpr bool spatial = true;  // PyTorch holds its output channels-first
    using K = detail::find_option_t<detail::is_kernel, void, Options...>;
    static_assert(!std::is_same_v<K, void>, "typenet: Conv2DTranspose needs a kernel size: Conv2DTranspose<F, tn::kernel<3, 3>>");
    using S = detail::find_option_t<detail::is_stride, stride<1>, Options...>;
    using D = detail::find_option_t<detail::is_dilation, dilation<1>, Options...>;
    using OP = detail::find_option_t<detail::is_output_padding, output_padding<0>, Options...>;
    using P = detail::find_option_t<detail::is_padding, padding_valid, Options...>;
    static_assert(detail::pair_of<S>::h > 0 && detail::pair_of<S>::w > 0, "typenet: Conv2DTranspose's stride must be at least 1");
    static_assert(std::is_same_v<P, padding_valid> || std::is_same_v<P, padding_same> || detail::is_symmetric_padding<P>::value,
                  "typenet: Conv2DTranspose takes padding_valid, padding_same or padding<PH, PW>");
    static_assert(detail::pair_of<OP>::h < detail::pair_of<S>::h && detail::pair_of<OP>::w < detail::pair_of<S>::w,
                  "typenet: output_padding must be smaller than the stride (as in PyTorch)");

    template <class In>
    static consteval kernels::ConvTransposeGeometry geometry() {
        using namespace detail;
        const auto r = transpose_axis<P>(In::dims[0], pair_of<K>::h, pair_of<S>::h, pair_of<D>::h, pair_of<OP>::h, true);
        const auto c = transpose_axis<P>(In::dims[1], pair_of<K>::w, pair_of<S>::w, pair_of<D>::w, pair_of<OP>::w, false);
        return {In::dims[0], In::dims[1], In::dims[2], pair_of<K>::h, pair_of<K>::w, pair_of<S>::h, pair_of<S>::w,
                pair_of<D>::h, pair_of<D>::w, r.before, c.before, r.out, c.out, Filters};
    }
    template <class In>
    static consteval bool accepts_impl() {
        if constexpr (In::rank != 3) return false;
        else return geometry<In>().oh > 0 && geometry<In>().ow > 0;
    }
    template <class In> static constexpr bool accepts = accepts_impl<In>();
    template <class In> using expected_input = shape_of_rank<3>;
    template <class In> using output_shape_for = Shape<geometry<In>().oh, geometry<In>().ow, Filters>;
    template <class In>
    static constexpr auto params_for = [] {
        constexpr auto g = geometry<In>();
        if constexpr (bias)
            return std::array{ParamSpec{"weight", {g.c, Filters, g.kh, g.kw}, Init::glorot_uniform, "kernel", KerasLayout::conv_transpose},
                              ParamSpec{"bias", {Filters}}};
        else
            return std::array{ParamSpec{"weight", {g.c, Filters, g.kh, g.kw}, Init::glorot_uniform, "kernel", KerasLayout::conv_transpose}};
    }();
    template <class In> static constexpr std::size_t flops_for = 2 * In::dims[0] * In::dims[1] * In::dims[2] * geometry<In>().kh * geometry<In>().kw * Filters;
    template <class In> static constexpr std::size_t packed_size_for = geometry<In>().packed_floats();
    template <class In> static constexpr std::size_t scratch_fixed_for = kernels::transpose_pixel_block * geometry<In>().kh * geometry<In>().kw * Filters;
    template <class In>
    static void pack(const float* canonical, float* packed) {
        constexpr auto g = geometry<In>();
        std::vector<float> tmp(g.c * g.kh * g.kw * Filters);
        kernels::conv_transpose_pack(g, canonical, bias ? canonical + tmp.size() : nullptr, packed, tmp.data());
    }
    template <class In>
    static void forward(const float* params, const float* in, float* out, std::size_t rows, float* scratch) {
        kernels::conv_transpose2d<activation>(geometry<In>(), params, in, out, rows, scratch);
    }
    static std::string name() {
        std::string s = "Conv2DTranspose<" + std::to_string(Filters) + ", " + std::to_string(detail::pair_of<K>::h) + "x" +
                        std::to_string(detail::pair_of<K>::w);
        if (detail::pair_of<S>::h != 1 || detail::pair_of<S>::w != 1) {
            s += ", ";
            s += detail::pair_str("stride", detail::pair_of<S>::h, detail::pair_of<S>::w);
        }
        if (!detail::padding_rule<P>::name().empty()) {
            s += ", ";
            s += detail::padding_rule<P>::name();
        }
        if (detail::pair_of<OP>::h || detail::pair_of<OP>::w) {
            s += ", ";
            s += detail::pair_str("output_padding", detail::pair_of<OP>::h, detail::pair_of<OP>::w);
        }
        if constexpr (!std::is_same_v<activation, linear>) {
            s += ", ";
            s += activation::name();
        }
        return s + ">";
    }
};

}  // namespace typenet
