// Convolution kernels, NHWC.
//
// A convolution is a GEMM whose rows are output pixels and whose K axis is (ky, kx, ci):
//   conv2d_gemm: copies a block of `pixel_block` output pixels' receptive fields into scratch
//                (im2col; each (ky, kx) is one contiguous run of channels in NHWC), then runs
//                the Dense GEMM on it. The copy is K floats per pixel against 2 K Cout flops.
//   1x1 with stride 1 and no padding needs no copy: the input pixels are the GEMM's rows.
//   depthwise:   one filter per channel; channels sit in SIMD lanes, one vector of channels
//                at a time with its kh x kw weights in registers, in tiles of pixels (two rows
//                by four at stride 1) that share their input rows and columns.
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <utility>
#include <vector>

#include "dense.hpp"
#include "epilogue.hpp"
#include "share.hpp"
#include "simd.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::kernels {

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

// Group grp's canonical weights [cout][cin_g][kh][kw] (PyTorch's Conv2d) as GEMM rows
// [cout_g][k], K ordered (ky, kx, ci) to match im2col and the implicit GEMM's taps.
inline void conv_group_rows(const ConvGeometry& g, const float* w, std::size_t grp, float* rows) noexcept {
    const std::size_t cin = g.cin_g(), k = g.k();
    for (std::size_t o = 0; o < g.cout_g(); ++o)
        for (std::size_t ci = 0; ci < cin; ++ci)
            for (std::size_t y = 0; y < g.kh; ++y)
                for (std::size_t x = 0; x < g.kw; ++x)
                    rows[o * k + (y * g.kw + x) * cin + ci] = w[(((grp * g.cout_g() + o) * cin + ci) * g.kh + y) * g.kw + x];
}
// A convolution of groups 1 as those rows: what the int8 and bf16 packings take.
inline std::vector<float> conv_weight_rows(const ConvGeometry& g, const float* w) {
    std::vector<float> rows(g.cout * g.k());
    conv_group_rows(g, w, 0, rows.data());
    return rows;
}

// Canonical weight and bias [cout] (or null) to one packed GEMM operand per group. Scratch:
// k() floats per output channel of a group.
inline void conv_pack(const ConvGeometry& g, const float* w, const float* b, float* packed, float* tmp) noexcept {
    for (std::size_t grp = 0; grp < g.groups; ++grp) {
        conv_group_rows(g, w, grp, tmp);
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

// ---- Implicit GEMM (groups == 1): no im2col. The packed K axis is (ky, kx, ci), and in NHWC
// the ci run of every tap is contiguous, so a micro-kernel can walk the taps itself: output
// pixel i of a block reads x_i + tap_offset[t] + ci. Accumulators stay in registers over all
// of K. Only the padding costs a copy: the image is copied once into a zero border.
struct ImplicitGeometry {
    std::size_t hp, wp;       // the (padded) image the taps read
    bool copy;                // whether it is a padded copy in scratch, or the input itself
};
constexpr ImplicitGeometry implicit_geometry(const ConvGeometry& g) noexcept {
    const std::size_t need_h = (g.oh - 1) * g.sh + (g.kh - 1) * g.dh + 1;
    const std::size_t need_w = (g.ow - 1) * g.sw + (g.kw - 1) * g.dw + 1;
    const std::size_t hp = std::max(g.h + g.pad_top, need_h), wp = std::max(g.w + g.pad_left, need_w);
    return {hp, wp, g.pad_top != 0 || g.pad_left != 0 || hp != g.h || wp != g.w};
}
// The offsets of a window's kh x kw taps in an implicit GEMM's image, wp pixels a row and
// `unit` elements a pixel (words of packed channels: the int8 and bf16 kernels): tap[kh kw].
inline void implicit_taps(const ConvGeometry& g, std::size_t wp, std::size_t unit, std::size_t* tap) noexcept {
    for (std::size_t y = 0; y < g.kh; ++y)
        for (std::size_t x = 0; x < g.kw; ++x) tap[y * g.kw + x] = (y * g.dh * wp + x * g.dw) * unit;
}
// Scratch floats for one image (0 when the input is read directly).
constexpr std::size_t implicit_scratch(const ConvGeometry& g) noexcept {
    const ImplicitGeometry ig = implicit_geometry(g);
    return ig.copy ? ig.hp * ig.wp * g.c : 0;
}

// One image into a zero border, hp x wp pixels with the image at (pad_top, pad_left), as far
// as it fits: a share's rows of it (Share::range). The implicit GEMM and Winograd read it.
inline void copy_bordered(const ConvGeometry& g, const float* img, float* dst, std::size_t hp, std::size_t wp, Share share) noexcept {
    const std::size_t rows = std::min(hp, g.h + g.pad_top), cols = std::min(wp, g.w + g.pad_left);
    const auto [r0, r1] = share.range(hp);
    for (std::size_t r = r0; r < r1; ++r) {
        float* row = dst + r * wp * g.c;
        if (r < g.pad_top || r >= rows) {
            std::fill_n(row, wp * g.c, 0.f);
            continue;
        }
        // Zeros only where the border is: each line of the row written once (a stem's 224x224
        // image copied whole, then its interior again, was ~1% of MobileNetV2).
        std::fill_n(row, g.pad_left * g.c, 0.f);
        std::memcpy(row + g.pad_left * g.c, img + (r - g.pad_top) * g.w * g.c, (cols - g.pad_left) * g.c * sizeof(float));
        std::fill_n(row + cols * g.c, (wp - cols) * g.c, 0.f);
    }
}

// The micro-kernel widths a convolution of cout output channels needs: two vectors for its
// whole panels of nr, and its last panel's (cout % nr columns) one or two. A layer instantiates
// only those (each width is ten-odd register tiles of compile time); cout = 0: both. whole:
// every panel is whole vectors (cout a multiple of lanes; a thread's columns start and end at
// multiples of lanes), so the micro-kernels store rows without width tests (gemm_micro's Whole).
struct PanelWidths {
    bool one = true, two = true, whole = false;
};
inline constexpr PanelWidths panel_widths(std::size_t cout) noexcept {
    if (cout == 0) return {};
    const std::size_t last = cout % nr;
    return {last != 0 && last <= lanes, cout >= nr || last > lanes, cout % lanes == 0};
}

namespace detail {
// f(integral_constant<V>) for a panel of ncols columns: V = 2 vectors when ncols > lanes.
template <PanelWidths W, class F>
inline void by_panel_width(std::size_t ncols, F&& f) {
    static_assert(nr == 2 * lanes && (W.one || W.two));
    if constexpr (W.one && W.two) {
        if (ncols > lanes) f(std::integral_constant<std::size_t, 2>{});
        else f(std::integral_constant<std::size_t, 1>{});
    } else {
        f(std::integral_constant<std::size_t, W.two ? 2 : 1>{});
    }
}

// M output pixels sx floats apart in the image (along one output row) by V vectors of
// output channels: every tap, every input channel, one broadcast per pixel and V weight vectors.
template <std::size_t M, std::size_t V, bool Whole>
inline void implicit_micro(const float* x, std::size_t sx, const std::size_t* tap, std::size_t taps, std::size_t cin,
                           const float* pw, float* y, std::size_t ldy, std::size_t ncols, const float* bias,
                           const float* add, bool clamp) noexcept {
    vfloat acc[M][V];
    TYPENET_UNROLL
    for (std::size_t i = 0; i < M; ++i)
        for (std::size_t v = 0; v < V; ++v) acc[i][v] = vfloat(0.f);
    auto step = [&](const float* xc, const float* w) {
        const vfloat w0 = load(w);
        const vfloat w1 = V == 2 ? load(w + lanes) : vfloat(0.f);
        TYPENET_UNROLL
        for (std::size_t i = 0; i < M; ++i) {
            const vfloat xb(xc[i * sx]);
            acc[i][0] = kernels::fma(w0, xb, acc[i][0]);
            if constexpr (V == 2) acc[i][1] = kernels::fma(w1, xb, acc[i][1]);
        }
    };
    if (cin == 1) {  // one channel, or steps of (tap, channel) (conv2d_implicit: few input channels): one loop
        for (std::size_t t = 0; t < taps; ++t) step(x + tap[t], pw + t * nr);
    } else {
        for (std::size_t t = 0; t < taps; ++t) {
            const float* xt = x + tap[t];
            for (std::size_t ci = 0; ci < cin; ++ci, pw += nr) step(xt + ci, pw);
        }
    }
    // (Two vectors: the first is whole, whatever ncols.)
    const std::size_t n0 = Whole || V == 2 ? lanes : std::min(lanes, ncols);
    const std::size_t n1 = Whole ? (V == 2 ? lanes : 0) : ncols > lanes ? ncols - lanes : 0;
    TYPENET_UNROLL
    for (std::size_t i = 0; i < M; ++i)
        store_row(y + i * ldy, acc[i][0], V == 2 ? acc[i][V - 1] : vfloat(0.f), n0, n1, bias, add ? add + i * ldy : nullptr, clamp);
}

// A tile of W pixels (W x 2 accumulators must fit the registers with two weights and a broadcast).
template <class Act, std::size_t W, PanelWidths PW>
inline void implicit_wide(const float* x, std::size_t sx, const std::size_t* tap, std::size_t taps, std::size_t cin, const float* pw,
                          float* y, std::size_t ldy, std::size_t ncols, const float* bias, const float* add) noexcept {
    by_panel_width<PW>(ncols, [&]<std::size_t V>(std::integral_constant<std::size_t, V>) {
        implicit_micro<W, V, PW.whole>(x, sx, tap, taps, cin, pw, y, ldy, ncols, bias, add, clamps_in_registers<Act>);
    });
    apply_tile<Act>(y, W, ldy, ncols);
}

template <class Act, PanelWidths PW>
inline void implicit_dispatch(std::size_t m, const float* x, std::size_t sx, const std::size_t* tap, std::size_t taps,
                              std::size_t cin, const float* pw, float* y, std::size_t ldy, std::size_t ncols, const float* bias,
                              const float* add) noexcept {
    row_blocks(m, [&]<std::size_t M>(std::integral_constant<std::size_t, M>, std::size_t i) {
        const float* a = add ? add + i * ldy : nullptr;
        by_panel_width<PW>(ncols, [&]<std::size_t V>(std::integral_constant<std::size_t, V>) {
            implicit_micro<M, V, PW.whole>(x + i * sx, sx, tap, taps, cin, pw, y + i * ldy, ldy, ncols, bias, a, clamps_in_registers<Act>);
        });
    });
    apply_tile<Act>(y, m, ldy, ncols);
}

// The same over M pixels anywhere in the image (x[i]: where pixel i's window starts; y[i],
// add[i]: its output): tiles that run across the ends of output rows. ahead: the next panel's
// weights to prefetch along the way, a part in each tap (Lookahead).
template <std::size_t M, std::size_t V, bool Whole>
inline void implicit_gather_micro(const float* const* x, const std::size_t* tap, std::size_t taps, std::size_t cin,
                                  const float* pw, float* const* y, std::size_t ncols, const float* bias, const float* const* add,
                                  bool clamp, Ahead ahead) noexcept {
    vfloat acc[M][V];
    TYPENET_UNROLL
    for (std::size_t i = 0; i < M; ++i)
        for (std::size_t v = 0; v < V; ++v) acc[i][v] = vfloat(0.f);
    const std::size_t per_tap = ahead.lines ? (ahead.lines + taps - 1) / taps : 0;
    for (std::size_t t = 0; t < taps; ++t) {
        const float* xt[M];
        TYPENET_UNROLL
        for (std::size_t i = 0; i < M; ++i) xt[i] = x[i] + tap[t];
        const std::size_t fetch = std::min({ahead.lines, per_tap, cin});
        for (std::size_t ci = 0; ci < cin; ++ci, pw += nr) {
            if (ci < fetch) prefetch(ahead.at + ci * cache_line);
            const vfloat w0 = load(pw);
            const vfloat w1 = V == 2 ? load(pw + lanes) : vfloat(0.f);
            TYPENET_UNROLL
            for (std::size_t i = 0; i < M; ++i) {
                const vfloat xb(xt[i][ci]);
                acc[i][0] = kernels::fma(w0, xb, acc[i][0]);
                if constexpr (V == 2) acc[i][1] = kernels::fma(w1, xb, acc[i][1]);
            }
        }
        ahead.at += fetch * cache_line, ahead.lines -= fetch;
    }
    // (Two vectors: the first is whole, whatever ncols.)
    const std::size_t n0 = Whole || V == 2 ? lanes : std::min(lanes, ncols);
    const std::size_t n1 = Whole ? (V == 2 ? lanes : 0) : ncols > lanes ? ncols - lanes : 0;
    TYPENET_UNROLL
    for (std::size_t i = 0; i < M; ++i)
        store_row(y[i], acc[i][0], V == 2 ? acc[i][V - 1] : vfloat(0.f), n0, n1, bias, add ? add[i] : nullptr, clamp);
}

// m <= mr pixels: full tiles of mr, the rest in blocks of 8, 4, 2, 1 (row_blocks).
template <class Act, PanelWidths PW>
inline void implicit_gather_dispatch(std::size_t m, const float* const* x, const std::size_t* tap, std::size_t taps,
                                     std::size_t cin, const float* pw, float* const* y, std::size_t ncols, const float* bias,
                                     const float* const* add, Ahead ahead) noexcept {
    row_tiles(m, [&]<std::size_t M>(std::integral_constant<std::size_t, M>, std::size_t i) {
        const float* const* a = add ? add + i : nullptr;
        by_panel_width<PW>(ncols, [&]<std::size_t V>(std::integral_constant<std::size_t, V>) {
            implicit_gather_micro<M, V, PW.whole>(x + i, tap, taps, cin, pw, y + i, ncols, bias, a, clamps_in_registers<Act>, ahead);
        });
        ahead.lines = 0;  // (a tail in several blocks: the first fetches them)
    });
    for (std::size_t i = 0; i < m; ++i) apply_tile<Act>(y[i], 1, 0, ncols);  // (nothing for linear and relu)
}
}  // namespace detail

// Which of conv2d_gemm's loops a convolution runs, known from its geometry at compile time,
// so that a layer instantiates only its own: each is seconds of g++ -O2 in every translation
// unit that has one (the gather loop's ten register tiles ~2.8 s, the implicit GEMM as a
// whole ~3.7 s of a model whose only convolution is 1x1). A crop of a layer's output (a
// narrower map) takes the loop of the whole: the row loop runs any width.
enum class ConvPath { pointwise, implicit_rows, implicit_gather, im2col, any };
inline constexpr ConvPath conv_path(const ConvGeometry& g) noexcept {
    if (g.pointwise()) return ConvPath::pointwise;
    if (g.groups == 1 && g.kh * g.kw <= 64) return g.ow >= mr ? ConvPath::implicit_rows : ConvPath::implicit_gather;
    return ConvPath::im2col;
}

// Rows whose width is a multiple of 14 (ResNet's 112, 56, 28, 14) in tiles of 14 pixels,
// where AVX-512's 32 registers hold 14 x 2 accumulators: no short tile at the end of a row
// (56 = 4 x 12 + 8, 28 = 2 x 12 + 4, 14 = 12 + 2), and 14 broadcasts per 28 FMAs.
// 3x3 convolutions, one core: 14x14x256 201 -> 230 GFLOP/s, 28x28x128 209 -> 229,
// 56x56x64 220 -> 222, 112x112x32 208 -> 215 (docs/performance.md).
// g++ only: clang 16 spills that tile (the same four convolutions at 64 GFLOP/s). 0: none.
#if defined(__clang__)
inline constexpr std::size_t implicit_wide_tile = 0;
#else
inline constexpr std::size_t implicit_wide_tile = lanes >= 16 ? 14 : 0;  // AVX-512 (measured there)
#endif

// What a convolution layer instantiates of conv2d_gemm, from its geometry at compile time: its
// loop (conv_path), its panels' micro-kernel widths, and whether the implicit GEMM's rows are
// all tiles of implicit_wide_tile (then none of the other row tiles: the stems at 224x224 and
// ResNet's 3x3 layers need only the one tile, ~1 s of g++ -O2 each model). {}: everything.
struct ConvPlan {
    ConvPath path = ConvPath::any;
    PanelWidths widths{};
    bool wide_rows = false;
};
inline constexpr ConvPlan conv_plan(const ConvGeometry& g) noexcept {
    const ConvPath path = conv_path(g);
    const bool wide = path == ConvPath::implicit_rows && implicit_wide_tile > 0 && g.ow % std::max<std::size_t>(implicit_wide_tile, 1) == 0;
    return {path, panel_widths(g.cout), wide};
}

// The implicit GEMM: taps read the (padded) image in place, no im2col. Output pixels are
// tiled mr at a time along each output row; on maps narrower than mr, in raster order across
// the ends of rows (a 7x7 map is four tiles of 12 and one pixel, not seven rows of 7 split
// 4 + 2 + 1, each pass re-reading the weight panel: 1.6x on ResNet's last stage; the gather
// loop costs ~18% against the strided one, so wide maps keep the strided one). Plan: the
// loops instantiated (path implicit_rows, implicit_gather, or any: both, chosen by width), the
// panel widths, and whether rows run only tiles of implicit_wide_tile.
template <class Act, ConvPlan Plan = ConvPlan{}>
inline void conv2d_implicit(const ConvGeometry& g, const float* packed, const float* in, float* out, std::size_t batch,
                            float* scratch, const float* add, std::size_t ldo, Share share = {}) noexcept {
    constexpr ConvPath Path = Plan.path;
    constexpr PanelWidths PW = Plan.widths;
    static_assert(Path == ConvPath::implicit_rows || Path == ConvPath::implicit_gather || Path == ConvPath::any);
    constexpr bool has_rows = Path != ConvPath::implicit_gather, has_gather = Path != ConvPath::implicit_rows;
    static_assert(!Act::row_wise, "typenet: a convolution takes an elementwise activation");
    const ImplicitGeometry ig = implicit_geometry(g);
    const DensePacking d = g.packing();
    const float* bias_all = packed + d.weight_floats();
    // Where each step of K reads, from a pixel's window: per tap (its channels contiguous), or,
    // for few input channels, per (tap, channel) — one loop of K steps in the micro-kernel
    // rather than a loop of a few channels in each of the taps.
    constexpr std::size_t max_steps = 256;
    const bool per_channel = g.c < 8 && g.kh * g.kw * g.c <= max_steps;
    const std::size_t taps = per_channel ? g.kh * g.kw * g.c : g.kh * g.kw, cin = per_channel ? 1 : g.c;
    std::size_t tap[max_steps];  // kh * kw <= 64 (checked by the layer), or at most max_steps (tap, channel) pairs
    for (std::size_t y = 0; y < g.kh; ++y)
        for (std::size_t x = 0; x < g.kw; ++x)
            for (std::size_t ci = 0; ci < (per_channel ? g.c : 1); ++ci)
                tap[(y * g.kw + x) * (per_channel ? g.c : 1) + ci] = (y * g.dh * ig.wp + x * g.dw) * g.c + ci;
    const std::size_t pixels = g.oh * g.ow, plane = pixels * ldo;
    constexpr std::size_t wide = implicit_wide_tile;
    for (std::size_t b = 0; b < batch; ++b) {
        const float* img = in + b * g.h * g.w * g.c;
        if (ig.copy) {  // zero border, the image inside; this share's rows of it
            if (share.copies()) copy_bordered(g, img, scratch, ig.hp, ig.wp, share);
            img = scratch;
        }
        if (!share.computes()) continue;
        float* o = out + b * plane;
        const float* a = add ? add + b * plane : nullptr;
        // Wide maps: output rows; narrow maps: whole tiles, or, where the weights stream from
        // beyond L2 (7x7x512: 9.4 MB), every tile of the share's panels of output channels.
        const bool rows = has_rows && (g.ow >= mr || !has_gather);
        const bool by_panels = !rows && share.count > 1 && weights_stream(d.weight_floats() * sizeof(float));
        const auto [row0, row1] = share.range(g.oh);
        const auto [tile0, tile1] = by_panels ? std::pair<std::size_t, std::size_t>{0, pixels} : share.range(pixels, mr);
        const auto [panel0, panel1] = by_panels ? share.range(d.panels()) : std::pair<std::size_t, std::size_t>{0, d.panels()};
        for (std::size_t p = panel0; p < panel1; ++p) {
            const float* pw = packed + p * d.in * nr;
            const std::size_t col = p * nr, ncols = std::min(nr, d.out - col);
            if constexpr (has_rows)
                if (rows) {  // tiles along each output row: constant strides, the fastest loop
                for (std::size_t oy = row0; oy < row1; ++oy) {
                    const float* x = img + oy * g.sh * ig.wp * g.c;
                    const std::size_t sx = g.sw * g.c, at = oy * g.ow * ldo + col;
                    if constexpr (wide > 0)
                        if (Plan.wide_rows || g.ow % std::max<std::size_t>(wide, 1) == 0) {
                            // (A crop of a layer planned for these tiles may end its rows in a
                            // few single pixels: fewer than a tile, which the bound says to g++.)
                            std::size_t ox = 0;
                            for (; ox + wide <= g.ow; ox += wide)
                                detail::implicit_wide<Act, wide, PW>(x + ox * sx, sx, tap, taps, cin, pw, o + at + ox * ldo, ldo, ncols,
                                                                     bias_all + col, a ? a + at + ox * ldo : nullptr);
                            for (std::size_t i = 0, rest = g.ow - ox; i < rest && i < wide; ++i, ++ox)
                                detail::implicit_wide<Act, 1, PW>(x + ox * sx, sx, tap, taps, cin, pw, o + at + ox * ldo, ldo, ncols,
                                                                  bias_all + col, a ? a + at + ox * ldo : nullptr);
                            continue;
                        }
                    if constexpr (!Plan.wide_rows)
                        for (std::size_t ox = 0; ox < g.ow; ox += mr)
                            detail::implicit_dispatch<Act, PW>(std::min(mr, g.ow - ox), x + ox * sx, sx, tap, taps, cin, pw, o + at + ox * ldo,
                                                               ldo, ncols, bias_all + col, a ? a + at + ox * ldo : nullptr);
                }
                continue;
            }
            if constexpr (has_gather) {
            std::size_t oy = tile0 / g.ow, ox = tile0 % g.ow;  // the tile's first pixel
            const std::size_t step = detail::row_step(tile1 - tile0);
            // The next panel's weights fetched while this one runs, as in the GEMM: a narrow map
            // has few tiles to a panel, and its weights come from memory (ResNet-18's 7x7x512,
            // 2.4 MB: the network 1.086x faster).
            detail::Lookahead ahead(detail::row_tile_count(tile1 - tile0));
            ahead.next(p + 1 < panel1 ? pw + d.in * nr : nullptr, d.in * nr * sizeof(float));
            for (std::size_t q = tile0; q < tile1; q += step) {
                const std::size_t m = std::min(step, tile1 - q);
                const float* xs[mr];
                float* ys[mr];
                const float* as[mr];
                for (std::size_t i = 0; i < m; ++i) {
                    xs[i] = img + (oy * g.sh * ig.wp + ox * g.sw) * g.c;
                    const std::size_t at = (q + i) * ldo + col;
                    ys[i] = o + at;
                    as[i] = a ? a + at : nullptr;
                    if (++ox == g.ow) ox = 0, ++oy;
                }
                detail::implicit_gather_dispatch<Act, PW>(m, xs, tap, taps, cin, pw, ys, ncols, bias_all + col, a ? as : nullptr,
                                                      ahead.take(taps * cin));
            }
            }
        }
    }
}

// out = act(conv(in) + b [+ add]) for `batch` samples; `add` (a residual) is laid out like
// out. Output pixels are ldo floats apart (cout by default; more when the convolution writes
// its channels into a slice of a wider tensor: a Concat's output). scratch: pixel_block * k()
// floats (grouped), or one padded image (implicit GEMM).
// conv2d_shares: whether a Share of the work is supported (one sample, no im2col blocks).
inline constexpr bool conv2d_shares(const ConvGeometry& g) noexcept { return g.pointwise() || (g.groups == 1 && g.kh * g.kw <= 64); }
// Plan: conv_plan of the layer's geometry (only its loop and tiles are instantiated), or {}: any.
template <class Act, ConvPlan Plan = ConvPlan{}>
inline void conv2d_gemm(const ConvGeometry& g, const float* packed, const float* in, float* out, std::size_t batch,
                        float* scratch, const float* add = nullptr, std::size_t ldo = 0, Share share = {}) noexcept {
    constexpr ConvPath Path = Plan.path;
    constexpr bool any = Path == ConvPath::any;
    const std::size_t pixels = batch * g.oh * g.ow;
    if (ldo == 0) ldo = g.cout;
    if constexpr (any || Path == ConvPath::pointwise) {
        if (g.pointwise()) {  // a share: its whole register blocks of pixels, or its panels of weights that stream
            // (Weights fetched ahead: a network's 1x1 convolutions read theirs from memory.)
            if (!share.computes()) return;
            const DensePacking d = g.packing();
            if (share.count > 1 && pixels < 4 * mr && weights_stream(d.weight_floats() * sizeof(float))) {
                const auto [c0, c1] = share.range(g.cout, nr);
                gemm<Act>(d, packed, true, in, g.c, pixels, out, ldo, add, c0, c1, true);
                return;
            }
            const auto [p0, p1] = share.range(pixels, mr);
            constexpr std::size_t all = ~std::size_t{0};
            gemm<Act>(d, packed, true, in + p0 * g.c, g.c, p1 - p0, out + p0 * ldo, ldo, add ? add + p0 * ldo : nullptr, 0, all, true);
            return;
        }
    }
    constexpr bool implicit = !Act::row_wise && (any || Path == ConvPath::implicit_rows || Path == ConvPath::implicit_gather);
    if constexpr (implicit) {
        if (g.groups == 1 && g.kh * g.kw <= 64) {
            conv2d_implicit<Act, Plan>(g, packed, in, out, batch, scratch, add, ldo, share);
            return;
        }
    }
    // (A crop keeps its layer's kernel, stride and groups, so its path is the layer's.)
    if constexpr (any || Path == ConvPath::im2col || (Act::row_wise && Path != ConvPath::pointwise)) {
        for (std::size_t grp = 0; grp < g.groups; ++grp)
            for (std::size_t q0 = 0; q0 < pixels; q0 += pixel_block) {
                const std::size_t n = std::min(pixel_block, pixels - q0);
                im2col(g, in, grp, q0, n, scratch);
                const std::size_t at = q0 * ldo + grp * g.cout_g();
                gemm<Act>(g.packing(), packed + grp * g.group_floats(), true, scratch, g.k(), n, out + at, ldo,
                          add ? add + at : nullptr);
            }
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

namespace detail {
// One block of CV channel vectors: its KH x KW x CV weight vectors stay in registers while
// every output pixel streams past. Pixels whose window lies inside the input (the interior)
// run without bounds checks.
template <class Act, std::size_t KH, std::size_t KW, std::size_t CV, bool Full>
inline void depthwise_block(const ConvGeometry& g, const float* packed, const float* in, float* out, std::size_t batch,
                            std::size_t c0, const float* add, std::size_t ldo) noexcept {
    const std::size_t cs = depthwise_stride(g.c);
    vfloat w[KH * KW][CV], bias[CV];
    for (std::size_t v = 0; v < CV; ++v) {
        bias[v] = load(packed + KH * KW * cs + c0 + v * lanes);
        for (std::size_t t = 0; t < KH * KW; ++t) w[t][v] = load(packed + t * cs + c0 + v * lanes);
    }
    const std::size_t nlast = std::min(lanes, g.c - (c0 + (CV - 1) * lanes));
    auto pixel = [&]<bool Interior>(std::size_t b, std::size_t oy, std::size_t ox, std::bool_constant<Interior>) {
        vfloat acc[CV];
        for (std::size_t v = 0; v < CV; ++v) acc[v] = bias[v];
        const std::ptrdiff_t y0 = std::ptrdiff_t(oy * g.sh) - std::ptrdiff_t(g.pad_top);
        const std::ptrdiff_t x0 = std::ptrdiff_t(ox * g.sw) - std::ptrdiff_t(g.pad_left);
        for (std::size_t y = 0; y < KH; ++y) {
            const std::ptrdiff_t iy = y0 + std::ptrdiff_t(y * g.dh);
            if (!Interior && (iy < 0 || iy >= std::ptrdiff_t(g.h))) continue;
            for (std::size_t x = 0; x < KW; ++x) {
                const std::ptrdiff_t ix = x0 + std::ptrdiff_t(x * g.dw);
                if (!Interior && (ix < 0 || ix >= std::ptrdiff_t(g.w))) continue;
                const float* src = in + ((b * g.h + std::size_t(iy)) * g.w + std::size_t(ix)) * g.c + c0;
                for (std::size_t v = 0; v < CV; ++v) {
                    const vfloat xv = (Full || v + 1 < CV) ? loadu(src + v * lanes) : load_n(src + v * lanes, nlast);
                    acc[v] = kernels::fma(xv, w[y * KW + x][v], acc[v]);
                }
            }
        }
        const std::size_t at = ((b * g.oh + oy) * g.ow + ox) * ldo + c0;
        float* dst = out + at;
        if (add)
            for (std::size_t v = 0; v < CV; ++v)
                acc[v] += (Full || v + 1 < CV) ? loadu(add + at + v * lanes) : load_n(add + at + v * lanes, nlast);
        for (std::size_t v = 0; v < CV; ++v) {
            if (Full || v + 1 < CV) storeu(dst + v * lanes, Act::apply(acc[v]));
            else store_n(dst + v * lanes, Act::apply(acc[v]), nlast);
        }
    };
    // Interior: oy * sh - pad_top >= 0 and oy * sh - pad_top + extent <= h (likewise x).
    const std::size_t ey = (KH - 1) * g.dh + 1, ex = (KW - 1) * g.dw + 1;
    const auto [y_in0, y_in1] = windows_inside(g.h, g.pad_top, ey, g.sh, g.oh);
    const auto [x_in0, x_in1] = windows_inside(g.w, g.pad_left, ex, g.sw, g.ow);
    for (std::size_t b = 0; b < batch; ++b)
        for (std::size_t oy = 0; oy < g.oh; ++oy) {
            if (oy < y_in0 || oy >= y_in1) {
                for (std::size_t ox = 0; ox < g.ow; ++ox) pixel(b, oy, ox, std::false_type{});
                continue;
            }
            for (std::size_t ox = 0; ox < x_in0; ++ox) pixel(b, oy, ox, std::false_type{});
            for (std::size_t ox = x_in0; ox < x_in1; ++ox) pixel(b, oy, ox, std::true_type{});
            for (std::size_t ox = x_in1; ox < g.ow; ++ox) pixel(b, oy, ox, std::false_type{});
        }
}

// Output pixels [ox0, ox0 + P) of Q rows, one vector of channels, stride S and no dilation:
// each of the (Q - 1) S + KH input rows' (P - 1) S + KW columns that the Q x P windows cover
// is loaded once (into a register: settle) and multiplied into every window it lies in, Q x P
// independent accumulator chains (a pixel alone is a chain of KH x KW dependent FMAs). Each
// output sums its taps in the same order as a pixel alone (row by row, left to right).
// rows[r]: input row r of the windows, at the channel vector (null: outside the image); ix0:
// the first column, which may lie outside the image when Edge (columns outside are skipped).
// wp: the vector's weights, cs floats apart (KH x KW loads from L1 per tile). Not inlined: a
// few small bodies per layer rather than one large function (compile time).
template <class Act, std::size_t KH, std::size_t KW, std::size_t S, std::size_t Q, std::size_t P, bool Edge, bool Masked>
[[gnu::noinline]] void depthwise_tile(const float* const* rows, std::ptrdiff_t ix0, std::ptrdiff_t w, std::size_t c, const float* wp,
                                      std::size_t cs, float* dst, std::size_t ldr, const float* add, std::size_t ldo,
                                      std::size_t n) noexcept {
    constexpr std::size_t cols = (P - 1) * S + KW, in_rows = (Q - 1) * S + KH;
    vfloat wt[KH * KW];
    TYPENET_UNROLL
    for (std::size_t t = 0; t < KH * KW; ++t) wt[t] = loadu(wp + t * cs);  // (unaligned: a layer's last vector may overlap)
    const vfloat bias = loadu(wp + KH * KW * cs);
    vfloat acc[Q][P];
    TYPENET_UNROLL
    for (std::size_t q = 0; q < Q; ++q)
        TYPENET_UNROLL
        for (std::size_t p = 0; p < P; ++p) acc[q][p] = bias;
    TYPENET_UNROLL
    for (std::size_t r = 0; r < in_rows; ++r) {
        if (!rows[r]) continue;  // a row outside the image (any tile: the top and bottom bands)
        TYPENET_UNROLL
        for (std::size_t j = 0; j < cols; ++j) {
            const std::ptrdiff_t ix = ix0 + std::ptrdiff_t(j);
            if (Edge && (ix < 0 || ix >= w)) continue;
            const float* src = rows[r] + ix * std::ptrdiff_t(c);
            vfloat xv = Masked ? load_n(src, n) : loadu(src);
            settle(xv);  // one load, used by every window it lies in (not folded into each FMA)
            TYPENET_UNROLL
            for (std::size_t q = 0; q < Q; ++q)
                TYPENET_UNROLL
                for (std::size_t p = 0; p < P; ++p)
                    if (r >= q * S && r - q * S < KH && j >= p * S && j - p * S < KW)
                        acc[q][p] = kernels::fma(xv, wt[(r - q * S) * KW + (j - p * S)], acc[q][p]);
        }
    }
    TYPENET_UNROLL
    for (std::size_t q = 0; q < Q; ++q)
        TYPENET_UNROLL
        for (std::size_t p = 0; p < P; ++p) {
            const std::size_t at = q * ldr + p * ldo;
            if (add) acc[q][p] += Masked ? load_n(add + at, n) : loadu(add + at);
            if (Masked) store_n(dst + at, Act::apply(acc[q][p]), n);
            else storeu(dst + at, Act::apply(acc[q][p]));
        }
}

// Output rows [oy, oy + Q) of one vector of channels, in tiles of P pixels: without bounds
// checks where the windows' columns lie inside the image, with them at the left and right edges
// (rows outside the image are null, skipped by every tile). Where fewer than P pixels remain,
// the last tile ends at the row's end and overlaps the one before it (the pixels they share
// are computed twice, bitwise the same, as the channels of a layer's last vector are): a pixel
// alone is a chain of KH x KW dependent FMAs, ~4x a tile's time per pixel (14x14 maps are
// three tiles of 4 and two such pixels a row). Single pixels only on a map narrower than P.
// (The output never aliases the input or `add`: the memory plan gives a convolution's value a
// buffer of its own.) Few bodies of unrolled code, not inlined (compile time of
// MobileNetV3-Large, g++ -O2: 40 s before the tiles, 62 s with tiles of P at every edge and
// inlined, 44 s so).
template <class Act, std::size_t KH, std::size_t KW, std::size_t S, std::size_t Q, std::size_t P, bool Masked>
inline void depthwise_band(const ConvGeometry& g, const float* in, float* out, std::size_t b, std::size_t oy, std::size_t c0,
                           const float* packed, std::size_t x_in0, std::size_t x_in1, const float* add, std::size_t ldo,
                           std::size_t n) noexcept {
    constexpr std::size_t in_rows = (Q - 1) * S + KH;
    const float* rows[in_rows];
    for (std::size_t r = 0; r < in_rows; ++r) {
        const std::ptrdiff_t iy = std::ptrdiff_t(oy * g.sh + r * g.dh) - std::ptrdiff_t(g.pad_top);
        rows[r] = iy >= 0 && iy < std::ptrdiff_t(g.h) ? in + (b * g.h + std::size_t(iy)) * g.w * g.c + c0 : nullptr;
    }
    const std::size_t at = (b * g.oh + oy) * g.ow * ldo + c0, ldr = g.ow * ldo, cs = depthwise_stride(g.c);
    auto tiles = [&]<std::size_t T, bool Edge>(std::size_t ox, std::size_t ox1) {
        for (; ox < ox1 && ox1 - ox >= T; ox += T)  // (no ox + T that could wrap: g++ would warn)
            depthwise_tile<Act, KH, KW, S, Q, T, Edge, Masked>(rows, std::ptrdiff_t(ox * S) - std::ptrdiff_t(g.pad_left),
                                                               std::ptrdiff_t(g.w), g.c, packed + c0, cs, out + at + ox * ldo, ldr,
                                                               add ? add + at + ox * ldo : nullptr, ldo, n);
        return ox;
    };
    if constexpr (P > 1) {
        // Checked tiles over the left edge [0, x_in0), unchecked ones to x_in1, checked ones for
        // the right edge (and the interior's last few pixels), then single pixels.
        std::size_t ox = tiles.template operator()<P, true>(0, std::min(g.ow, round_up(x_in0, P)));
        if (ox >= x_in0) ox = tiles.template operator()<P, false>(ox, x_in1);
        ox = tiles.template operator()<P, true>(ox, g.ow);
        if (ox < g.ow && g.ow >= P) ox = tiles.template operator()<P, true>(g.ow - P, g.ow);
        tiles.template operator()<1, true>(ox, g.ow);
        return;
    }
    tiles.template operator()<1, true>(0, g.ow);
}

// Pixels per tile along a row at stride s (one row a band at stride 2, two at stride 1): the
// tile's accumulators, its KH x KW weights and a column within the registers.
inline constexpr std::size_t depthwise_tile_pixels(std::size_t s, std::size_t kh, std::size_t kw) noexcept {
    const std::size_t q = s == 1 ? 2 : 1;
    return vector_registers >= 32 ? (s == 1 || kh * kw + 8 + 1 <= vector_registers ? 8 / q : 4)
                                  : kh * kw + 4 + 1 <= vector_registers ? 4 / q : 4;
}
// One vector of channels at a time over the whole map, in bands of Q output rows (the input
// rows of that vector, one cache line per pixel, stay in L1 from one band to the next).
template <class Act, std::size_t KH, std::size_t KW, std::size_t S, bool Narrow, bool Masked>
inline void depthwise_vector(const ConvGeometry& g, const float* packed, const float* in, float* out, std::size_t batch,
                             std::size_t c0, const float* add, std::size_t ldo, std::size_t n, Share share) noexcept {
    // Bands of two rows at stride 1 (they share KH - 1 input rows). Q x P accumulators, the
    // weights and a column in 32 registers (3x3: 8 + 9 + 1; a 5x5 window at stride 1 keeps some
    // weights in L1; at stride 2 it takes 4 pixels, 4 + 25 + 1: 14x14x672 40.5 -> 31 us, 56x56x72
    // 40 -> 37); with 16, 2 x 2 for 3x3 (4 + 9 + 1), and 4 pixels for windows whose weights do not fit.
    // One core, one pixel at a time before (bench_zoo's depthwise_*, docs/performance.md):
    // 3x3 56x56x144 311 -> 106 us, 14x14x384 46 -> 21, stride 2 112x112x96 228 -> 134; 5x5
    // 28x28x72 177 -> 32.
    constexpr std::size_t Q = S == 1 ? 2 : 1;  // (depthwise_row_unit)
    // Narrow: a stride-2 map onto rows narrower than its tiles (3x3: 14 -> 7) takes tiles of 4
    // rather than single pixels.
    constexpr std::size_t P = Narrow ? 4 : depthwise_tile_pixels(S, KH, KW);
    const auto [x_in0, x_in1] = windows_inside(g.w, g.pad_left, KW, S, g.ow);
    // A share (one sample, several threads): its bands of output rows.
    const auto [row0, row1] = share.range(g.oh, Q);
    for (std::size_t b = 0; b < batch; ++b) {
        std::size_t oy = row0;
        if (g.dh == 1 && g.sh == S) {  // (a band's rows are S apart)
            for (; oy + Q <= row1; oy += Q)
                depthwise_band<Act, KH, KW, S, Q, P, Masked>(g, in, out, b, oy, c0, packed, x_in0, x_in1, add, ldo, n);
            // The last row of an odd count: a band that overlaps the one before it (as the
            // tiles at a row's end do), within the share.
            if (Q > 1 && oy < row1 && row1 - row0 >= Q) {
                depthwise_band<Act, KH, KW, S, Q, P, Masked>(g, in, out, b, row1 - Q, c0, packed, x_in0, x_in1, add, ldo, n);
                oy = row1;
            }
        }
        // A share of one row (or a dilated map) pixel by pixel; stride 2 in tiles.
        for (; oy < row1; ++oy)
            depthwise_band<Act, KH, KW, S, 1, Q == 1 ? P : 1, Masked>(g, in, out, b, oy, c0, packed, x_in0, x_in1, add, ldo, n);
    }
}
// Every vector of channels. Channels that are not whole vectors end in a whole vector that
// overlaps the one before it (the channels they share are computed twice, bitwise the same:
// the same taps in the same order), so the tiles are instantiated once per kind of layer, not
// again masked (MobileNetV3-Large's 72, 120, 184 and 200 channels beside its 16, 480 and 672:
// ~2 s of its g++ -O2 compile). Masking all its vectors instead cost ShuffleNetV2 and
// MobileNetV2 5% on Zen 4. A layer of fewer channels than a vector runs the masked tiles.
template <class Act, std::size_t KH, std::size_t KW, std::size_t S, std::size_t C, bool Narrow>
inline void depthwise_rows(const ConvGeometry& g, const float* packed, const float* in, float* out, std::size_t batch,
                           const float* add, std::size_t ldo, Share share) noexcept {
    const std::size_t whole = g.c / lanes;  // (a crop keeps the channels: g.c is C)
    for (std::size_t v = 0; v < whole; ++v)
        depthwise_vector<Act, KH, KW, S, Narrow, false>(g, packed, in, out, batch, v * lanes, add, ldo, lanes, share);
    if constexpr (C % lanes != 0) {
        if constexpr (C > lanes) depthwise_vector<Act, KH, KW, S, Narrow, false>(g, packed, in, out, batch, g.c - lanes, add, ldo, lanes, share);
        else depthwise_vector<Act, KH, KW, S, Narrow, true>(g, packed, in, out, batch, 0, add, ldo, g.c, share);
    }
}
}  // namespace detail

// Horizontal stride 1 or 2 without horizontal dilation: depthwise_rows (tiles of pixels).
// Otherwise pixel by pixel, channels in blocks of up to CV vectors, as many as keep the
// weights within ~24 registers. A share (one sample, several threads: depthwise_shares) takes
// whole bands of output rows, which keeps the rows a thread reads where the 1x1 convolution
// before it (split by pixels) wrote them, and its output where the one after it reads.
constexpr bool depthwise_shares(const ConvGeometry& g) noexcept { return g.dw == 1 && (g.sw == 1 || g.sw == 2); }
// The output rows a share of such a layer is made of: its tiles' rows (two at stride 1).
constexpr std::size_t depthwise_row_unit(const ConvGeometry& g) noexcept { return g.sw == 1 ? 2 : 1; }
// Which loop a depthwise layer runs, from its geometry at compile time (a crop keeps the
// layer's strides and dilations): tiles at horizontal stride 1 or 2 (4: stride 2 onto output
// rows narrower than its tiles of 8 pixels, a 3x3 window on 32 registers, in tiles of 4),
// pixel by pixel otherwise; 0, any of them. A
// layer instantiates only its own (each stride's tiles are a few seconds of g++ -O2 over
// MobileNetV3-Large's kinds of depthwise layers).
inline constexpr std::size_t depthwise_path(const ConvGeometry& g) noexcept {
    const std::size_t p = detail::depthwise_tile_pixels(2, g.kh, g.kw);
    return g.dw == 1 && g.sw == 1 ? 1 : g.dw == 1 && g.sw == 2 ? (g.ow < p && p > 4 ? 4 : 2) : 3;
}
template <class Act, std::size_t KH, std::size_t KW, std::size_t C, std::size_t Path = 0>
inline void depthwise_conv2d(const ConvGeometry& g, const float* packed, const float* in, float* out, std::size_t batch,
                             const float* add = nullptr, std::size_t ldo = 0, Share share = {}) noexcept {
    static_assert(!Act::row_wise, "typenet: a depthwise convolution takes an elementwise activation");
    constexpr std::size_t cv = std::max<std::size_t>(1, std::min<std::size_t>(4, 24 / (KH * KW + 1)));
    const std::size_t vectors = (g.c + lanes - 1) / lanes;
    std::size_t v0 = 0;
    constexpr bool full = C % lanes == 0;
    if (!share.computes()) return;
    if (ldo == 0) ldo = g.c;
    if constexpr (Path == 0 || Path == 1)
        if (g.dw == 1 && g.sw == 1) return detail::depthwise_rows<Act, KH, KW, 1, C, false>(g, packed, in, out, batch, add, ldo, share);
    if constexpr (Path == 0 || Path == 2 || Path == 4)
        if (g.dw == 1 && g.sw == 2) return detail::depthwise_rows<Act, KH, KW, 2, C, Path == 4>(g, packed, in, out, batch, add, ldo, share);
    if constexpr (Path == 0 || Path == 3) {
        for (; v0 + cv <= vectors; v0 += cv) detail::depthwise_block<Act, KH, KW, cv, full>(g, packed, in, out, batch, v0 * lanes, add, ldo);
        for (; v0 < vectors; ++v0) detail::depthwise_block<Act, KH, KW, 1, full>(g, packed, in, out, batch, v0 * lanes, add, ldo);
    }
}

}  // namespace typenet::kernels
