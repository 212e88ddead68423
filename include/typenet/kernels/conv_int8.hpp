// Conv2D with int8 weights (groups 1): the int8 scheme of dense_int8.hpp.
//
// Per sample, the input map is quantized once (one scale for the image: its largest |x| /
// 127; bytes offset by 128, so zero padding is the byte 128). Then, where the channels come
// in whole quads (C % 4 == 0: a tap's channels are whole words of the packed K axis), an
// implicit GEMM: the image is quantized into a border of 128s and each micro-kernel walks the
// taps of its pixels in place, like the fp32 implicit GEMM (conv.hpp). Otherwise (an image's
// first layer, C = 1 or 3) blocks of output pixels gather their receptive fields as byte rows
// (K = kh kw C bytes, ordered (ky, kx, c) like the packed weights) and run the int8 GEMM.
// The gather was a third of ResNet-20's int8 forward (9 copies of 16 bytes per pixel, each
// with its bounds checks, for 36 vpdpbusd).
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "conv.hpp"
#include "dense_int8.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::kernels {

inline constexpr Int8Packing conv_int8_packing(const ConvGeometry& g) noexcept { return {g.k(), g.cout}; }

// Canonical [cout][cin][kh][kw] weights and bias to the int8 GEMM operand (K ordered (ky, kx, ci)).
inline void conv_pack_int8(const ConvGeometry& g, const float* w, const float* b, float* packed) {
    const std::size_t cin = g.c, k = g.k();
    std::vector<float> tmp(g.cout * k);
    for (std::size_t o = 0; o < g.cout; ++o)
        for (std::size_t ci = 0; ci < cin; ++ci)
            for (std::size_t y = 0; y < g.kh; ++y)
                for (std::size_t x = 0; x < g.kw; ++x) tmp[o * k + (y * g.kw + x) * cin + ci] = w[((o * cin + ci) * g.kh + y) * g.kw + x];
    dense_pack_int8(conv_int8_packing(g), tmp.data(), b, packed);
}

inline constexpr bool conv_int8_implicit(const ConvGeometry& g) noexcept { return g.c % 4 == 0 && g.kh * g.kw <= 64; }

// Scratch, in floats: the quantized image in its border (implicit), or the quantized image,
// one block of byte rows and their scales (gathered).
inline constexpr std::size_t conv_int8_implicit_scratch(const ConvGeometry& g) noexcept {
    const ImplicitGeometry ig = implicit_geometry(g);
    return round_up(ig.hp * ig.wp * g.c / 4, lanes);
}
inline constexpr std::size_t conv_int8_gathered_scratch(const ConvGeometry& g) noexcept {
    return round_up((g.h * g.w * g.c + 3) / 4 + 1, lanes) + pixel_block * int8_row_words(conv_int8_packing(g)) + pixel_block;
}
inline constexpr std::size_t conv_int8_scratch(const ConvGeometry& g) noexcept {
    return conv_int8_implicit(g) ? conv_int8_implicit_scratch(g) : conv_int8_gathered_scratch(g);
}

// One image to bytes q_x + 128 inside a border of 128s (q_x = 0): hp x wp pixels, the image at
// (pad_top, pad_left), one scale for the image (returned: NaN when it holds a NaN or infinity).
inline float quantize_bordered(const ConvGeometry& g, const float* img, std::uint8_t* dst, std::size_t hp, std::size_t wp) noexcept {
    const float m = largest_magnitude(img, g.h * g.w * g.c);
    const std::size_t run = wp * g.c, left = g.pad_left * g.c, width = g.w * g.c;
    for (std::size_t r = 0; r < hp; ++r) {
        std::uint8_t* row = dst + r * run;
        if (r < g.pad_top || r >= g.pad_top + g.h) {
            std::memset(row, 128, run);
            continue;
        }
        std::memset(row, 128, left);
        quantize_with(img + (r - g.pad_top) * width, width, m, row + left);  // (width is whole quads: nothing written past it)
        std::memset(row + left + width, 128, run - left - width);
    }
    return m / 127.f;
}

namespace detail {
// M output pixels sx words apart in the quantized image (along one output row) by V vectors
// of output channels: every tap, every quad of its channels, one broadcast per pixel and V
// weight vectors; then the image's one scale s.
template <std::size_t M, std::size_t V>
inline void int8_implicit_micro(const std::uint32_t* x, std::size_t sx, const std::size_t* tap, std::size_t taps, std::size_t cq,
                                const std::uint32_t* pw, float s, float* y, std::size_t ldy, std::size_t ncols,
                                const std::int32_t* correction, const float* scale, const float* bias, const float* add,
                                bool clamp) noexcept {
    vint acc[M][2];
    TYPENET_UNROLL
    for (std::size_t i = 0; i < M; ++i) acc[i][0] = acc[i][1] = vint(0);
    for (std::size_t t = 0; t < taps; ++t) {
        const std::uint32_t* xt = x + tap[t];
        for (std::size_t q = 0; q < cq; ++q, pw += nr) {
            const vint w0 = load_ints(pw);
            const vint w1 = V == 2 ? load_ints(pw + lanes) : vint(0);
            TYPENET_UNROLL
            for (std::size_t i = 0; i < M; ++i) {
                const vint xb(static_cast<std::int32_t>(xt[i * sx + q]));
                acc[i][0] = dot_int8(acc[i][0], xb, w0);
                if constexpr (V == 2) acc[i][1] = dot_int8(acc[i][1], xb, w1);
            }
        }
    }
    int8_store_block<M, V>(acc, &s, 0, y, ldy, ncols, correction, scale, bias, add, clamp);
}
}  // namespace detail

// The implicit int8 GEMM (conv_int8_implicit): output pixels in tiles of mr along each output
// row (then 8, 4, 2, 1), reading the bordered bytes in place.
template <class Act>
inline void conv2d_int8_implicit(const ConvGeometry& g, const float* packed, const float* in, float* out, std::size_t batch,
                                 float* scratch, const float* add, std::size_t ldo) noexcept {
    const Int8Packing d = conv_int8_packing(g);
    const ImplicitGeometry ig = implicit_geometry(g);
    const auto* w = reinterpret_cast<const std::uint32_t*>(packed);
    const auto* correction = reinterpret_cast<const std::int32_t*>(packed + d.weight_words());
    const float* scale = packed + d.weight_words() + d.column_floats();
    const float* bias = scale + d.column_floats();
    const std::size_t cq = g.c / 4, taps = g.kh * g.kw, pixels = g.oh * g.ow;
    std::size_t tap[64];  // kh * kw <= 64 (conv_int8_implicit)
    for (std::size_t y = 0; y < g.kh; ++y)
        for (std::size_t x = 0; x < g.kw; ++x) tap[y * g.kw + x] = (y * g.dh * ig.wp + x * g.dw) * cq;
    auto* qimg = reinterpret_cast<std::uint8_t*>(scratch);
    const auto* words = reinterpret_cast<const std::uint32_t*>(scratch);
    const std::size_t sx = g.sw * cq;
    for (std::size_t b = 0; b < batch; ++b) {
        const float s = quantize_bordered(g, in + b * g.h * g.w * g.c, qimg, ig.hp, ig.wp);
        float* o = out + b * pixels * ldo;
        const float* a = add ? add + b * pixels * ldo : nullptr;
        for (std::size_t p = 0; p < d.panels(); ++p) {
            const std::uint32_t* pw = w + p * d.quads() * nr;
            const std::size_t col = p * nr, ncols = std::min(nr, d.out - col);
            for (std::size_t oy = 0; oy < g.oh; ++oy) {
                const std::uint32_t* x = words + oy * g.sh * ig.wp * cq;
                for (std::size_t ox = 0; ox < g.ow; ox += mr) {
                    const std::size_t m = std::min(mr, g.ow - ox), at = (oy * g.ow + ox) * ldo + col;
                    detail::row_blocks(m, [&]<std::size_t M>(std::integral_constant<std::size_t, M>, std::size_t i) {
                        const std::uint32_t* xi = x + (ox + i) * sx;
                        float* yi = o + at + i * ldo;
                        const float* ai = a ? a + at + i * ldo : nullptr;
                        if (ncols > lanes)
                            detail::int8_implicit_micro<M, 2>(xi, sx, tap, taps, cq, pw, s, yi, ldo, ncols, correction + col, scale + col,
                                                              bias + col, ai, detail::clamps_in_registers<Act>);
                        else
                            detail::int8_implicit_micro<M, 1>(xi, sx, tap, taps, cq, pw, s, yi, ldo, ncols, correction + col, scale + col,
                                                              bias + col, ai, detail::clamps_in_registers<Act>);
                    });
                    detail::apply_tile<Act>(o + at, m, ldo, ncols);
                }
            }
        }
    }
}

// The gathered byte rows (C % 4 != 0).
template <class Act>
inline void conv2d_int8_gathered(const ConvGeometry& g, const float* packed, const float* in, float* out, std::size_t batch,
                                 float* scratch, const float* add, std::size_t ldo) noexcept {
    const Int8Packing d = conv_int8_packing(g);
    const std::size_t ldq = int8_row_words(d), image = g.h * g.w * g.c, pixels = g.oh * g.ow;
    auto* qimg = reinterpret_cast<std::uint8_t*>(scratch);
    auto* rows = reinterpret_cast<std::uint32_t*>(scratch + round_up((image + 3) / 4 + 1, lanes));
    float* sx = reinterpret_cast<float*>(rows + pixel_block * ldq);
    const std::size_t run = g.c;  // bytes of one tap
    for (std::size_t b = 0; b < batch; ++b) {
        const float s = quantize_row(in + b * image, image, qimg);
        std::fill_n(sx, pixel_block, s);
        for (std::size_t q0 = 0; q0 < pixels; q0 += pixel_block) {
            const std::size_t n = std::min(pixel_block, pixels - q0);
            for (std::size_t i = 0; i < n; ++i) {
                const std::size_t oy = (q0 + i) / g.ow, ox = (q0 + i) % g.ow;
                auto* row = reinterpret_cast<std::uint8_t*>(rows + i * ldq);
                for (std::size_t ky = 0; ky < g.kh; ++ky) {
                    const std::ptrdiff_t iy = std::ptrdiff_t(oy * g.sh + ky * g.dh) - std::ptrdiff_t(g.pad_top);
                    for (std::size_t kx = 0; kx < g.kw; ++kx, row += run) {
                        const std::ptrdiff_t ix = std::ptrdiff_t(ox * g.sw + kx * g.dw) - std::ptrdiff_t(g.pad_left);
                        if (iy < 0 || ix < 0 || iy >= std::ptrdiff_t(g.h) || ix >= std::ptrdiff_t(g.w)) std::memset(row, 128, run);
                        else std::memcpy(row, qimg + (std::size_t(iy) * g.w + std::size_t(ix)) * g.c, run);
                    }
                }
                for (std::size_t k = g.k(); k % 4; ++k) *row++ = 128;  // the last word's padding: zeros
            }
            const std::size_t at = (b * pixels + q0) * ldo;
            int8_gemm<Act>(d, packed, rows, ldq, sx, n, out + at, ldo, add ? add + at : nullptr);
        }
    }
}

// out = act(conv(in) + b [+ add]), outputs ldo floats apart (cout by default). Implicit:
// conv_int8_implicit of the layer's geometry (a crop of it has the same channels and window),
// so that a layer instantiates only its own loop.
template <class Act, bool Implicit>
inline void conv2d_int8(const ConvGeometry& g, const float* packed, const float* in, float* out, std::size_t batch, float* scratch,
                        const float* add = nullptr, std::size_t ldo = 0) noexcept {
    if (ldo == 0) ldo = g.cout;
    if constexpr (Implicit) conv2d_int8_implicit<Act>(g, packed, in, out, batch, scratch, add, ldo);
    else conv2d_int8_gathered<Act>(g, packed, in, out, batch, scratch, add, ldo);
}

}  // namespace typenet::kernels
