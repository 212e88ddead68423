// Conv2D with bf16 weights (groups 1, an even number of input channels): the bf16 scheme of
// dense_bf16.hpp on the implicit GEMM of conv.hpp.
//
// Weights are rounded to bf16 (to nearest, ties to even) at pack time, K ordered (ky, kx, ci)
// and paired along ci: a pair never straddles two taps, since C is even. Per sample, the input
// map is rounded to bf16 the same way once, into a border of zeros (the padding), and each
// micro-kernel reads its pixels' taps in place: per tap and pair of channels, one 32-bit word of
// the pixel broadcast against a panel's two vectors of weight pairs — one vdpbf16ps each, 32
// products, where the fp32 kernels do 16 per FMA. The sums are fp32, pair by pair (the odd
// product, then the even one, each rounded once: what vdpbf16ps computes, and elsewhere two
// FMAs of the widened halves, the same bits); bias, residual and activation are fp32, in the
// epilogue. Every output pixel sums its taps in the same order whatever tile it is in: a crop,
// a band of rows or a share of them gives the full map's bits.
//
// The error against fp32 is dense_bf16.hpp's: each weight and input carries a relative
// rounding error of at most 2^-9 (docs/precision-and-threads.md has the measured errors).
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "conv.hpp"
#include "dense_bf16.hpp"
#include "share.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::kernels {

// Whether a convolution can run in bf16: groups 1, whole pairs of channels per tap.
inline constexpr bool conv_bf16_applies(const ConvGeometry& g) noexcept { return g.groups == 1 && g.c % 2 == 0 && g.kh * g.kw <= 64; }
inline constexpr Bf16Packing conv_bf16_packing(const ConvGeometry& g) noexcept { return {g.k(), g.cout}; }

// Canonical [cout][cin][kh][kw] weights and bias (or null) to Bf16Packing's panels, K ordered (ky, kx, ci).
inline void conv_pack_bf16(const ConvGeometry& g, const float* w, const float* b, float* packed) {
    dense_pack_bf16(conv_bf16_packing(g), conv_weight_rows(g, w).data(), b, packed);
}

// A 1x1 convolution at stride 1 without padding rounds each tile of mr pixels into a buffer on
// the stack, 128 pairs of channels at a time (6 KB: every model runs on a 64 KiB thread stack,
// tests/model/small_stack.cpp), and runs every panel over it, its partial sums kept in the
// output between blocks of K (the same sums, in the same order): no scratch, so it computes
// any rows of its map alone (the band steps of passes/bands.hpp, the gated projections).
// Other convolutions round the whole image into scratch first.
inline constexpr std::size_t conv_bf16_tile_pairs = 128;
inline constexpr bool conv_bf16_by_tiles(const ConvGeometry& g) noexcept { return g.pointwise(); }
// Scratch, in floats: the image as bf16 pairs inside its border (none for the tiles' path).
inline constexpr std::size_t conv_bf16_scratch(const ConvGeometry& g) noexcept {
    const ImplicitGeometry ig = implicit_geometry(g);
    return conv_bf16_by_tiles(g) ? 0 : round_up(ig.hp * ig.wp * g.c / 2, lanes);
}

// One image to bf16 pairs inside a border of zeros: hp x wp pixels, the image at (pad_top,
// pad_left); rows [r0, r1) of it.
inline void bf16_bordered(const ConvGeometry& g, const float* img, std::uint32_t* dst, std::size_t wp, std::size_t r0,
                          std::size_t r1) noexcept {
    const std::size_t cq = g.c / 2, run = wp * cq, left = g.pad_left * cq, width = g.w * cq;
    for (std::size_t r = r0; r < r1; ++r) {
        std::uint32_t* row = dst + r * run;
        if (r < g.pad_top || r >= g.pad_top + g.h) {
            std::fill_n(row, run, 0u);
            continue;
        }
        std::fill_n(row, left, 0u);
        to_bf16_pairs(img + (r - g.pad_top) * g.w * g.c, g.w * g.c, row + left);
        std::fill_n(row + left + width, run - left - width, 0u);
    }
}

namespace detail {
// The sums of M output pixels (sx words apart) by V vectors of one panel, into acc: per tap (at
// x + tap[t]) and pair of channels (cq of them), the pixel's word broadcast against the panel's
// weight pairs.
template <std::size_t M, std::size_t V>
[[gnu::always_inline]] inline void bf16_conv_sums(vfloat (&acc)[M][2], const std::uint32_t* x, std::size_t sx, const std::size_t* tap,
                                                  std::size_t taps, std::size_t cq, const std::uint32_t* pw) noexcept {
    for (std::size_t t = 0; t < taps; ++t) {
        const std::uint32_t* xt = x + tap[t];
        for (std::size_t k = 0; k < cq; ++k, pw += nr) {
            vword w0 = load_words(pw);
            vword w1 = V == 2 ? load_words(pw + lanes) : vword(0u);
            if constexpr (M <= 4) {
                settle(w0);  // (once into a register, as gemm_micro does)
                if constexpr (V == 2) settle(w1);
            }
            TYPENET_UNROLL
            for (std::size_t i = 0; i < M; ++i) {
                const vword xb(xt[i * sx + k]);
                acc[i][0] = dot_bf16(acc[i][0], w0, xb);
                if constexpr (V == 2) acc[i][1] = dot_bf16(acc[i][1], w1, xb);
            }
        }
    }
}

// Those sums from zero, through store_row's epilogue: residual, bias, ReLU and a ceiling
// (ReLU6) in registers.
template <std::size_t M, std::size_t V>
inline void bf16_conv_micro(const std::uint32_t* x, std::size_t sx, const std::size_t* tap, std::size_t taps, std::size_t cq,
                            const std::uint32_t* pw, float* y, std::size_t ldy, std::size_t ncols, const float* bias, const float* add,
                            bool clamp, float ceiling) noexcept {
    vfloat acc[M][2];
    TYPENET_UNROLL
    for (std::size_t i = 0; i < M; ++i) acc[i][0] = acc[i][1] = vfloat(0.f);
    bf16_conv_sums<M, V>(acc, x, sx, tap, taps, cq, pw);
    const std::size_t n0 = std::min(lanes, ncols), n1 = ncols > lanes ? ncols - lanes : 0;
    TYPENET_UNROLL
    for (std::size_t i = 0; i < M; ++i)
        store_row<true>(y + i * ldy, acc[i][0], acc[i][1], n0, n1, bias, add ? add + i * ldy : nullptr, clamp, vfloat(ceiling));
}

// A block of K of a 1x1's tiles: from the partial sums in y unless first; the epilogue if last,
// else the partial sums stored as they are. (A kernel of its own: with these two tests in it,
// the kernel every other convolution runs took 5-7% longer.)
template <std::size_t M, std::size_t V>
inline void bf16_conv_micro_block(const std::uint32_t* x, std::size_t sx, std::size_t cq, const std::uint32_t* pw, float* y, std::size_t ldy,
                                  std::size_t ncols, const float* bias, const float* add, bool clamp, float ceiling, bool first,
                                  bool last) noexcept {
    const std::size_t n0 = std::min(lanes, ncols), n1 = ncols > lanes ? ncols - lanes : 0;
    vfloat acc[M][2];
    TYPENET_UNROLL
    for (std::size_t i = 0; i < M; ++i) {
        acc[i][0] = first ? vfloat(0.f) : load_n(y + i * ldy, n0);
        acc[i][1] = first || !n1 ? vfloat(0.f) : load_n(y + i * ldy + lanes, n1);
    }
    const std::size_t tap = 0;
    bf16_conv_sums<M, V>(acc, x, sx, &tap, 1, cq, pw);
    TYPENET_UNROLL
    for (std::size_t i = 0; i < M; ++i) {
        if (last) store_row<true>(y + i * ldy, acc[i][0], acc[i][1], n0, n1, bias, add ? add + i * ldy : nullptr, clamp, vfloat(ceiling));
        else store_row(y + i * ldy, acc[i][0], acc[i][1], n0, n1, nullptr, nullptr, false);
    }
}
}  // namespace detail

// out = act(conv(in) + b [+ add]) for `batch` samples, outputs ldo floats apart (cout by
// default). g.oh, g.ow may be a crop of the layer's map, g.h a band of its rows (the scratch
// of the whole map is enough). A share (one sample, several threads) rounds its rows of the
// bordered image (phase 0), then computes its output rows or tiles of pixels (phase 1). Output pixels in tiles of mr along each output row (a 1x1
// convolution at stride 1 without padding: along the whole map, its pixels one run) by panels
// of nr outputs: each panel over every tile, or (conv_bf16_by_tiles) every panel over each tile.
template <class Act>
inline void conv2d_bf16(const ConvGeometry& g, const float* packed, const float* in, float* out, std::size_t batch, float* scratch,
                        const float* add = nullptr, std::size_t ldo = 0, Share share = {}) noexcept {
    static_assert(!Act::row_wise, "typenet: a convolution takes an elementwise activation");
    if (ldo == 0) ldo = g.cout;
    const Bf16Packing d = conv_bf16_packing(g);
    const ImplicitGeometry ig = implicit_geometry(g);
    const auto* w = reinterpret_cast<const std::uint32_t*>(packed);
    const float* bias = packed + d.weight_words();
    const std::size_t cq = g.c / 2, taps = g.kh * g.kw, pixels = g.oh * g.ow;
    std::size_t tap[64];  // kh * kw <= 64 (conv_bf16_applies)
    implicit_taps(g, ig.wp, cq, tap);
    auto* words = reinterpret_cast<std::uint32_t*>(scratch);
    // A 1x1 convolution at stride 1 over the whole width: its output pixels are one run of the
    // image's, so a map of 7 columns tiles as 49 pixels, not 7 rows of 7.
    const bool one_run = g.kh == 1 && g.kw == 1 && g.sw == 1 && g.sh == 1 && ig.wp == g.ow;
    const std::size_t rows = one_run ? 1 : g.oh, cols = one_run ? pixels : g.ow, sx = g.sw * cq;
    constexpr bool clamp = detail::clamps_in_gemm<Act>;
    constexpr float ceiling = detail::gemm_ceiling<Act>();
    // m pixels (x, xs words apart) by one panel (its weights from pw): kc pairs of channels,
    // those [k0, k0 + kc) of cq.
    auto tile = [&]<bool Blocked>(std::bool_constant<Blocked>, const std::uint32_t* x, std::size_t xs, std::size_t m, float* y, const float* a,
                                  const std::uint32_t* pw, std::size_t col, std::size_t k0, std::size_t kc) {
        const std::size_t ncols = std::min(nr, g.cout - col);
        const bool first = k0 == 0, last = k0 + kc == cq;
        detail::row_blocks(m, [&]<std::size_t M>(std::integral_constant<std::size_t, M>, std::size_t i) {
            const float* ai = a ? a + i * ldo : nullptr;
            const std::uint32_t* xi = x + i * xs;
            float* yi = y + i * ldo;
            if constexpr (!Blocked) {
                if (ncols > lanes) detail::bf16_conv_micro<M, 2>(xi, xs, tap, taps, kc, pw, yi, ldo, ncols, bias + col, ai, clamp, ceiling);
                else detail::bf16_conv_micro<M, 1>(xi, xs, tap, taps, kc, pw, yi, ldo, ncols, bias + col, ai, clamp, ceiling);
            } else {
                if (ncols > lanes) detail::bf16_conv_micro_block<M, 2>(xi, xs, kc, pw, yi, ldo, ncols, bias + col, ai, clamp, ceiling, first, last);
                else detail::bf16_conv_micro_block<M, 1>(xi, xs, kc, pw, yi, ldo, ncols, bias + col, ai, clamp, ceiling, first, last);
            }
        });
        if constexpr (!clamp)
            if (last) detail::apply_tile<Act>(y, m, ldo, ncols);
    };
    if (conv_bf16_by_tiles(g)) {
        if (!share.computes()) return;
        // Whole rows (ow == w, a crop of rows at most): the output pixels are one run of the
        // input's; a crop of columns, a run per row.
        const bool flat = g.ow == g.w;
        const std::size_t runs = flat ? 1 : g.oh, run = flat ? pixels : g.ow;
        const auto [r0, r1] = flat ? std::pair<std::size_t, std::size_t>{0, 1} : share.range(runs);
        const auto [q0, q1] = flat ? share.range(run, mr) : std::pair<std::size_t, std::size_t>{0, run};
        alignas(64) std::uint32_t held[mr * conv_bf16_tile_pairs];
        for (std::size_t b = 0; b < batch; ++b)
            for (std::size_t r = r0; r < r1; ++r)
                for (std::size_t q = q0; q < q1; q += mr) {
                    const std::size_t m = std::min(mr, q1 - q), at = (b * pixels + r * g.ow + q) * ldo;
                    const float* src = in + (b * g.h * g.w + r * g.w + q) * g.c;
                    for (std::size_t k0 = 0; k0 < cq; k0 += conv_bf16_tile_pairs) {
                        const std::size_t kc = std::min(conv_bf16_tile_pairs, cq - k0);
                        if (kc == cq) to_bf16_pairs(src, m * g.c, held);  // (one block: the pixels' channels one run)
                        else
                            for (std::size_t i = 0; i < m; ++i) to_bf16_pairs(src + i * g.c + 2 * k0, 2 * kc, held + i * kc);
                        for (std::size_t p = 0; p < d.panels(); ++p) {
                            float* y = out + at + p * nr;
                            const float* ap = add ? add + at + p * nr : nullptr;
                            const std::uint32_t* pw = w + (p * d.pairs() + k0) * nr;
                            if (kc == cq) tile(std::false_type{}, held, kc, m, y, ap, pw, p * nr, k0, kc);  // (K in one block)
                            else tile(std::true_type{}, held, kc, m, y, ap, pw, p * nr, k0, kc);
                        }
                    }
                }
        return;
    }
    const auto [r0, r1] = one_run ? std::pair<std::size_t, std::size_t>{0, 1} : share.range(rows);
    const auto [c0, c1] = one_run ? share.range(cols, mr) : std::pair<std::size_t, std::size_t>{0, cols};
    for (std::size_t b = 0; b < batch; ++b) {
        if (share.copies()) {
            const auto [h0, h1] = share.range(ig.hp);
            bf16_bordered(g, in + b * g.h * g.w * g.c, words, ig.wp, h0, h1);
        }
        if (!share.computes()) continue;
        float* o = out + b * pixels * ldo;
        const float* a = add ? add + b * pixels * ldo : nullptr;
        for (std::size_t p = 0; p < d.panels(); ++p)
            for (std::size_t oy = r0; oy < r1; ++oy)
                for (std::size_t ox = c0; ox < c1; ox += mr) {
                    const std::size_t at = (oy * g.ow + ox) * ldo + p * nr;
                    tile(std::false_type{}, words + (oy * g.sh * ig.wp + ox * g.sw) * cq, sx, std::min(mr, c1 - ox), o + at, a ? a + at : nullptr,
                         w + p * d.pairs() * nr, p * nr, 0, cq);
                }
    }
}

}  // namespace typenet::kernels
