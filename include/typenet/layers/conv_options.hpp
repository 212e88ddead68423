// Options of the convolution and pooling layers, as types: Conv2D<32, kernel<3, 3>, relu,
// padding_same, stride<2>>. Height first, width second; a single value means both.
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <cstddef>
#include <string>
#include <type_traits>

#include "options.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

template <std::size_t H, std::size_t W = H> struct kernel {};
template <std::size_t H, std::size_t W = H> struct stride {};
template <std::size_t H, std::size_t W = H> struct dilation {};
template <std::size_t G> struct groups {};
// DepthwiseConv1D / DepthwiseConv2D: M filters per input channel.
template <std::size_t M> struct depth_multiplier {};
// Keras' padding="valid" (none, the default) and padding="same" (output = ceil(input /
// stride); when the total padding is odd, the extra row/column goes at the bottom/right,
// as in TensorFlow and PyTorch).
struct padding_valid {};
struct padding_same {};
// Explicit zero padding, PyTorch's padding=(ph, pw): ph rows above and below, pw columns
// left and right.
template <std::size_t PH, std::size_t PW = PH> struct padding {};
// Explicit and asymmetric: top, bottom, left, right.
template <std::size_t Top, std::size_t Bottom, std::size_t Left, std::size_t Right> struct padding_tblr {};
// How a Conv2D computes (layers/conv2d.hpp): by default a 3x3 convolution with stride 1,
// dilation 1, groups 1 and at least 16 channels in and out runs as Winograd F(4x4, 3x3)
// (kernels/winograd.hpp: ~2-2.9x faster, outputs within ~1e-5 of their magnitude of the direct
// sum) where its transformed weights fit the cache or its map has 32 tiles, as F(2x2, 3x3)
// where they do not but it has 32 tiles of 2x2 (VGG's 14x14x512); every other one as a direct
// sum (an implicit GEMM).
// tn::winograd asks for Winograd on one layer (the tile chosen as by default),
// tn::winograd_4x4 / tn::winograd_2x2 for one tile size (2x2: half the multiplications saved,
// a quarter of the rounding error), tn::direct for the direct sum;
// tn::make<M, tn::direct>() keeps every convolution of a model direct.
struct winograd {};
struct winograd_4x4 {};
struct winograd_2x2 {};
struct direct {};

namespace detail {
template <class T> struct is_depth_multiplier : std::false_type {};
template <std::size_t M> struct is_depth_multiplier<depth_multiplier<M>> : std::true_type {};
template <class T> struct multiplier_of;
template <std::size_t M> struct multiplier_of<depth_multiplier<M>> { static constexpr std::size_t value = M; };

// How many filters and groups a convolution has for C input channels.
template <std::size_t Filters, std::size_t Groups>
struct conv_spec {
    static constexpr std::size_t filters(std::size_t) { return Filters; }
    static constexpr std::size_t groups(std::size_t) { return Groups; }
    static constexpr bool depthwise = false;
};
template <std::size_t Multiplier>
struct depthwise_spec {
    static constexpr std::size_t filters(std::size_t c) { return c * Multiplier; }
    static constexpr std::size_t groups(std::size_t c) { return c; }
    static constexpr bool depthwise = true;
};

template <class T> struct is_kernel : std::false_type {};
template <std::size_t H, std::size_t W> struct is_kernel<kernel<H, W>> : std::true_type {};
template <class T> struct is_stride : std::false_type {};
template <std::size_t H, std::size_t W> struct is_stride<stride<H, W>> : std::true_type {};
template <class T> struct is_dilation : std::false_type {};
template <std::size_t H, std::size_t W> struct is_dilation<dilation<H, W>> : std::true_type {};
template <class T> struct is_groups : std::false_type {};
template <std::size_t G> struct is_groups<groups<G>> : std::true_type {};
template <class T> struct is_padding : std::false_type {};
template <> struct is_padding<padding_valid> : std::true_type {};
template <> struct is_padding<padding_same> : std::true_type {};
template <std::size_t H, std::size_t W> struct is_padding<padding<H, W>> : std::true_type {};
template <std::size_t T, std::size_t B, std::size_t L, std::size_t R> struct is_padding<padding_tblr<T, B, L, R>> : std::true_type {};

template <class T> struct pair_of;
template <template <std::size_t, std::size_t> class O, std::size_t H, std::size_t W>
struct pair_of<O<H, W>> { static constexpr std::size_t h = H, w = W; };
template <class T> struct groups_of;
template <std::size_t G> struct groups_of<groups<G>> { static constexpr std::size_t value = G; };

// Padding of one spatial axis, given its input size, effective kernel extent and stride.
struct AxisPad {
    std::size_t before = 0, after = 0;
};
template <class P> struct padding_rule;
template <> struct padding_rule<padding_valid> {
    static constexpr AxisPad rows(std::size_t, std::size_t, std::size_t) { return {}; }
    static constexpr AxisPad cols(std::size_t, std::size_t, std::size_t) { return {}; }
    static std::string name() { return ""; }
};
template <> struct padding_rule<padding_same> {
    static constexpr AxisPad same(std::size_t in, std::size_t extent, std::size_t s) {
        const std::size_t out = (in + s - 1) / s;
        const std::size_t need = (out - 1) * s + extent;
        const std::size_t total = need > in ? need - in : 0;
        return {total / 2, total - total / 2};
    }
    static constexpr AxisPad rows(std::size_t in, std::size_t e, std::size_t s) { return same(in, e, s); }
    static constexpr AxisPad cols(std::size_t in, std::size_t e, std::size_t s) { return same(in, e, s); }
    static std::string name() { return "same"; }
};
template <std::size_t PH, std::size_t PW> struct padding_rule<padding<PH, PW>> {
    static constexpr AxisPad rows(std::size_t, std::size_t, std::size_t) { return {PH, PH}; }
    static constexpr AxisPad cols(std::size_t, std::size_t, std::size_t) { return {PW, PW}; }
    static std::string name() { return "padding<" + std::to_string(PH) + ", " + std::to_string(PW) + ">"; }
};
template <std::size_t T, std::size_t B, std::size_t L, std::size_t R> struct padding_rule<padding_tblr<T, B, L, R>> {
    static constexpr AxisPad rows(std::size_t, std::size_t, std::size_t) { return {T, B}; }
    static constexpr AxisPad cols(std::size_t, std::size_t, std::size_t) { return {L, R}; }
    static std::string name() {
        return "padding_tblr<" + std::to_string(T) + ", " + std::to_string(B) + ", " + std::to_string(L) + ", " +
               std::to_string(R) + ">";
    }
};

// The geometry of a 2-D window op (convolution or pooling) on an H x W x C input.
struct Window2D {
    std::size_t h, w, c;            // input
    std::size_t kh, kw, sh, sw, dh, dw;
    AxisPad pr, pc;                 // padding of rows and columns
    constexpr std::size_t extent_h() const { return (kh - 1) * dh + 1; }
    constexpr std::size_t extent_w() const { return (kw - 1) * dw + 1; }
    constexpr bool fits() const {
        return sh > 0 && sw > 0 && h + pr.before + pr.after >= extent_h() && w + pc.before + pc.after >= extent_w();
    }
    constexpr std::size_t out_h() const { return fits() ? (h + pr.before + pr.after + ceil_h - extent_h()) / sh + 1 : 0; }
    constexpr std::size_t out_w() const { return fits() ? (w + pc.before + pc.after + ceil_w - extent_w()) / sw + 1 : 0; }
    std::size_t ceil_h = 0, ceil_w = 0;  // pooling's ceil_mode: steps past the padding a last window may cover
};

// PyTorch's ceil_mode: the output size rounded up, one more window when the last stride leaves
// steps out, provided that it starts inside the input or its left padding. Returns how far
// past the padding that window reaches.
constexpr std::size_t ceil_mode_extra(std::size_t n, AxisPad p, std::size_t extent, std::size_t s) {
    const std::size_t span = n + p.before + p.after;
    if (span < extent || s == 0) return 0;
    std::size_t out = (span - extent + s - 1) / s + 1;
    if ((out - 1) * s >= n + p.before) --out;
    const std::size_t reach = (out - 1) * s + extent;
    return reach > span ? reach - span : 0;
}

// Reads kernel / stride / dilation / padding options into a Window2D for input In (H, W, C).
template <class In, class DefaultKernel, class DefaultStride, class... Options>
consteval Window2D window_of() {
    using K = find_option_t<is_kernel, DefaultKernel, Options...>;
    using S = find_option_t<is_stride, DefaultStride, Options...>;
    using D = find_option_t<is_dilation, dilation<1>, Options...>;
    using P = padding_rule<find_option_t<is_padding, padding_valid, Options...>>;
    // A zero stride or dilation has been reported by the layer's own static_assert; computing
    // with 1 instead keeps every later shape well-defined, so no second error follows.
    Window2D g{In::dims[0], In::dims[1], In::dims[2], pair_of<K>::h, pair_of<K>::w, std::max<std::size_t>(pair_of<S>::h, 1),
               std::max<std::size_t>(pair_of<S>::w, 1), std::max<std::size_t>(pair_of<D>::h, 1),
               std::max<std::size_t>(pair_of<D>::w, 1), {}, {}};
    g.pr = P::rows(g.h, g.extent_h(), g.sh);
    g.pc = P::cols(g.w, g.extent_w(), g.sw);
    return g;
}

inline std::string pair_str(const char* name, std::size_t h, std::size_t w) {
    return std::string(name) + "<" + std::to_string(h) + (h == w ? "" : ", " + std::to_string(w)) + ">";
}
}  // namespace detail

}  // namespace typenet
