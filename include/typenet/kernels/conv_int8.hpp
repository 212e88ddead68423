// Conv2D with int8 weights (groups 1): the int8 scheme of dense_int8.hpp on im2col rows.
//
// Per sample, the input map is quantized once (one scale for the image: its largest |x| /
// 127; bytes offset by 128, so zero padding is the byte 128); then blocks of output pixels
// gather their receptive fields as byte rows (K = kh kw C bytes, ordered (ky, kx, c) like the
// packed weights) and run the int8 GEMM (vpdpbusd with VNNI). Gathering bytes moves a quarter
// of what the fp32 im2col moves, and quantizing costs one pass over the input map per layer.
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

// Scratch, in floats: the quantized image, one block of byte rows, their scales.
inline constexpr std::size_t conv_int8_scratch(const ConvGeometry& g) noexcept {
    return round_up((g.h * g.w * g.c + 3) / 4 + 1, lanes) + pixel_block * int8_row_words(conv_int8_packing(g)) + pixel_block;
}

template <class Act>
inline void conv2d_int8(const ConvGeometry& g, const float* packed, const float* in, float* out, std::size_t batch, float* scratch,
                        const float* add = nullptr, std::size_t ldo = 0) noexcept {
    if (ldo == 0) ldo = g.cout;
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

}  // namespace typenet::kernels
