// Pooling and spatial copies, NHWC: channels in SIMD lanes, one output pixel at a time.
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>

#include "epilogue.hpp"
#include "simd.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::kernels {

// pad_bottom / pad_right: the padding an average with count_include_pad counts (PyTorch's;
// a window that ceil_mode lets run past it counts only up to it).
struct PoolGeometry {
    std::size_t h, w, c, kh, kw, sh, sw, pad_top, pad_left, oh, ow, pad_bottom, pad_right;
};

enum class PoolKind { max, average_exclude_pad, average_include_pad };

namespace detail {
// One output pixel: the window rows [ya, yb) and columns [xa, xb) of image b, every channel.
// KH, KW > 0: a window wholly inside the map, of that size known at compile time (the taps
// unrolled); 0: the window's bounds at run time. The same sums in the same order either way.
template <PoolKind Kind, std::size_t KH, std::size_t KW>
inline void pool_pixel(const PoolGeometry& g, const float* in, float* dst, std::size_t ya, std::size_t yb, std::size_t xa,
                       std::size_t xb, float count) noexcept {
    const std::size_t row = g.w * g.c;
    const float* src = in + (ya * g.w + xa) * g.c;
    auto window = [&](std::size_t c0, auto load_at) {
        if constexpr (Kind == PoolKind::max && KH > 0) {
            // A maximum per window row, each from its first tap, then of the rows: KH short
            // chains rather than one of KH x KW dependent max_nan (3x3/2 on SqueezeNet's maps,
            // one core: ~10% of its time). Any NaN still wins; of equal values
            // (+0 and -0) which one is kept is not PyTorch's rule either way.
            vfloat r[KH];
            TYPENET_UNROLL
            for (std::size_t y = 0; y < KH; ++y) {
                r[y] = load_at(src + y * row + c0);
                TYPENET_UNROLL
                for (std::size_t x = 1; x < KW; ++x) r[y] = max_nan(r[y], load_at(src + y * row + x * g.c + c0));
            }
            TYPENET_UNROLL
            for (std::size_t y = 1; y < KH; ++y) r[0] = max_nan(r[0], r[y]);
            return r[0];
        }
        vfloat acc(Kind == PoolKind::max ? -INFINITY : 0.f);
        auto take = [&](const float* p) {
            if constexpr (Kind == PoolKind::max) acc = max_nan(acc, load_at(p));
            else acc += load_at(p);
        };
        if constexpr (KH > 0) {
            TYPENET_UNROLL
            for (std::size_t y = 0; y < KH; ++y)
                TYPENET_UNROLL
                for (std::size_t x = 0; x < KW; ++x) take(src + y * row + x * g.c + c0);
        } else {
            for (std::size_t y = 0; y < yb - ya; ++y)
                for (std::size_t x = 0; x < xb - xa; ++x) take(src + y * row + x * g.c + c0);
        }
        if constexpr (Kind != PoolKind::max) acc = acc / vfloat(count);
        return acc;
    };
    std::size_t c0 = 0;
    for (; c0 + lanes <= g.c; c0 += lanes) storeu(dst + c0, window(c0, [](const float* p) { return loadu(p); }));
    if (c0 < g.c) {
        const std::size_t n = g.c - c0;
        store_n(dst + c0, window(c0, [n](const float* p) { return load_partial(p, n, 0.f); }), n);
    }
}
}  // namespace detail

// KH, KW: the window's size when known at compile time (the layer's; 0: g's), so that the
// windows inside the map run with their taps unrolled.
template <PoolKind Kind, std::size_t KH = 0, std::size_t KW = 0>
inline void pool2d(const PoolGeometry& g, const float* in, float* out, std::size_t batch) noexcept {
    // Max pooling's windows wholly inside the map, a row of them at a time: no bounds, counts or
    // calls per pixel (they cost more than the window's 9 loads and maxima: 3x3/2 on SqueezeNet's
    // maps, one core, 6.0-6.8 -> 5.0-6.3 ns an output vector; 112x112x24, ShuffleNetV2's, 8.9 -> 6.2).
    constexpr bool rows_inside = Kind == PoolKind::max && KH > 0;
    const auto [x_in0, x_in1] = rows_inside ? windows_inside(g.w, g.pad_left, KW, g.sw, g.ow) : WindowsInside{0, 0};
    for (std::size_t b = 0; b < batch; ++b) {
        const float* img = in + b * g.h * g.w * g.c;
        for (std::size_t oy = 0; oy < g.oh; ++oy)
            for (std::size_t ox = 0; ox < g.ow; ++ox) {
                if constexpr (rows_inside) {
                    const std::ptrdiff_t y0 = std::ptrdiff_t(oy * g.sh) - std::ptrdiff_t(g.pad_top);
                    if (ox == x_in0 && x_in1 > x_in0 && y0 >= 0 && std::size_t(y0) + KH <= g.h) {
                        const float* src = img + (std::size_t(y0) * g.w + x_in0 * g.sw - g.pad_left) * g.c;
                        float* dst = out + ((b * g.oh + oy) * g.ow + x_in0) * g.c;
                        for (; ox < x_in1; ++ox, src += g.sw * g.c, dst += g.c)
                            detail::pool_pixel<Kind, KH, KW>(g, src, dst, 0, KH, 0, KW, 0.f);
                        if (ox == g.ow) break;
                    }
                }
                const std::ptrdiff_t y0 = std::ptrdiff_t(oy * g.sh) - std::ptrdiff_t(g.pad_top);
                const std::ptrdiff_t x0 = std::ptrdiff_t(ox * g.sw) - std::ptrdiff_t(g.pad_left);
                const std::size_t ya = std::size_t(std::max<std::ptrdiff_t>(y0, 0));
                const std::size_t yb = std::size_t(std::min<std::ptrdiff_t>(y0 + std::ptrdiff_t(g.kh), std::ptrdiff_t(g.h)));
                const std::size_t xa = std::size_t(std::max<std::ptrdiff_t>(x0, 0));
                const std::size_t xb = std::size_t(std::min<std::ptrdiff_t>(x0 + std::ptrdiff_t(g.kw), std::ptrdiff_t(g.w)));
                const float count =
                    Kind == PoolKind::average_include_pad
                        ? float((std::min(y0 + std::ptrdiff_t(g.kh), std::ptrdiff_t(g.h + g.pad_bottom)) - y0) *
                                (std::min(x0 + std::ptrdiff_t(g.kw), std::ptrdiff_t(g.w + g.pad_right)) - x0))
                        : float((yb - ya) * (xb - xa));
                float* dst = out + ((b * g.oh + oy) * g.ow + ox) * g.c;
                if (KH > 0 && yb - ya == KH && xb - xa == KW) detail::pool_pixel<Kind, KH, KW>(g, img, dst, ya, yb, xa, xb, count);
                else detail::pool_pixel<Kind, 0, 0>(g, img, dst, ya, yb, xa, xb, count);
            }
    }
}

// PyTorch's adaptive pooling, [H, W, C] -> [OH, OW, C]: output row i covers input rows
// floor(i H / OH) .. ceil((i + 1) H / OH) - 1, columns likewise; the mean or the maximum.
template <bool Max>
inline void adaptive_pool2d(std::size_t h, std::size_t w, std::size_t c, std::size_t oh, std::size_t ow, const float* in, float* out,
                            std::size_t batch) noexcept {
    for (std::size_t b = 0; b < batch; ++b)
        for (std::size_t oy = 0; oy < oh; ++oy) {
            const std::size_t ya = oy * h / oh, yb = ((oy + 1) * h + oh - 1) / oh;
            for (std::size_t ox = 0; ox < ow; ++ox) {
                const std::size_t xa = ox * w / ow, xb = ((ox + 1) * w + ow - 1) / ow;
                float* dst = out + ((b * oh + oy) * ow + ox) * c;
                for (std::size_t c0 = 0; c0 < c; c0 += lanes) {
                    const std::size_t n = std::min(lanes, c - c0);
                    vfloat acc(Max ? -INFINITY : 0.f);
                    for (std::size_t y = ya; y < yb; ++y)
                        for (std::size_t x = xa; x < xb; ++x) {
                            const vfloat v = load_n(in + ((b * h + y) * w + x) * c + c0, n);
                            if constexpr (Max) acc = max_nan(acc, v);
                            else acc += v;
                        }
                    if constexpr (!Max) acc = acc / vfloat(float((yb - ya) * (xb - xa)));
                    store_n(dst + c0, acc, n);
                }
            }
        }
}

namespace detail {
// The mean or maximum over `pixels` pixels (rows of c floats) of channels [c0, c0 + G lanes)
// — the last vector holding `last` of them (lanes: whole) — P pixels at a time, each its own
// chain per vector, the chains combined in order at the end. One chain per channel vector,
// a pass over the map for each, was one dependent addition per pixel: its latency, and for a
// few channels the passes' strided reads, were the bound (squeeze-and-excitation pools every
// EfficientNet-B0 and MobileNetV3 block's map).
template <bool Max, std::size_t G, std::size_t P>
inline void pool_channels(const float* img, std::size_t pixels, std::size_t c, std::size_t c0, std::size_t last, float* out) noexcept {
    auto take = [](vfloat a, vfloat v) { return Max ? max_nan(a, v) : a + v; };
    auto at = [&](std::size_t p, std::size_t g) {
        const float* q = img + p * c + c0 + g * lanes;
        return g + 1 < G || last == lanes ? loadu(q) : load_n(q, last);
    };
    vfloat acc[P][G];
    TYPENET_UNROLL
    for (std::size_t i = 0; i < P; ++i)
        TYPENET_UNROLL
        for (std::size_t g = 0; g < G; ++g) acc[i][g] = vfloat(Max ? -INFINITY : 0.f);
    // (Counts, not a pointer compared with the end: g++ then bounds the loop left over.)
    const std::size_t groups = pixels / P, rest = pixels % P;
    for (std::size_t q = 0; q < groups; ++q)
        TYPENET_UNROLL
        for (std::size_t i = 0; i < P; ++i)
            TYPENET_UNROLL
            for (std::size_t g = 0; g < G; ++g) acc[i][g] = take(acc[i][g], at(q * P + i, g));
    for (std::size_t r = 0; r < rest; ++r)
        TYPENET_UNROLL
        for (std::size_t g = 0; g < G; ++g) acc[0][g] = take(acc[0][g], at(groups * P + r, g));
    TYPENET_UNROLL
    for (std::size_t g = 0; g < G; ++g) {
        vfloat r = acc[0][g];
        TYPENET_UNROLL
        for (std::size_t i = 1; i < P; ++i) r = take(r, acc[i][g]);
        if constexpr (!Max) r = r / vfloat(float(pixels));
        if (g + 1 < G || last == lanes) storeu(out + c0 + g * lanes, r);
        else store_n(out + c0 + g * lanes, r, last);
    }
}
}  // namespace detail

// [H, W, C] -> [C]: the mean or the maximum over all pixels. Channels four vectors at a time
// with two pixels' chains each, the last one to three vectors together (the last of them
// maybe partial) with two or four: at least 4 chains in flight, and each pixel's channels read
// in one pass where C is at most 4 vectors (one core, µs, map in L3 / 8 MB evicted before:
// 112x112x32 36-37 / 39-44 -> 18-19 / 19-20, 56x56x144 40-42 / 40-44 -> 26-28 / 30-32,
// 56x56x96 26-27 / 28-31 -> 17 / 18, 28x28x240 15-16 / 16-17 -> 9-10 / 12).
template <bool Max>
inline void global_pool(std::size_t pixels, std::size_t c, const float* in, float* out, std::size_t batch) noexcept {
    const std::size_t vectors = (c + lanes - 1) / lanes, last = c - (vectors - 1) * lanes;
    for (std::size_t b = 0; b < batch; ++b) {
        const float* img = in + b * pixels * c;
        float* o = out + b * c;
        std::size_t v = 0;
        for (; v + 4 <= vectors; v += 4) detail::pool_channels<Max, 4, 2>(img, pixels, c, v * lanes, v + 4 == vectors ? last : lanes, o);
        switch (vectors - v) {
            case 3: detail::pool_channels<Max, 3, 2>(img, pixels, c, v * lanes, last, o); break;
            case 2: detail::pool_channels<Max, 2, 4>(img, pixels, c, v * lanes, last, o); break;
            case 1: detail::pool_channels<Max, 1, 4>(img, pixels, c, v * lanes, last, o); break;
            default: break;
        }
    }
}

// Squeeze-and-excitation (layers/squeeze_excite.hpp): the gate of one image from its pooled vector s (C floats, zero-padded to Cp): g = gate(W2
// act(W1 s + b1) + b2). Packed: W1 as Squeeze rows of Cp floats, b1, then W2 transposed as
// Squeeze rows of Cp floats, b2 (Cp floats), so both products run along the channels.
template <class Act, class Gate, std::size_t C, std::size_t Squeeze>
inline void squeeze_excite_gate(const float* params, const float* s, float* g) noexcept {
    constexpr std::size_t Cp = round_up(C, lanes);
    const float* w1 = params;
    const float* b1 = w1 + Squeeze * Cp;
    const float* w2 = b1 + Squeeze;
    const float* b2 = w2 + Squeeze * Cp;
    for (std::size_t c = 0; c < Cp; c += lanes) storeu(g + c, loadu(b2 + c));
    for (std::size_t j = 0; j < Squeeze; ++j) {
        vfloat acc0(0.f), acc1(0.f);
        std::size_t c = 0;
        for (; c + 2 * lanes <= Cp; c += 2 * lanes) {
            acc0 = kernels::fma(loadu(w1 + j * Cp + c), loadu(s + c), acc0);
            acc1 = kernels::fma(loadu(w1 + j * Cp + c + lanes), loadu(s + c + lanes), acc1);
        }
        if (c < Cp) acc0 = kernels::fma(loadu(w1 + j * Cp + c), loadu(s + c), acc0);
        const vfloat h(Act::apply(xsimd::hadd(acc0 + acc1) + b1[j]));
        for (std::size_t k = 0; k < Cp; k += lanes) storeu(g + k, kernels::fma(h, loadu(w2 + j * Cp + k), loadu(g + k)));
    }
    for (std::size_t c = 0; c < Cp; c += lanes) storeu(g + c, Gate::apply(loadu(g + c)));
}

// out[y][x] = in[y - top][x - left] inside, 0 outside (ZeroPadding2D); with negative
// offsets it crops (Cropping2D). Whole rows of channels are contiguous, so a row is a memcpy.
inline void place2d(std::size_t h, std::size_t w, std::size_t c, std::size_t oh, std::size_t ow, std::ptrdiff_t top,
                    std::ptrdiff_t left, const float* in, float* out, std::size_t batch) noexcept {
    for (std::size_t b = 0; b < batch; ++b)
        for (std::size_t oy = 0; oy < oh; ++oy) {
            float* dst = out + (b * oh + oy) * ow * c;
            const std::ptrdiff_t iy = std::ptrdiff_t(oy) - top;
            if (iy < 0 || iy >= std::ptrdiff_t(h)) {
                std::fill_n(dst, ow * c, 0.f);
                continue;
            }
            const std::ptrdiff_t x_from = std::max<std::ptrdiff_t>(left, 0);
            const std::ptrdiff_t x_to = std::min<std::ptrdiff_t>(std::ptrdiff_t(w) + left, std::ptrdiff_t(ow));
            std::fill_n(dst, std::size_t(x_from) * c, 0.f);
            std::memcpy(dst + std::size_t(x_from) * c, in + ((b * h + std::size_t(iy)) * w + std::size_t(x_from - left)) * c,
                        std::size_t(x_to - x_from) * c * sizeof(float));
            std::fill_n(dst + std::size_t(x_to) * c, (ow - std::size_t(x_to)) * c, 0.f);
        }
}

// Nearest-neighbour upsampling by (sh, sw).
inline void upsample_nearest(std::size_t h, std::size_t w, std::size_t c, std::size_t sh, std::size_t sw, const float* in,
                             float* out, std::size_t batch) noexcept {
    const std::size_t ow = w * sw;
    for (std::size_t b = 0; b < batch; ++b)
        for (std::size_t y = 0; y < h; ++y) {
            float* row = out + (b * h * sh + y * sh) * ow * c;
            for (std::size_t x = 0; x < w; ++x)
                for (std::size_t k = 0; k < sw; ++k)
                    std::memcpy(row + (x * sw + k) * c, in + ((b * h + y) * w + x) * c, c * sizeof(float));
            for (std::size_t k = 1; k < sh; ++k) std::memcpy(row + k * ow * c, row, ow * c * sizeof(float));
        }
}

// y = x * scale[c] + shift[c] over the last axis (an inference BatchNorm); y may alias x.
inline void channel_affine(const float* x, float* y, std::size_t rows, std::size_t c, const float* scale, const float* shift) noexcept {
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c0 = 0; c0 < c; c0 += lanes) {
            const std::size_t n = std::min(lanes, c - c0);
            store_n(y + r * c + c0, kernels::fma(load_n(x + r * c + c0, n), load(scale + c0), load(shift + c0)), n);
        }
}

// y = x >= 0 ? x : alpha[c] * x over the last axis (PReLU); y may alias x; NaN stays NaN.
inline void channel_prelu(const float* x, float* y, std::size_t rows, std::size_t c, const float* alpha) noexcept {
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c0 = 0; c0 < c; c0 += lanes) {
            const std::size_t n = std::min(lanes, c - c0);
            const vfloat v = load_n(x + r * c + c0, n);
            store_n(y + r * c + c0, xsimd::select(v < vfloat(0.f), v * load(alpha + c0), v), n);
        }
}

}  // namespace typenet::kernels
