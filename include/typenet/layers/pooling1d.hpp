// Pooling over a sequence [T, C] (channels-last; PyTorch's MaxPool1d / AvgPool1d hold it
// [C, T]): MaxPool1D<P, Options...> and AveragePool1D<P, Options...> take windows of P steps,
// stride P unless stride<S> is given (Keras' and PyTorch's default), padding_valid (default),
// padding_same or padding<N> (N steps both sides, PyTorch's padding=N). Padded steps never
// win a max; an average counts only real steps (Keras; PyTorch with count_include_pad=False),
// or all of them with tn::count_include_pad (PyTorch's default). tn::ceil_mode rounds the
// output size up like PyTorch's ceil_mode=True.
// GlobalAveragePool1D / GlobalMaxPool1D: [T, C] -> [C] (Keras' GlobalAveragePooling1D).
// The 2-D kernels run them, on [T, 1, C].
#pragma once
#include "../core/isa.hpp"
#include <cstddef>
#include <string>

#include "../core/diagnostics.hpp"
#include "../core/layer.hpp"
#include "../kernels/pool.hpp"
#include "conv_options.hpp"
#include "pooling2d.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

namespace detail {
template <kernels::PoolKind Kind, std::size_t P, class... Options>
struct Pool1D {
    static_assert(P > 0, "typenet: a pooling window must be at least 1 step");
    static constexpr std::size_t S = pair_of<find_option_t<is_stride, stride<P>, Options...>>::h;
    using padding_option = find_option_t<is_padding, padding_valid, Options...>;
    using invalid_options = std::conditional_t<S == 0, stride_must_be_at_least_1, void>;
    template <class In>
    static consteval Window2D window() {
        Window2D g{In::dims[0], 1, In::dims[In::rank - 1], P, 1, std::max<std::size_t>(S, 1), 1, 1, 1, {}, {}};
        g.pr = padding_rule<padding_option>::rows(g.h, P, g.sh);
        if constexpr (has_option<ceil_mode, Options...>) g.ceil_h = ceil_mode_extra(g.h, g.pr, P, g.sh);
        return g;
    }
    template <class In>
    static consteval bool accepts_impl() {
        if constexpr (In::rank != 2) return false;
        else return window<In>().fits();
    }
    template <class In> static constexpr bool accepts = accepts_impl<In>();
    template <class In>
    using expected_input = std::conditional_t<In::rank == 2, sequence_length_at_least<P>, shape_of_rank<2>>;
    template <class In> using output_shape_for = Shape<window<In>().out_h(), In::dims[In::rank - 1]>;
    template <class In> static constexpr std::size_t flops_for = window<In>().out_h() * In::dims[In::rank - 1] * P;
    template <class In>
    static void forward(const float*, const float* in, float* out, std::size_t rows) noexcept {
        constexpr Window2D g = window<In>();
        kernels::pool2d<Kind>({g.h, 1, g.c, g.kh, 1, g.sh, 1, g.pr.before, 0, g.out_h(), 1, g.pr.after, 0}, in, out, rows);
    }
    static std::string options_str() {
        std::string s = std::to_string(P);
        if (S != P) s += ", stride<" + std::to_string(S) + ">";
        if constexpr (std::is_same_v<padding_option, padding_same>) s += ", same";
        else if constexpr (!std::is_same_v<padding_option, padding_valid>) s += ", padding<" + std::to_string(padding_rule<padding_option>::rows(0, 0, 1).before) + ">";
        if constexpr (has_option<ceil_mode, Options...>) s += ", ceil_mode";
        return s;
    }
};
}  // namespace detail

template <std::size_t P, class... Options>
struct MaxPool1D : detail::Pool1D<kernels::PoolKind::max, P, Options...> {
    static std::string name() { return "MaxPool1D<" + MaxPool1D::options_str() + ">"; }
};

template <std::size_t P, class... Options>
struct AveragePool1D
    : detail::Pool1D<detail::has_option<count_include_pad, Options...> ? kernels::PoolKind::average_include_pad
                                                                       : kernels::PoolKind::average_exclude_pad,
                     P, Options...> {
    static std::string name() {
        return "AveragePool1D<" + AveragePool1D::options_str() +
               (detail::has_option<count_include_pad, Options...> ? ", count_include_pad" : "") + ">";
    }
};

namespace detail {
template <bool Max>
struct GlobalPool1D {
    template <class In> static constexpr bool accepts = In::rank == 2;
    template <class In> using expected_input = shape_of_rank<2>;
    template <class In> using output_shape_for = Shape<In::dims[1]>;
    template <class In> static constexpr std::size_t flops_for = In::size;
    template <class In>
    static void forward(const float*, const float* in, float* out, std::size_t rows) noexcept {
        kernels::global_pool<Max>(In::dims[0], In::dims[1], in, out, rows);
    }
};
}  // namespace detail

struct GlobalAveragePool1D : detail::GlobalPool1D<false> {
    static std::string name() { return "GlobalAveragePool1D"; }
};
struct GlobalMaxPool1D : detail::GlobalPool1D<true> {
    static std::string name() { return "GlobalMaxPool1D"; }
};

}  // namespace typenet
