// MaxPool2D<P, Options...> and AveragePool2D<P, Options...>: P x P windows (or kernel<KH, KW>
// among the options), stride P unless stride<...> is given (Keras' and PyTorch's default),
// padding_valid (default), padding_same, padding<PH, PW> or padding_tblr<...>.
// Padded cells never win a max. An average counts only real cells (Keras, and PyTorch with
// count_include_pad=False); add tn::count_include_pad for PyTorch's default, tn::ceil_mode for
// PyTorch's ceil_mode=True. AdaptiveAveragePool2D / AdaptiveMaxPool2D: PyTorch's adaptive pools.
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <array>
#include <cstddef>
#include <string>

#include "../core/diagnostics.hpp"
#include "../kernels/pool.hpp"
#include "../core/layer.hpp"
#include "conv_options.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

struct count_include_pad {};
// PyTorch's ceil_mode=True: the output size rounded up (a last, partial window).
struct ceil_mode {};

namespace detail {
template <kernels::PoolKind Kind, std::size_t P, class... Options>
struct Pool2D {
    static_assert(P > 0, "typenet: a pooling window must be at least 1 x 1");
    static constexpr bool spatial = true;  // PyTorch holds its output channels-first
    using invalid_options = std::conditional_t<pair_of<find_option_t<is_stride, stride<P>, Options...>>::h == 0 ||
                                                   pair_of<find_option_t<is_stride, stride<P>, Options...>>::w == 0,
                                               stride_must_be_at_least_1, void>;
    template <class In>
    static consteval Window2D window() {
        Window2D g = window_of<In, kernel<P>, stride<P>, Options...>();
        if constexpr (has_option<ceil_mode, Options...>) {
            g.ceil_h = ceil_mode_extra(g.h, g.pr, g.extent_h(), g.sh);
            g.ceil_w = ceil_mode_extra(g.w, g.pc, g.extent_w(), g.sw);
        }
        return g;
    }
    template <class In>
    static consteval bool accepts_impl() {
        if constexpr (In::rank != 3) return false;
        else return window<In>().fits();
    }
    template <class In> static constexpr bool accepts = accepts_impl<In>();
    template <class In>
    static consteval auto expected() {
        if constexpr (In::rank != 3) return std::type_identity<shape_of_rank<3>>{};
        else {
            constexpr Window2D g = window<In>();
            constexpr std::size_t ph = g.pr.before + g.pr.after, pw = g.pc.before + g.pc.after;
            return std::type_identity<spatial_size_at_least<(g.kh > ph ? g.kh - ph : 0), (g.kw > pw ? g.kw - pw : 0)>>{};
        }
    }
    template <class In> using expected_input = typename decltype(expected<In>())::type;
    template <class In> using output_shape_for = Shape<window<In>().out_h(), window<In>().out_w(), In::dims[2]>;
    template <class In>
    static constexpr std::size_t flops_for = window<In>().out_h() * window<In>().out_w() * In::dims[2] * window<In>().kh * window<In>().kw;
    template <class In>
    static void forward(const float*, const float* in, float* out, std::size_t rows) noexcept {
        forward_on_crop<In>(nullptr, in, out, rows, In::dims[0], In::dims[1]);
    }
    // The rows and columns its windows read, from the top left: fewer than the input's when
    // the last stride of a floor pooling leaves some out (MaxPool2D<2> on 11 x 11 reads 10 x
    // 10). The convolution before it then computes only those (passes/crop_to_readers.hpp).
    // With padding after the map, or ceil_mode, a window reaches the edge: the whole map.
    template <class In>
    static constexpr std::array<std::size_t, 2> input_used = [] {
        constexpr Window2D g = window<In>();
        auto used = [](std::size_t n, std::size_t out, std::size_t s, std::size_t extent, AxisPad p, std::size_t ceil) {
            if (p.after > 0 || ceil > 0) return n;
            return std::min(n, (out - 1) * s + extent - p.before);
        };
        return std::array{used(g.h, g.out_h(), g.sh, g.extent_h(), g.pr, g.ceil_h), used(g.w, g.out_w(), g.sw, g.extent_w(), g.pc, g.ceil_w)};
    }();
    // The same output from an input stored as its top-left h x w (at least input_used<In>).
    template <class In>
    static void forward_on_crop(const float*, const float* in, float* out, std::size_t rows, std::size_t h, std::size_t w) noexcept {
        constexpr Window2D g = window<In>();
        kernels::pool2d<Kind, g.kh, g.kw>({h, w, g.c, g.kh, g.kw, g.sh, g.sw, g.pr.before, g.pc.before, g.out_h(), g.out_w(), g.pr.after, g.pc.after}, in,
                              out, rows);
    }
    static std::string options_str() {
        using S = find_option_t<is_stride, stride<P>, Options...>;
        using Pad = padding_rule<find_option_t<is_padding, padding_valid, Options...>>;
        std::string s = std::to_string(P);
        if (pair_of<S>::h != P || pair_of<S>::w != P) {
            s += ", ";
            s += pair_str("stride", pair_of<S>::h, pair_of<S>::w);
        }
        if (!Pad::name().empty()) {
            s += ", ";
            s += Pad::name();
        }
        if (has_option<ceil_mode, Options...>) s += ", ceil_mode";
        return s;
    }
};
}  // namespace detail

template <std::size_t P, class... Options>
struct MaxPool2D : detail::Pool2D<kernels::PoolKind::max, P, Options...> {
    static std::string name() { return "MaxPool2D<" + MaxPool2D::options_str() + ">"; }
};

template <std::size_t P, class... Options>
struct AveragePool2D
    : detail::Pool2D<detail::has_option<count_include_pad, Options...> ? kernels::PoolKind::average_include_pad
                                                                       : kernels::PoolKind::average_exclude_pad,
                     P, Options...> {
    static std::string name() {
        return "AveragePool2D<" + AveragePool2D::options_str() +
               (detail::has_option<count_include_pad, Options...> ? ", count_include_pad" : "") + ">";
    }
};

namespace detail {
template <bool Max>
struct GlobalPool2D {
    template <class In> static constexpr bool accepts = In::rank == 3;
    template <class In> using expected_input = shape_of_rank<3>;
    template <class In> using output_shape_for = Shape<In::dims[In::rank - 1]>;
    template <class In> static constexpr std::size_t flops_for = In::size;
    template <class In>
    static void forward(const float*, const float* in, float* out, std::size_t rows) noexcept {
        kernels::global_pool<Max>(In::dims[0] * In::dims[1], In::dims[2], in, out, rows);
    }
};
}  // namespace detail

namespace detail {
template <bool Max, std::size_t OH, std::size_t OW>
struct AdaptivePool2D {
    static_assert(OH > 0 && OW > 0, "typenet: an adaptive pool's output is at least 1 x 1");
    static constexpr bool spatial = true;  // PyTorch holds its output channels-first
    template <class In> static constexpr bool accepts = In::rank == 3;
    template <class In> using expected_input = shape_of_rank<3>;
    template <class In> using output_shape_for = Shape<OH, OW, In::dims[In::rank - 1]>;
    template <class In> static constexpr std::size_t flops_for = In::size + OH * OW * In::dims[2];
    template <class In>
    static void forward(const float*, const float* in, float* out, std::size_t rows) noexcept {
        kernels::adaptive_pool2d<Max>(In::dims[0], In::dims[1], In::dims[2], OH, OW, in, out, rows);
    }
    static std::string size_str() { return std::to_string(OH) + (OH == OW ? "" : ", " + std::to_string(OW)); }
};
}  // namespace detail

// PyTorch's AdaptiveAvgPool2d((OH, OW)) / AdaptiveMaxPool2d: [H, W, C] -> [OH, OW, C], for any
// H and W (windows of PyTorch's rule: output row i covers input rows floor(i H / OH) to
// ceil((i + 1) H / OH) - 1). AdaptiveAveragePool2D<1> keeps the [1, 1, C] shape that
// torchvision's classifiers flatten; GlobalAveragePool2D gives [C] directly.
template <std::size_t OH, std::size_t OW = OH>
struct AdaptiveAveragePool2D : detail::AdaptivePool2D<false, OH, OW> {
    static std::string name() { return "AdaptiveAveragePool2D<" + AdaptiveAveragePool2D::size_str() + ">"; }
};
template <std::size_t OH, std::size_t OW = OH>
struct AdaptiveMaxPool2D : detail::AdaptivePool2D<true, OH, OW> {
    static std::string name() { return "AdaptiveMaxPool2D<" + AdaptiveMaxPool2D::size_str() + ">"; }
};

// [H, W, C] -> [C] (Keras' GlobalAveragePooling2D, PyTorch's AdaptiveAvgPool2d(1) + flatten).
struct GlobalAveragePool2D : detail::GlobalPool2D<false> {
    static std::string name() { return "GlobalAveragePool2D"; }
};
struct GlobalMaxPool2D : detail::GlobalPool2D<true> {
    static std::string name() { return "GlobalMaxPool2D"; }
};

}  // namespace typenet
