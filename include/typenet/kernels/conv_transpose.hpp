// Transposed convolution, NHWC: each input pixel spreads x[ci] * W[ci][co][ky][kx] onto the
// output pixel (iy * s + ky * d - pad, ix * s + kx * d - pad). As a GEMM: rows are input
// pixels, K = Cin, N = KH * KW * Cout (ordered ky, kx, co); a block of rows is computed into
// scratch and scattered-added into the output, which starts as the bias; the activation
// runs last over the output.
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <cstddef>

#include "dense.hpp"
#include "epilogue.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::kernels {

struct ConvTransposeGeometry {
    std::size_t h, w, c, kh, kw, sh, sw, dh, dw, pad_top, pad_left, oh, ow, cout;
    constexpr DensePacking packing() const noexcept { return {c, kh * kw * cout}; }
    constexpr std::size_t bias_offset() const noexcept { return packing().floats(false); }
    constexpr std::size_t packed_floats() const noexcept { return bias_offset() + round_up(cout, lanes); }
};

inline constexpr std::size_t transpose_pixel_block = 4 * mr;

// Canonical weight [c][cout][kh][kw] (PyTorch's ConvTranspose2d) and bias [cout] or null.
inline void conv_transpose_pack(const ConvTransposeGeometry& g, const float* w, const float* b, float* packed, float* tmp) noexcept {
    for (std::size_t ci = 0; ci < g.c; ++ci)
        for (std::size_t co = 0; co < g.cout; ++co)
            for (std::size_t y = 0; y < g.kh; ++y)
                for (std::size_t x = 0; x < g.kw; ++x) tmp[((y * g.kw + x) * g.cout + co) * g.c + ci] = w[((ci * g.cout + co) * g.kh + y) * g.kw + x];
    dense_pack(g.packing(), tmp, nullptr, packed);
    float* pb = packed + g.bias_offset();
    std::fill_n(pb, round_up(g.cout, lanes), 0.f);
    if (b) std::copy_n(b, g.cout, pb);
}

template <class Act>
inline void conv_transpose2d(const ConvTransposeGeometry& g, const float* packed, const float* in, float* out,
                             std::size_t batch, float* scratch) noexcept {
    const float* bias = packed + g.bias_offset();
    const std::size_t plane = g.oh * g.ow, n = g.kh * g.kw * g.cout;
    for (std::size_t p = 0; p < batch * plane; ++p) std::copy_n(bias, g.cout, out + p * g.cout);
    const std::size_t pixels = batch * g.h * g.w;
    for (std::size_t q0 = 0; q0 < pixels; q0 += transpose_pixel_block) {
        const std::size_t rows = std::min(transpose_pixel_block, pixels - q0);
        gemm<linear>(g.packing(), packed, false, in + q0 * g.c, g.c, rows, scratch, n);
        for (std::size_t i = 0; i < rows; ++i) {
            const std::size_t q = q0 + i, b = q / (g.h * g.w), iy = q % (g.h * g.w) / g.w, ix = q % g.w;
            for (std::size_t y = 0; y < g.kh; ++y) {
                const std::ptrdiff_t oy = std::ptrdiff_t(iy * g.sh + y * g.dh) - std::ptrdiff_t(g.pad_top);
                if (oy < 0 || oy >= std::ptrdiff_t(g.oh)) continue;
                for (std::size_t x = 0; x < g.kw; ++x) {
                    const std::ptrdiff_t ox = std::ptrdiff_t(ix * g.sw + x * g.dw) - std::ptrdiff_t(g.pad_left);
                    if (ox < 0 || ox >= std::ptrdiff_t(g.ow)) continue;
                    float* dst = out + ((b * g.oh + std::size_t(oy)) * g.ow + std::size_t(ox)) * g.cout;
                    const float* src = scratch + i * n + (y * g.kw + x) * g.cout;
                    std::size_t c0 = 0;
                    for (; c0 + lanes <= g.cout; c0 += lanes) storeu(dst + c0, loadu(dst + c0) + loadu(src + c0));
                    for (; c0 < g.cout; ++c0) dst[c0] += src[c0];
                }
            }
        }
    }
    if constexpr (!is_identity_activation<Act>) activation_map<Act>(out, out, batch * plane, g.cout);
}

}  // namespace typenet::kernels
