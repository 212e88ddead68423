// Winograd F(4x4, 3x3) for 3x3 convolutions with stride 1, dilation 1 and groups 1 (NHWC).
//
// Each 4x4 tile of output pixels is computed from the 6x6 input window around it as
//   Y = A^T [ U (.) V ] A,   U = G g G^T (the filter, transformed once at pack time),
//                            V = B^T d B (the window),
// with the interpolation points 0, +-1, +-2, 1/2 ... of Lavin & Gray ("Fast Algorithms for
// Convolutional Neural Networks", 2016): 36 products per tile and channel pair where the direct
// sum takes 16 x 9 = 144, so 4x fewer multiplications on whole tiles. The 36 elementwise
// products summed over input channels are 36 independent GEMMs, tiles x Cin times Cin x Cout,
// which run on the Dense GEMM (kernels/dense.hpp):
//   1. copy the image into a zero border that whole tiles can read (as the implicit GEMM does);
//   2. for a block of tiles, transform each window: V[36][tiles][Cin];
//   3. M[t] = V[t] U[t] for t < 36: M[36][tiles][Cout];
//   4. transform back, add the bias (and a residual), apply the activation, store the pixels
//      that lie inside the output map.
// Blocks of tiles keep V and M in L2 between the steps. A tile's result does not depend on
// the block it is in, so blocks, crops and threads give the same bits.
// Error: the transforms' coefficients (up to 5 in B, 8 in A, 1/24 in G) amplify rounding; on
// 64..512 channels the outputs differ from the direct sum by ~1e-6..1e-5 of their magnitude
// (docs/performance.md measures it against PyTorch).
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <cstddef>

#include "conv.hpp"
#include "dense.hpp"
#include "share.hpp"
#include "simd.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::kernels {

// Whether a convolution can run as F(4x4, 3x3).
inline constexpr bool winograd_applies(const ConvGeometry& g) noexcept {
    return g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 && g.groups == 1;
}

struct WinogradGeometry {
    std::size_t tiles_h, tiles_w;  // 4x4 output tiles covering the output map
    std::size_t hp, wp;            // the zero-bordered copy the tiles read
    std::size_t block;             // tiles transformed and multiplied at a time
    std::size_t capacity;          // tiles the scratch holds: at least the block of any crop of the map
    constexpr std::size_t tiles() const noexcept { return tiles_h * tiles_w; }
};
// Bytes of V and M per tile; blocks of tiles whose V and M take about half of L2 (1 MB on
// Zen 4/5), at least two register blocks of rows so every weight panel read serves 24 tiles.
inline constexpr std::size_t winograd_block_bytes = std::size_t{512} << 10;
constexpr WinogradGeometry winograd_geometry(const ConvGeometry& g) noexcept {
    const std::size_t th = (g.oh + 3) / 4, tw = (g.ow + 3) / 4, tiles = th * tw;
    const std::size_t per_tile = 36 * (g.c + g.cout) * sizeof(float);
    const std::size_t most = std::max(2 * mr, winograd_block_bytes / per_tile / mr * mr);
    const std::size_t blocks = (tiles + most - 1) / most;  // equal blocks: no short last one
    return {th, tw, 4 * th + 2, 4 * tw + 2, (tiles + blocks - 1) / blocks, std::min(tiles, most)};
}
// Where it pays, by default (one core, Zen 5, against the implicit GEMM: 56x56x64 2.6x,
// 28x28x128 2.4x, 14x14x256 2.1x, 8x8x64 2.1x, 32x32x16 1.1x): at least 16 channels in and
// out (at 8 the transforms cost more than the products save: 0.7x), and transformed weights
// that stay in cache (36 Cin Cout floats <= 16 MB) or enough tiles to reuse them (7x7x512:
// 4 tiles, 38 MB of weights read for them, 0.74x; 14x14x512 with 16 tiles 1.3x).
constexpr bool winograd_pays(const ConvGeometry& g) noexcept {
    return winograd_applies(g) && g.c >= 16 && g.cout >= 16 &&
           (36 * g.c * g.cout * sizeof(float) <= (std::size_t{16} << 20) || winograd_geometry(g).tiles() >= 16);
}
// Whether several threads share one sample's convolution (by tiles): only with tiles enough
// for whole row blocks each. On 2 threads, A/B against one: 28x28x64 (49 tiles) 1.47x,
// 32x32x16 (64) 1.35x, but 20x20x64 (25) 1.08x, 24x24x32 (36) 0.94x, 16x16x32 (16) 0.97x,
// 8x8x64 (4) 0.86x: each thread's GEMMs get a few rows and read all the weights. Those run on
// one thread, still faster than the direct sum on two (16x16x32 12.6 µs against 18.6).
constexpr bool winograd_shares(const ConvGeometry& g) noexcept { return winograd_geometry(g).tiles() >= 4 * mr; }
// Packed: U[t] for t < 36, each a Dense GEMM operand Cin -> Cout, then the bias.
constexpr std::size_t winograd_floats(const ConvGeometry& g) noexcept {
    const DensePacking d{g.c, g.cout};
    return 36 * d.weight_floats() + d.bias_floats();
}
// Scratch for one image: the bordered copy, then V and M of one block.
constexpr std::size_t winograd_scratch(const ConvGeometry& g) noexcept {
    const WinogradGeometry wg = winograd_geometry(g);
    return round_up(wg.hp * wg.wp * g.c, lanes) + 36 * wg.capacity * (round_up(g.c, lanes) + round_up(g.cout, lanes));
}

// Canonical weight [cout][cin][3][3] and bias [cout] (or null). U = G g G^T in double, then
// rounded. tmp: cout x cin floats.
inline void winograd_pack(const ConvGeometry& g, const float* w, const float* b, float* packed, float* tmp) noexcept {
    constexpr double G[6][3] = {{1.0 / 4, 0, 0},           {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}};
    const DensePacking d{g.c, g.cout};
    for (std::size_t t = 0; t < 36; ++t) {
        const std::size_t ti = t / 6, tj = t % 6;
        for (std::size_t o = 0; o < g.cout; ++o)
            for (std::size_t ci = 0; ci < g.c; ++ci) {
                const float* k = w + (o * g.c + ci) * 9;
                double u = 0;
                for (std::size_t y = 0; y < 3; ++y)
                    for (std::size_t x = 0; x < 3; ++x) u += G[ti][y] * double(k[y * 3 + x]) * G[tj][x];
                tmp[o * g.c + ci] = float(u);
            }
        dense_pack(d, tmp, nullptr, packed + t * d.weight_floats());
    }
    float* pb = packed + 36 * d.weight_floats();
    std::fill_n(pb, d.bias_floats(), 0.f);
    if (b) std::copy_n(b, g.cout, pb);
}

namespace detail {
// B^T d for six values (one column or row of a window).
[[gnu::always_inline]] inline void winograd_bt(const vfloat* d, vfloat* r) noexcept {
    const vfloat four(4.f), five(-5.f), two(2.f);
    const vfloat a = d[4] - d[2], b = d[3] - d[1];
    const vfloat c = d[3] + d[4], e = d[1] + d[2];
    const vfloat f = d[4] - d[3], h = d[1] - d[2];
    r[0] = xsimd::fma(four, d[0], xsimd::fma(five, d[2], d[4]));
    r[1] = xsimd::fnma(four, e, c);
    r[2] = xsimd::fma(four, h, f);
    r[3] = xsimd::fma(two, b, a);
    r[4] = xsimd::fnma(two, b, a);
    r[5] = xsimd::fma(four, d[1], xsimd::fma(five, d[3], d[5]));
}
// A^T m for six values: four.
[[gnu::always_inline]] inline void winograd_at(const vfloat* m, vfloat* r) noexcept {
    const vfloat s12 = m[1] + m[2], d12 = m[1] - m[2], s34 = m[3] + m[4], d34 = m[3] - m[4];
    r[0] = m[0] + s12 + s34;
    r[1] = xsimd::fma(vfloat(2.f), d34, d12);
    r[2] = xsimd::fma(vfloat(4.f), s34, s12);
    r[3] = xsimd::fma(vfloat(8.f), d34, d12) + m[5];
}

// The window at src (rows ws floats apart, channels contiguous) to V: value t of channel c at
// v[t * vs + c].
inline void winograd_input(const float* src, std::size_t ws, std::size_t c, float* v, std::size_t vs) noexcept {
    for (std::size_t c0 = 0; c0 < c; c0 += lanes) {
        const std::size_t n = std::min(lanes, c - c0);
        vfloat t[6][6];
        for (std::size_t j = 0; j < 6; ++j) {
            vfloat d[6], r[6];
            TYPENET_UNROLL
            for (std::size_t i = 0; i < 6; ++i) {
                const float* p = src + i * ws + j * c + c0;
                d[i] = n == lanes ? loadu(p) : load_n(p, n);
            }
            winograd_bt(d, r);
            TYPENET_UNROLL
            for (std::size_t i = 0; i < 6; ++i) t[i][j] = r[i];
        }
        TYPENET_UNROLL
        for (std::size_t i = 0; i < 6; ++i) {
            vfloat r[6];
            winograd_bt(t[i], r);
            TYPENET_UNROLL
            for (std::size_t j = 0; j < 6; ++j) {
                float* p = v + (i * 6 + j) * vs + c0;
                if (n == lanes) storeu(p, r[j]);
                else store_n(p, r[j], n);
            }
        }
    }
}

// M (value t of channel o at m[t * ms + o]) back to the rows x cols pixels of a tile at out
// (pixels ldo floats apart, rows ldr floats apart): + bias [+ add], activation.
template <class Act>
inline void winograd_output(const float* m, std::size_t ms, std::size_t cout, const float* bias, float* out, std::size_t ldo,
                            std::size_t ldr, const float* add, std::size_t rows, std::size_t cols) noexcept {
    for (std::size_t c0 = 0; c0 < cout; c0 += lanes) {
        const std::size_t n = std::min(lanes, cout - c0);
        vfloat u[4][6];
        for (std::size_t j = 0; j < 6; ++j) {
            vfloat d[6], r[4];
            TYPENET_UNROLL
            for (std::size_t i = 0; i < 6; ++i) d[i] = loadu(m + (i * 6 + j) * ms + c0);  // M rows are padded to whole vectors
            winograd_at(d, r);
            TYPENET_UNROLL
            for (std::size_t i = 0; i < 4; ++i) u[i][j] = r[i];
        }
        const vfloat b = load(bias + c0);
        for (std::size_t i = 0; i < rows; ++i) {
            vfloat r[4];
            winograd_at(u[i], r);
            for (std::size_t j = 0; j < cols; ++j) {
                const std::size_t at = i * ldr + j * ldo + c0;
                vfloat y = r[j] + b;
                if (add) y += n == lanes ? loadu(add + at) : load_n(add + at, n);
                y = Act::apply(y);
                if (n == lanes) storeu(out + at, y);
                else store_n(out + at, y, n);
            }
        }
    }
}
}  // namespace detail

// out = act(conv(in) + b [+ add]) for `batch` samples, as F(4x4, 3x3). Output pixels ldo floats
// apart (cout by default). g.oh, g.ow may be a crop of the layer's map (the scratch of the
// whole map is enough). A share: phase 0 its rows of the bordered copy; phase 1 its tiles, in
// its own part of the V/M scratch.
template <class Act>
inline void conv2d_winograd(const ConvGeometry& g, const float* packed, const float* in, float* out, std::size_t batch,
                            float* scratch, const float* add = nullptr, std::size_t ldo = 0, Share share = {}) noexcept {
    static_assert(!Act::row_wise, "typenet: a convolution takes an elementwise activation");
    if (ldo == 0) ldo = g.cout;
    const WinogradGeometry wg = winograd_geometry(g);
    const DensePacking d{g.c, g.cout};
    const float* bias = packed + 36 * d.weight_floats();
    const std::size_t cs = round_up(g.c, lanes), os = round_up(g.cout, lanes);
    float* img = scratch;
    float* v_all = scratch + round_up(wg.hp * wg.wp * g.c, lanes);
    // Threads: each share multiplies blocks of at most block / count tiles in its own part.
    const std::size_t parts = std::min(share.count, wg.block);
    if (share.computes() && share.index >= parts) return;  // (more threads than a block has tiles)
    const std::size_t block = wg.block / parts;
    float* v = v_all + (share.computes() ? share.index : 0) * block * 36 * (cs + os);
    float* m = v + 36 * block * cs;
    for (std::size_t b = 0; b < batch; ++b) {
        if (share.copies()) copy_bordered(g, in + b * g.h * g.w * g.c, img, wg.hp, wg.wp, share);
        if (!share.computes()) continue;
        float* o = out + b * g.oh * g.ow * ldo;
        const float* a = add ? add + b * g.oh * g.ow * ldo : nullptr;
        const auto [t0, t1] = share.range(wg.tiles(), 4);  // (whole blocks of 4 rows in each share's GEMMs)
        for (std::size_t q0 = t0; q0 < t1; q0 += block) {
            const std::size_t nt = std::min(block, t1 - q0);
            for (std::size_t i = 0; i < nt; ++i) {
                const std::size_t ty = (q0 + i) / wg.tiles_w, tx = (q0 + i) % wg.tiles_w;
                detail::winograd_input(img + (4 * ty * wg.wp + 4 * tx) * g.c, wg.wp * g.c, g.c, v + i * cs, block * cs);
            }
            for (std::size_t t = 0; t < 36; ++t)
                gemm<linear>(d, packed + t * d.weight_floats(), false, v + t * block * cs, cs, nt, m + t * block * os, os);
            for (std::size_t i = 0; i < nt; ++i) {
                const std::size_t ty = (q0 + i) / wg.tiles_w, tx = (q0 + i) % wg.tiles_w;
                const std::size_t at = (4 * ty * g.ow + 4 * tx) * ldo;
                detail::winograd_output<Act>(m + i * os, block * os, g.cout, bias, o + at, ldo, g.ow * ldo, a ? a + at : nullptr,
                                             std::min<std::size_t>(4, g.oh - 4 * ty), std::min<std::size_t>(4, g.ow - 4 * tx));
            }
        }
    }
}

}  // namespace typenet::kernels
