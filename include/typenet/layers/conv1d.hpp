// Conv1D<Filters, Options...> on a sequence [T, C] (channels-last; PyTorch's Conv1d holds it
// [C, T]): out[t][f] = act(b[f] + sum_j sum_c W[f][c][j] x[t * stride + j * dilation - left][c]).
//
// Options: kernel<K> (required), stride<S>, dilation<D>, groups<G> (G = C with Filters a
// multiple of C is a depthwise convolution), an activation, tn::no_bias, and the padding:
// padding_valid (default), padding_same (stride 1: T outputs, the extra one on the right, as
// PyTorch's padding="same"), padding<P> (P zeros both sides, PyTorch's padding=P), or
// padding_causal (the (K - 1) * D past steps only, as TCNs and WaveNet pad).
//
// A causal convolution with stride 1 streams: its state is the last (K - 1) * D input steps
// (a history that is zeros at the start of a sequence, which is exactly causal padding), so
// net.step and net.process run it a sample at a time with the outputs of the whole sequence.
// Parameters are PyTorch's: weight [Filters, C / G, K], bias [Filters]. A BatchNorm after it
// folds into it, an activation after it runs in its epilogue.
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <type_traits>

#include "../core/diagnostics.hpp"
#include "../core/layer.hpp"
#include "../core/shape.hpp"
#include "../kernels/activations.hpp"
#include "../kernels/conv1d.hpp"
#include "conv_options.hpp"
#include "dense.hpp"
#include "options.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

// Left padding only: (K - 1) * dilation zeros before the sequence (Keras' padding="causal").
struct padding_causal {};

namespace detail {
template <class T> struct is_padding1d : is_padding<T> {};
template <> struct is_padding1d<padding_causal> : std::true_type {};
}  // namespace detail

namespace detail {

// Conv1D and DepthwiseConv1D: Spec says how many filters and groups for C input channels.
template <class Spec, class... Options>
struct Conv1DLayer {
    using activation = typename detail::activation_option<linear, Options...>::type;
    static constexpr bool bias = !detail::has_option<no_bias, Options...>;
    static constexpr std::string_view keras_class = Spec::depthwise ? "depthwise_conv1d" : "conv1d";
    using kernel_option = detail::find_option_t<detail::is_kernel, kernel<0>, Options...>;
    using stride_option = detail::find_option_t<detail::is_stride, stride<1>, Options...>;
    using dilation_option = detail::find_option_t<detail::is_dilation, dilation<1>, Options...>;
    using padding_option = detail::find_option_t<detail::is_padding1d, padding_valid, Options...>;
    static constexpr std::size_t K = detail::pair_of<kernel_option>::h;
    static constexpr std::size_t S = detail::pair_of<stride_option>::h;
    static constexpr std::size_t D = detail::pair_of<dilation_option>::h;
    static constexpr bool causal = std::is_same_v<padding_option, padding_causal>;
    static constexpr std::size_t extent = K ? (K - 1) * D + 1 : 0;
    using invalid_options = std::conditional_t<
        K == 0, kernel_size_required,
        std::conditional_t<S == 0, stride_must_be_at_least_1, std::conditional_t<D == 0, dilation_must_be_at_least_1, void>>>;

    template <class In> static constexpr std::size_t channels = In::dims[In::rank - 1];
    template <class In> static constexpr std::size_t Filters = Spec::filters(channels<In>);
    template <class In> static constexpr std::size_t G = Spec::groups(channels<In>);
    // Zeros before and after a sequence of T steps.
    template <class In>
    static constexpr detail::AxisPad pad = [] {
        constexpr std::size_t T = In::dims[0];
        if constexpr (causal) return detail::AxisPad{extent - 1, 0};
        else if constexpr (std::is_same_v<padding_option, padding_same>) return detail::padding_rule<padding_same>::same(T, extent, S);
        else if constexpr (std::is_same_v<padding_option, padding_valid>) return detail::AxisPad{};
        else return detail::padding_rule<padding_option>::rows(T, extent, S);
    }();
    template <class In> static constexpr std::size_t padded_steps = In::dims[0] + pad<In>.before + pad<In>.after;
    template <class In>
    static consteval bool accepts_impl() {
        if constexpr (In::rank != 2) return false;
        else return channels<In> % G<In> == 0 && Filters<In> % G<In> == 0 && padded_steps<In> >= extent;
    }
    template <class In> static constexpr bool accepts = accepts_impl<In>();
    template <class In>
    static consteval auto expected_probe() {
        if constexpr (In::rank != 2) return std::type_identity<shape_of_rank<2>>{};
        else if constexpr (channels<In> % G<In> != 0 || Filters<In> % G<In> != 0) return std::type_identity<channels_divisible_by<G<In>>>{};
        else return std::type_identity<spatial_size_at_least<extent, 1>>{};
    }
    template <class In> using expected_input = typename decltype(expected_probe<In>())::type;
    template <class In> static constexpr std::size_t out_steps = (padded_steps<In> - extent) / S + 1;
    template <class In> using output_shape_for = Shape<out_steps<In>, Filters<In>>;

    template <class In>
    static constexpr auto params_for = [] {
        ParamSpec w{"weight", {Filters<In>, channels<In> / G<In>, K}, Init::glorot_uniform, "kernel", KerasLayout::conv1d};
        if constexpr (Spec::depthwise) {
            w.keras_name = "depthwise_kernel";
            w.keras_layout = KerasLayout::depthwise1d;
            w.depth_multiplier = Filters<In> / channels<In>;
        }
        if constexpr (bias) return std::array{w, ParamSpec{"bias", {Filters<In>}}};
        else return std::array{w};
    }();
    template <class In> static constexpr std::size_t flops_for = 2 * out_steps<In> * Filters<In> * (channels<In> / G<In>) * K;

    template <class In> using packing = kernels::Conv1DPacking<channels<In>, Filters<In>, K, G<In>>;
    template <class In> static constexpr std::size_t packed_size_for = packing<In>::floats;
    template <class In>
    static void pack(const float* canonical, float* packed) noexcept {
        pack_with_bias<In>(canonical, bias ? canonical + Filters<In> * (channels<In> / G<In>) * K : nullptr, packed);
    }
    static constexpr bool absorbs_batchnorm = std::is_same_v<activation, linear>;
    template <class In> static constexpr std::size_t out_channels = Filters<In>;
    template <class In>
    static void pack_with_bias(const float* weight, const float* b, float* packed) noexcept {
        kernels::conv1d_pack<channels<In>, Filters<In>, K, G<In>>(weight, b, packed);
    }

    // A causal convolution with stride 1 carries its last extent - 1 input steps; one of a
    // single step (kernel 1, no padding) reads only the present step.
    template <class In>
    static constexpr bool streams_for = S == 1 && (causal || (extent == 1 && pad<In>.before == 0 && pad<In>.after == 0));
    static constexpr std::size_t history = causal ? extent - 1 : 0;
    template <class In> static constexpr std::size_t state_size_for = history * channels<In>;
    // The padded sequence of one row.
    template <class In> static constexpr std::size_t scratch_fixed_for = padded_steps<In> * channels<In>;

    static constexpr bool absorbs_activation = std::is_same_v<activation, linear>;
    template <class In, class Act>
    static void forward_with(const float* params, const float* in, float* out, std::size_t rows, float* scratch, float* state) noexcept {
        constexpr std::size_t C = channels<In>, T = In::dims[0];
        constexpr detail::AxisPad p = pad<In>;
        using Out = output_shape_for<In>;
        for (std::size_t r = 0; r < rows; ++r) {
            float* st = state + r * state_size_for<In>;
            if constexpr (causal) std::copy_n(st, history * C, scratch);  // the past steps, zeros at the start
            else std::fill_n(scratch, p.before * C, 0.f);
            std::copy_n(in + r * In::size, T * C, scratch + p.before * C);
            std::fill_n(scratch + (p.before + T) * C, p.after * C, 0.f);
            kernels::conv1d<Act, C, Filters<In>, K, G<In>, S, D, out_steps<In>>(params, scratch, out + r * Out::size);
            if constexpr (causal) std::copy_n(scratch + T * C, history * C, st);  // the last extent - 1 steps
        }
    }
    template <class In>
    static void forward(const float* params, const float* in, float* out, std::size_t rows, float* scratch, float* state) noexcept {
        forward_with<In, activation>(params, in, out, rows, scratch, state);
    }

    // The options after the filters: "kernel<3>, stride<2>, causal, relu".
    static std::string options_str() {
        std::string s = "kernel<" + std::to_string(K) + ">";
        if constexpr (S != 1) s += ", stride<" + std::to_string(S) + ">";
        if constexpr (D != 1) s += ", dilation<" + std::to_string(D) + ">";
        if constexpr (causal) s += ", causal";
        else if constexpr (!std::is_same_v<padding_option, padding_valid>) s += ", " + detail::padding_rule<padding_option>::name();
        if constexpr (!std::is_same_v<activation, linear>) s += ", " + activation::name();
        if constexpr (!bias) s += ", no_bias";
        return s;
    }
    template <class Act = activation>
    static std::string kernel_name() {
        std::string s = Spec::depthwise ? "depthwise_conv1d" : "conv1d";
        if constexpr (bias) s += "+bias";
        if constexpr (!std::is_same_v<Act, linear>) s += "+" + Act::name();
        return s;
    }
};

}  // namespace detail

template <std::size_t Filters, class... Options>
struct Conv1D : detail::Conv1DLayer<detail::conv_spec<Filters, detail::groups_of<detail::find_option_t<detail::is_groups, groups<1>, Options...>>::value>,
                                    Options...> {
    static_assert(Filters > 0, "typenet: Conv1D<0> has no outputs");
    static std::string name() {
        constexpr std::size_t g = detail::groups_of<detail::find_option_t<detail::is_groups, groups<1>, Options...>>::value;
        return "Conv1D<" + std::to_string(Filters) + ", " + Conv1D::options_str() + (g > 1 ? ", groups<" + std::to_string(g) + ">" : "") + ">";
    }
};

// Keras' DepthwiseConv1D: each input channel convolved with its own depth_multiplier<M>
// filters (default 1), output channel c * M + m; Conv1D with groups<C> and C * M filters,
// under its own name. Keras' depthwise_kernel is [K, C, M].
template <class... Options>
struct DepthwiseConv1D
    : detail::Conv1DLayer<detail::depthwise_spec<detail::multiplier_of<detail::find_option_t<detail::is_depth_multiplier, depth_multiplier<1>, Options...>>::value>,
                          Options...> {
    static std::string name() {
        constexpr std::size_t m = detail::multiplier_of<detail::find_option_t<detail::is_depth_multiplier, depth_multiplier<1>, Options...>>::value;
        return "DepthwiseConv1D<" + DepthwiseConv1D::options_str() + (m > 1 ? ", depth_multiplier<" + std::to_string(m) + ">" : "") + ">";
    }
};

}  // namespace typenet
