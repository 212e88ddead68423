// Winograd F(4x4, 3x3) and F(2x2, 3x3) for 3x3 convolutions with stride 1, dilation 1 and
// groups 1 (NHWC).
//
// Each m x m tile of output pixels (m = 4 or 2) is computed from the n x n input window around
// it (n = m + 2) as
//   Y = A^T [ U (.) V ] A,   U = G g G^T (the filter, transformed once at pack time),
//                            V = B^T d B (the window),
// with the interpolation points of Lavin & Gray ("Fast Algorithms for Convolutional Neural
// Networks", 2016): F(4x4) takes 36 products per tile and channel pair where the direct sum
// takes 16 x 9 = 144 (4x fewer multiplications on whole tiles), F(2x2) 16 where it takes 36
// (2.25x fewer) with a quarter of the rounding error and 16 transformed weight matrices instead
// of 36. The n^2 elementwise products summed over input channels are n^2 independent GEMMs,
// tiles x Cin times Cin x Cout, which run on the Dense GEMM (kernels/dense.hpp):
//   1. for a block of tiles, transform each window: V[n^2][tiles][Cin] (windows that reach
//      outside the image read zeros there);
//   2. M[t] = V[t] U[t] for t < n^2: M[n^2][tiles][Cout];
//   3. transform back, add the bias (and a residual), apply the activation, store the pixels
//      that lie inside the output map.
// Blocks of tiles keep V and M in L2 between the steps, and take the tiles of several samples
// of a batch where one has few, so that each weight matrix read serves many rows. A tile's result does not depend on
// the block it is in, so blocks, crops and threads give the same bits.
// Error: the transforms' coefficients (F(4x4): up to 5 in B, 8 in A, 1/24 in G) amplify
// rounding; on 64..512 channels the outputs differ from the direct sum by ~1e-6..1e-5 of their
// magnitude (docs/convolution.md measures it), F(2x2)'s (0, +-1, 1/2) by ~2x the direct sum's.
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <cstddef>

#include "conv.hpp"
#include "dense.hpp"
#include "share.hpp"
#include "simd.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::kernels {

// Whether a convolution can run as Winograd F(m x m, 3x3).
inline constexpr bool winograd_applies(const ConvGeometry& g) noexcept {
    return g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 && g.groups == 1;
}

struct WinogradGeometry {
    std::size_t m;                 // output tile: m x m pixels from an (m + 2) x (m + 2) window
    std::size_t tiles_h, tiles_w;  // tiles covering the output map
    std::size_t one;               // tiles the fixed scratch holds: a block of one sample (or of any crop)
    std::size_t reuse;             // tiles a block may take across samples, where the weights are large
    constexpr std::size_t tiles() const noexcept { return tiles_h * tiles_w; }
    constexpr std::size_t points() const noexcept { return (m + 2) * (m + 2); }  // GEMMs per block
    // Tiles a block may take in a call on `batch` samples (the scratch for `batch` rows holds them).
    constexpr std::size_t capacity(std::size_t batch) const noexcept { return std::min(std::max(reuse, one), std::max(one, batch * tiles())); }
    // Tiles per block when n tiles are to be done in blocks of at most cap: equal blocks, no
    // short last one.
    static constexpr std::size_t block(std::size_t n, std::size_t cap) noexcept {
        const std::size_t blocks = (n + cap - 1) / cap;
        return blocks ? (n + blocks - 1) / blocks : 0;
    }
};
// Blocks of tiles whose V and M take about half of L2 (1 MB on Zen 4/5), at least two
// register blocks of rows so every weight panel read serves 24 tiles. Where the transformed
// weights are large (7x7x512: 17 MB, read from memory for every block), a block takes the
// tiles of several samples of a batch, up to as many as make the weights' bytes per tile no
// more than V's and M's (c cout / (c + cout) tiles) while one point's V and M stay within
// that half of L2.
inline constexpr std::size_t winograd_block_bytes = std::size_t{512} << 10;
constexpr WinogradGeometry winograd_geometry(const ConvGeometry& g, std::size_t m) noexcept {
    const std::size_t th = (g.oh + m - 1) / m, tw = (g.ow + m - 1) / m, tiles = th * tw;
    const std::size_t per_tile = (m + 2) * (m + 2) * (g.c + g.cout) * sizeof(float);
    const std::size_t most = std::max(2 * mr, winograd_block_bytes / per_tile / mr * mr);
    const std::size_t reuse = std::min(g.c * g.cout / (g.c + g.cout), winograd_block_bytes / ((g.c + g.cout) * sizeof(float))) / mr * mr;
    return {m, th, tw, std::min(most, std::max(tiles, 2 * mr)), reuse};
}
// Transformed weights of F(m x m): (m + 2)^2 matrices Cin x Cout.
constexpr std::size_t winograd_weight_bytes(const ConvGeometry& g, std::size_t m) noexcept {
    return (m + 2) * (m + 2) * g.c * g.cout * sizeof(float);
}
// The tile that pays by default: 4, 2, or 0 (the direct sum). Measured on one core of Zen 5
// against the implicit GEMM (docs/convolution.md), F(4x4) / F(2x2): 56x56x64 2.6x / 1.7x,
// 28x28x128 3.1x / 1.8x, 14x14x256 2.4x / 1.9x, 8x8x64 2.7x / 1.8x; at 8 channels the
// transforms cost more than the products save (0.7x), so at least 16 in and out. F(4x4) where
// its transformed weights stay in cache (<= 16 MB) or the map has enough tiles to reuse them
// (>= 32: 28x28x512, 38 MB for 49 tiles, 2.6x / 1.8x); otherwise F(2x2) where its 16 matrices
// (17 MB) serve as many tiles (14x14x512: 1.55x / 1.67x). Not 7x7x512 (16 tiles of 2x2): alone
// F(2x2) measured 0.94-1.32x, but in a network its weights come from memory each pass, and
// ResNet-50 ran ~4% slower with it than with the direct sum's 9.4 MB (ResNet-18 the same).
// Transformed weights that stay in cache from one block of tiles to the next (L3).
inline constexpr std::size_t winograd_cached_weight_bytes = std::size_t{16} << 20;
constexpr std::size_t winograd_tile(const ConvGeometry& g) noexcept {
    if (!winograd_applies(g) || g.c < 16 || g.cout < 16) return 0;
    if (winograd_weight_bytes(g, 4) <= winograd_cached_weight_bytes || winograd_geometry(g, 4).tiles() >= 32) return 4;
    return winograd_geometry(g, 2).tiles() >= 32 ? 2 : 0;
}
constexpr bool winograd_pays(const ConvGeometry& g) noexcept { return winograd_tile(g) != 0; }
// How several threads share one sample's convolution: by tiles (whole blocks of 4 each) where
// there are 4 register blocks of them, or 16 tiles and the transformed weights stay in cache;
// else by output channels in whole vectors (every thread transforms all the tiles' inputs and
// multiplies only its columns of the weights). On 2 threads against one, eight such layers in
// a row (a `/tmp` program, spinning pool, 2026-12-07, a VM whose cores' round trip was 65 ns):
// 32x32x16 (64 tiles) 1.34x by tiles; 16x16x32 (16 tiles) 1.30-1.62x by tiles; 8x8x64 (4
// tiles) 0.86-1.12x by tiles, 1.09-1.40x by channels. (On 2026-12-03/04, on a VM whose round
// trip was 460 ns, the two smaller ones gave 0.97x by tiles and 0.5-0.75x by channels.) A map
// whose transformed weights stream from beyond L2 (ResNet's 14x14x256: 9.4 MB) is shared by
// channels even with 16 tiles, so that each thread reads only its columns of them (1.46-1.95x
// on 2 threads).
constexpr bool winograd_shares_tiles(const ConvGeometry& g, std::size_t m) noexcept {
    const std::size_t tiles = winograd_geometry(g, m).tiles();
    return tiles >= 4 * mr || (tiles >= 16 && !weights_stream(winograd_weight_bytes(g, m)));
}
// By channels, where the weights stream or the layer is at least 64 channels in and out:
// ResNet-20's 8x8x64 (4 tiles) gains, but the Keras CNN's 13x13x32 -> 64 (9 tiles, after a
// pooling the leader ran alone) did not (1.0x on a spinning pool) and, as the model's only
// shared layer, made a sleeping pool's wake-up cost each call 35 -> 43-52 us.
constexpr bool winograd_shares(const ConvGeometry& g, std::size_t m) noexcept {
    return winograd_shares_tiles(g, m) || (g.cout >= 2 * lanes && (weights_stream(winograd_weight_bytes(g, m)) || (g.c >= 64 && g.cout >= 64)));
}
// Packed: U[t] for t < (m + 2)^2, each a Dense GEMM operand Cin -> Cout, then the bias.
constexpr std::size_t winograd_floats(const ConvGeometry& g, std::size_t m) noexcept {
    const DensePacking d{g.c, g.cout};
    return (m + 2) * (m + 2) * d.weight_floats() + d.bias_floats();
}
// Scratch: V and M of one block, fixed (a block of one sample) and per sample (where blocks
// take the tiles of several samples: capacity(batch) <= one + batch min(tiles, reuse)).
constexpr std::size_t winograd_tile_floats(const ConvGeometry& g, std::size_t m) noexcept {
    return (m + 2) * (m + 2) * (round_up(g.c, lanes) + round_up(g.cout, lanes));
}
constexpr std::size_t winograd_scratch(const ConvGeometry& g, std::size_t m) noexcept {
    return winograd_geometry(g, m).one * winograd_tile_floats(g, m);
}
constexpr std::size_t winograd_scratch_per_sample(const ConvGeometry& g, std::size_t m) noexcept {
    const WinogradGeometry wg = winograd_geometry(g, m);
    return wg.reuse > wg.one ? std::min(wg.tiles(), wg.reuse) * winograd_tile_floats(g, m) : 0;
}
// ... and never more than a block's limit, whatever the batch: capacity(batch) <= max(reuse, one).
constexpr std::size_t winograd_scratch_most(const ConvGeometry& g, std::size_t m) noexcept {
    const WinogradGeometry wg = winograd_geometry(g, m);
    return std::max(wg.reuse, wg.one) * winograd_tile_floats(g, m);
}

// Canonical weight [cout][cin][3][3] and bias [cout] (or null). U = G g G^T in double, then
// rounded. tmp: cout x cin floats.
inline void winograd_pack(const ConvGeometry& g, std::size_t m, const float* w, const float* b, float* packed, float* tmp) noexcept {
    static constexpr double G4[6][3] = {{1.0 / 4, 0, 0},           {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                 {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}};
    static constexpr double G2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    const auto G = [m](std::size_t i, std::size_t j) { return m == 4 ? G4[i][j] : G2[i][j]; };
    const std::size_t n = m + 2;
    const DensePacking d{g.c, g.cout};
    for (std::size_t t = 0; t < n * n; ++t) {
        const std::size_t ti = t / n, tj = t % n;
        for (std::size_t o = 0; o < g.cout; ++o)
            for (std::size_t ci = 0; ci < g.c; ++ci) {
                const float* k = w + (o * g.c + ci) * 9;
                double u = 0;
                for (std::size_t y = 0; y < 3; ++y)
                    for (std::size_t x = 0; x < 3; ++x) u += G(ti, y) * double(k[y * 3 + x]) * G(tj, x);
                tmp[o * g.c + ci] = float(u);
            }
        dense_pack(d, tmp, nullptr, packed + t * d.weight_floats());
    }
    float* pb = packed + n * n * d.weight_floats();
    std::fill_n(pb, d.bias_floats(), 0.f);
    if (b) std::copy_n(b, g.cout, pb);
}

namespace detail {
// B^T d for m + 2 values (one column or row of a window).
template <std::size_t M>
[[gnu::always_inline]] inline void winograd_bt(const vfloat* d, vfloat* r) noexcept {
    if constexpr (M == 4) {
        const vfloat four(4.f), five(-5.f), two(2.f);
        const vfloat a = d[4] - d[2], b = d[3] - d[1];
        const vfloat c = d[3] + d[4], e = d[1] + d[2];
        const vfloat f = d[4] - d[3], h = d[1] - d[2];
        r[0] = kernels::fma(four, d[0], kernels::fma(five, d[2], d[4]));
        r[1] = kernels::fnma(four, e, c);
        r[2] = kernels::fma(four, h, f);
        r[3] = kernels::fma(two, b, a);
        r[4] = kernels::fnma(two, b, a);
        r[5] = kernels::fma(four, d[1], kernels::fma(five, d[3], d[5]));
    } else {
        r[0] = d[0] - d[2];
        r[1] = d[1] + d[2];
        r[2] = d[2] - d[1];
        r[3] = d[1] - d[3];
    }
}
// A^T m for m + 2 values: m.
template <std::size_t M>
[[gnu::always_inline]] inline void winograd_at(const vfloat* m, vfloat* r) noexcept {
    if constexpr (M == 4) {
        const vfloat s12 = m[1] + m[2], d12 = m[1] - m[2], s34 = m[3] + m[4], d34 = m[3] - m[4];
        r[0] = m[0] + s12 + s34;
        r[1] = kernels::fma(vfloat(2.f), d34, d12);
        r[2] = kernels::fma(vfloat(4.f), s34, s12);
        r[3] = kernels::fma(vfloat(8.f), d34, d12) + m[5];
    } else {
        r[0] = m[0] + m[1] + m[2];
        r[1] = m[1] - m[2] - m[3];
    }
}

// The window whose top left pixel is (y0, x0) of an h x w image (pixels c floats apart) to V:
// value t of channel c at v[t * vs + c]. An Edge window may reach outside the image, where it
// is zero: each load checked. (Interior windows without the checks: one body for both was ~10%
// slower on 56x56x64.)
template <std::size_t M, bool Edge>
inline void winograd_input(const float* img, std::size_t h, std::size_t w, std::size_t c, std::ptrdiff_t y0, std::ptrdiff_t x0,
                           float* v, std::size_t vs) noexcept {
    constexpr std::size_t N = M + 2;
    bool inside[N][N];  // (Edge only)
    if constexpr (Edge)
        for (std::size_t i = 0; i < N; ++i)
            for (std::size_t j = 0; j < N; ++j)
                inside[i][j] = y0 + std::ptrdiff_t(i) >= 0 && y0 + std::ptrdiff_t(i) < std::ptrdiff_t(h) && x0 + std::ptrdiff_t(j) >= 0 &&
                               x0 + std::ptrdiff_t(j) < std::ptrdiff_t(w);
    const std::ptrdiff_t base = (y0 * std::ptrdiff_t(w) + x0) * std::ptrdiff_t(c), ws = std::ptrdiff_t(w * c);
    for (std::size_t c0 = 0; c0 < c; c0 += lanes) {
        const std::size_t n = std::min(lanes, c - c0);
        vfloat t[N][N];
        for (std::size_t j = 0; j < N; ++j) {
            vfloat d[N], r[N];
            TYPENET_UNROLL
            for (std::size_t i = 0; i < N; ++i) {
                if (Edge && !inside[i][j]) {
                    d[i] = vfloat(0.f);
                } else {
                    const float* p = img + (base + std::ptrdiff_t(i) * ws + std::ptrdiff_t(j * c + c0));
                    d[i] = n == lanes ? loadu(p) : load_n(p, n);
                }
            }
            winograd_bt<M>(d, r);
            TYPENET_UNROLL
            for (std::size_t i = 0; i < N; ++i) t[i][j] = r[i];
        }
        TYPENET_UNROLL
        for (std::size_t i = 0; i < N; ++i) {
            vfloat r[N];
            winograd_bt<M>(t[i], r);
            TYPENET_UNROLL
            for (std::size_t j = 0; j < N; ++j) {
                float* p = v + (i * N + j) * vs + c0;
                if (n == lanes) storeu(p, r[j]);
                else store_n(p, r[j], n);
            }
        }
    }
}

// M (value t of channel o at m[t * ms + o]) back to the rows x cols pixels of a tile at out
// (pixels ldo floats apart, rows ldr floats apart): + bias [+ add], activation.
template <class Act, std::size_t M>
inline void winograd_output(const float* m, std::size_t ms, std::size_t cout, const float* bias, float* out, std::size_t ldo,
                            std::size_t ldr, const float* add, std::size_t rows, std::size_t cols) noexcept {
    constexpr std::size_t N = M + 2;
    for (std::size_t c0 = 0; c0 < cout; c0 += lanes) {
        const std::size_t n = std::min(lanes, cout - c0);
        vfloat u[M][N];
        for (std::size_t j = 0; j < N; ++j) {
            vfloat d[N], r[M];
            TYPENET_UNROLL
            for (std::size_t i = 0; i < N; ++i) d[i] = loadu(m + (i * N + j) * ms + c0);  // M rows are padded to whole vectors
            winograd_at<M>(d, r);
            TYPENET_UNROLL
            for (std::size_t i = 0; i < M; ++i) u[i][j] = r[i];
        }
        const vfloat b = load(bias + c0);
        for (std::size_t i = 0; i < rows; ++i) {
            vfloat r[M];
            winograd_at<M>(u[i], r);
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

// out = act(conv(in) + b [+ add]) for `batch` samples, as F(M x M, 3x3). Output pixels ldo
// floats apart (cout by default). g.oh, g.ow may be a crop of the layer's map (the scratch of
// the whole map is enough). The windows are read from the image itself (edge tiles with bounds
// checks): no padded copy, so blocks of tiles run across the samples of a batch and every
// block's GEMMs have rows enough. A share (one sample, several threads) takes whole register
// blocks of its tiles, in its own part of the V/M scratch.
template <class Act, std::size_t M = 4>
inline void conv2d_winograd(const ConvGeometry& g, const float* packed, const float* in, float* out, std::size_t batch,
                            float* scratch, const float* add = nullptr, std::size_t ldo = 0, Share share = {}) noexcept {
    static_assert(!Act::row_wise, "typenet: a convolution takes an elementwise activation");
    static_assert(M == 2 || M == 4, "typenet: Winograd tiles are 2x2 or 4x4");
    constexpr std::size_t T = (M + 2) * (M + 2);
    if (!share.computes()) return;
    if (ldo == 0) ldo = g.cout;
    const WinogradGeometry wg = winograd_geometry(g, M);
    const DensePacking d{g.c, g.cout};
    const float* bias = packed + T * d.weight_floats();
    // Each frequency's GEMM fetches its next panel's weights ahead where they are large (64 KB:
    // 128 x 128 channels and up — ResNet-18's and VGG's); ResNet-20's and the Keras CNN's stay
    // in cache, and ran slower fetching them.
    const bool fetch_ahead = d.weight_floats() * sizeof(float) >= 64 * 1024;
    const std::size_t cs = round_up(g.c, lanes), os = round_up(g.cout, lanes);
    const std::size_t tiles = wg.tiles(), capacity = wg.capacity(batch);
    // Threads: each share multiplies blocks of at most capacity / count tiles in its own part
    // of the scratch: of its tiles (whole blocks of 4 rows in its GEMMs), or of all the tiles
    // for its output channels [c0, c1).
    const bool by_tiles = share.count == 1 || winograd_shares_tiles(g, M);  // else by columns
    const std::size_t parts = std::min(share.count, by_tiles ? capacity : (g.cout + lanes - 1) / lanes);
    if (share.index >= parts) return;  // (more threads than a block has tiles, or vectors of channels)
    const Share mine{share.index, parts, share.phase};
    const std::size_t part = capacity / parts;
    float* v = scratch + share.index * part * T * (cs + os);
    float* m = v + T * part * cs;
    const auto [t0, t1] = by_tiles ? mine.range(batch * tiles, 4) : std::pair<std::size_t, std::size_t>{0, batch * tiles};
    const auto [c0, c1] = by_tiles ? std::pair<std::size_t, std::size_t>{0, g.cout} : mine.range(g.cout, lanes);
    const std::size_t block = WinogradGeometry::block(t1 - t0, part);
    const std::ptrdiff_t top = std::ptrdiff_t(g.pad_top), left = std::ptrdiff_t(g.pad_left);
    const auto interior = [&](std::ptrdiff_t y0, std::ptrdiff_t x0) {  // the window wholly inside the image
        return y0 >= 0 && x0 >= 0 && y0 + std::ptrdiff_t(M + 2) <= std::ptrdiff_t(g.h) && x0 + std::ptrdiff_t(M + 2) <= std::ptrdiff_t(g.w);
    };
    for (std::size_t q0 = t0; q0 < t1; q0 += block) {
        const std::size_t nt = std::min(block, t1 - q0);
        for (std::size_t i = 0; i < nt; ++i) {
            const std::size_t b = (q0 + i) / tiles, q = (q0 + i) % tiles, ty = q / wg.tiles_w, tx = q % wg.tiles_w;
            const float* img = in + b * g.h * g.w * g.c;
            const std::ptrdiff_t y0 = std::ptrdiff_t(M * ty) - top, x0 = std::ptrdiff_t(M * tx) - left;
            if (interior(y0, x0)) detail::winograd_input<M, false>(img, g.h, g.w, g.c, y0, x0, v + i * cs, part * cs);
            else detail::winograd_input<M, true>(img, g.h, g.w, g.c, y0, x0, v + i * cs, part * cs);
        }
        for (std::size_t t = 0; t < T; ++t)
            gemm<linear>(d, packed + t * d.weight_floats(), false, v + t * part * cs, cs, nt, m + t * part * os, os, nullptr, c0, c1,
                         fetch_ahead);
        for (std::size_t i = 0; i < nt; ++i) {
            const std::size_t b = (q0 + i) / tiles, q = (q0 + i) % tiles, ty = q / wg.tiles_w, tx = q % wg.tiles_w;
            const std::size_t at = b * g.oh * g.ow * ldo + (M * ty * g.ow + M * tx) * ldo + c0;
            detail::winograd_output<Act, M>(m + i * os + c0, part * os, c1 - c0, bias + c0, out + at, ldo, g.ow * ldo,
                                            add ? add + at : nullptr, std::min<std::size_t>(M, g.oh - M * ty),
                                            std::min<std::size_t>(M, g.ow - M * tx));
        }
    }
}

}  // namespace typenet::kernels
