// Convolution kernels, NHWC.
//
// A convolution is a GEMM whose rows are output pixels and whose K axis is (ky, kx, ci):
//   conv2d_gemm: copies a block of `pixel_block` output pixels' receptive fields into scratch
//                (im2col; each (ky, kx) is one contiguous run of channels in NHWC), then runs
//                the Dense GEMM on it. The copy is K floats per pixel against 2 K Cout flops.
//   1x1 with stride 1 and no padding needs no copy: the input pixels are the GEMM's rows.
//   depthwise:   one filter per channel; channels sit in SIMD lanes and each output pixel
//                accumulates kh x kw vector FMAs per vector of channels (memory bound).
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstring>

#include "dense.hpp"
#include "epilogue.hpp"
#include "simd.hpp"

namespace typenet::kernels {

struct ConvGeometry {
    std::size_t h, w, c;          // input
    std::size_t kh, kw, sh, sw, dh, dw;
    std::size_t pad_top, pad_left;
    std::size_t oh, ow, cout, groups;
    constexpr std::size_t cin_g() const noexcept { return c / groups; }
    constexpr std::size_t cout_g() const noexcept { return cout / groups; }
    constexpr std::size_t k() const noexcept { return kh * kw * cin_g(); }
    constexpr DensePacking packing() const noexcept { return {k(), cout_g()}; }
    constexpr std::size_t group_floats() const noexcept { return packing().floats(true); }
    constexpr bool pointwise() const noexcept {
        return kh == 1 && kw == 1 && sh == 1 && sw == 1 && pad_top == 0 && pad_left == 0 && groups == 1;
    }
};

// Output pixels per im2col block: a multiple of the GEMM's row block.
inline constexpr std::size_t pixel_block = 8 * mr;

// Canonical weight [cout][cin_g][kh][kw] (PyTorch's Conv2d) and bias [cout] (or null) to one
// packed GEMM operand per group; K ordered (ky, kx, ci) to match im2col. Scratch: k() floats
// per output channel of a group.
inline void conv_pack(const ConvGeometry& g, const float* w, const float* b, float* packed, float* tmp) noexcept {
    const std::size_t cin = g.cin_g(), k = g.k();
    for (std::size_t grp = 0; grp < g.groups; ++grp) {
        for (std::size_t o = 0; o < g.cout_g(); ++o)
            for (std::size_t ci = 0; ci < cin; ++ci)
                for (std::size_t y = 0; y < g.kh; ++y)
                    for (std::size_t x = 0; x < g.kw; ++x)
                        tmp[o * k + (y * g.kw + x) * cin + ci] = w[(((grp * g.cout_g() + o) * cin + ci) * g.kh + y) * g.kw + x];
        float* pg = packed + grp * g.group_floats();
        dense_pack(g.packing(), tmp, nullptr, pg);
        float* pb = pg + g.packing().weight_floats();
        std::fill_n(pb, g.packing().bias_floats(), 0.f);
        if (b) std::copy_n(b + grp * g.cout_g(), g.cout_g(), pb);
    }
}

// Receptive fields of output pixels [q0, q0 + n) (numbered across the batch) of group grp,
// one row of k() floats each.
inline void im2col(const ConvGeometry& g, const float* in, std::size_t grp, std::size_t q0, std::size_t n, float* col) noexcept {
    const std::size_t cin = g.cin_g(), k = g.k(), plane = g.oh * g.ow;
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t q = q0 + i, b = q / plane, r = q % plane, oy = r / g.ow, ox = r % g.ow;
        float* dst = col + i * k;
        for (std::size_t y = 0; y < g.kh; ++y) {
            const std::ptrdiff_t iy = std::ptrdiff_t(oy * g.sh + y * g.dh) - std::ptrdiff_t(g.pad_top);
            for (std::size_t x = 0; x < g.kw; ++x, dst += cin) {
                const std::ptrdiff_t ix = std::ptrdiff_t(ox * g.sw + x * g.dw) - std::ptrdiff_t(g.pad_left);
                if (iy < 0 || ix < 0 || iy >= std::ptrdiff_t(g.h) || ix >= std::ptrdiff_t(g.w))
                    std::fill_n(dst, cin, 0.f);
                else
                    std::memcpy(dst, in + ((b * g.h + std::size_t(iy)) * g.w + std::size_t(ix)) * g.c + grp * cin,
                                cin * sizeof(float));
            }
        }
    }
}

// out = act(conv(in) + b) for `batch` samples. scratch: pixel_block * k() floats.
template <class Act>
inline void conv2d_gemm(const ConvGeometry& g, const float* packed, const float* in, float* out, std::size_t batch,
                        float* scratch) noexcept {
    const std::size_t pixels = batch * g.oh * g.ow;
    if (g.pointwise()) {
        gemm<Act>(g.packing(), packed, true, in, g.c, pixels, out, g.cout);
        return;
    }
    for (std::size_t grp = 0; grp < g.groups; ++grp)
        for (std::size_t q0 = 0; q0 < pixels; q0 += pixel_block) {
            const std::size_t n = std::min(pixel_block, pixels - q0);
            im2col(g, in, grp, q0, n, scratch);
            gemm<Act>(g.packing(), packed + grp * g.group_floats(), true, scratch, g.k(), n, out + q0 * g.cout + grp * g.cout_g(),
                      g.cout);
        }
}

// Depthwise (groups == channels, one filter each): packed as [ky][kx][c] then bias [c], both
// padded to whole vectors.
inline constexpr std::size_t depthwise_stride(std::size_t c) noexcept { return round_up(c, lanes); }
inline constexpr std::size_t depthwise_floats(const ConvGeometry& g) noexcept {
    return (g.kh * g.kw + 1) * depthwise_stride(g.c);
}
inline void depthwise_pack(const ConvGeometry& g, const float* w, const float* b, float* packed) noexcept {
    const std::size_t cs = depthwise_stride(g.c);
    std::fill_n(packed, depthwise_floats(g), 0.f);
    for (std::size_t c = 0; c < g.c; ++c) {
        for (std::size_t t = 0; t < g.kh * g.kw; ++t) packed[t * cs + c] = w[c * g.kh * g.kw + t];
        if (b) packed[g.kh * g.kw * cs + c] = b[c];
    }
}

template <class Act>
inline void depthwise_conv2d(const ConvGeometry& g, const float* packed, const float* in, float* out, std::size_t batch) noexcept {
    static_assert(!Act::row_wise, "typenet: a depthwise convolution takes an elementwise activation");
    const std::size_t cs = depthwise_stride(g.c);
    const float* bias = packed + g.kh * g.kw * cs;
    for (std::size_t b = 0; b < batch; ++b)
        for (std::size_t oy = 0; oy < g.oh; ++oy)
            for (std::size_t ox = 0; ox < g.ow; ++ox) {
                float* dst = out + ((b * g.oh + oy) * g.ow + ox) * g.c;
                for (std::size_t c0 = 0; c0 < g.c; c0 += lanes) {
                    const std::size_t n = std::min(lanes, g.c - c0);
                    vfloat acc = load(bias + c0);
                    for (std::size_t y = 0; y < g.kh; ++y) {
                        const std::ptrdiff_t iy = std::ptrdiff_t(oy * g.sh + y * g.dh) - std::ptrdiff_t(g.pad_top);
                        if (iy < 0 || iy >= std::ptrdiff_t(g.h)) continue;
                        for (std::size_t x = 0; x < g.kw; ++x) {
                            const std::ptrdiff_t ix = std::ptrdiff_t(ox * g.sw + x * g.dw) - std::ptrdiff_t(g.pad_left);
                            if (ix < 0 || ix >= std::ptrdiff_t(g.w)) continue;
                            const float* src = in + ((b * g.h + std::size_t(iy)) * g.w + std::size_t(ix)) * g.c + c0;
                            acc = xsimd::fma(load_n(src, n), load(packed + (y * g.kw + x) * cs + c0), acc);
                        }
                    }
                    store_n(dst + c0, Act::apply(acc), n);
                }
            }
}

}  // namespace typenet::kernels
