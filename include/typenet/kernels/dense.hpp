// Dense kernels. Weights are packed once, at load time, into panels of nr output features:
//
//   packed[p][k][j] = W[p * nr + j][k]     (zero where p * nr + j >= N), then the bias, padded.
//
// so that for every input feature k the kernel loads nr consecutive weights (two vectors)
// and multiplies them by one broadcast input value. The same layout feeds both kernels:
//   gemv: one sample; several panels in flight so that enough FMA chains run in parallel;
//         bound by the speed at which the weights stream from cache.
//   gemm: a batch; an mr x nr block of outputs lives in registers (mr broadcasts, 2 loads,
//         2 mr FMAs per k), the K loop blocked so a panel's slice stays in L1 across row
//         blocks. Bias and activation are applied before the block leaves registers.
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "epilogue.hpp"
#include "share.hpp"
#include "simd.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::kernels {

struct DensePacking {
    std::size_t in, out;
    constexpr std::size_t panels() const noexcept { return (out + nr - 1) / nr; }
    constexpr std::size_t weight_floats() const noexcept { return panels() * nr * in; }
    constexpr std::size_t bias_floats() const noexcept { return panels() * nr; }
    constexpr std::size_t floats(bool bias) const noexcept { return weight_floats() + (bias ? bias_floats() : 0); }
};

// w: [out][in] row-major (PyTorch's Linear layout); b: [out] or null.
// A transpose. A panel's nr rows are taken kc columns at a time: each row's run is copied into
// a tile (one sequential read per row; reading the nr rows column by column instead is nr
// streams at once, more than the prefetchers follow), then the tile is transposed in
// lanes x lanes blocks in registers and the panel written in one sequential run. Panels go
// last to first: when a load has just copied w, its end is what is still in cache.
inline void dense_pack(DensePacking d, const float* w, const float* b, float* packed) noexcept {
    constexpr std::size_t kc = 256;  // nr x kc floats: 32 KB with AVX-512
    alignas(alignment) float tile[nr][kc];
    // Weights much larger than the last-level cache cannot stay in it: they bypass it.
    const bool stream = d.weight_floats() * sizeof(float) >= (std::size_t{32} << 20) &&
                        reinterpret_cast<std::uintptr_t>(packed) % alignment == 0;
    for (std::size_t p = d.panels(); p-- > 0;) {
        const std::size_t rows = std::min(nr, d.out - p * nr);
        const float* base = w + p * nr * d.in;
        float* panel = packed + p * d.in * nr;
        for (std::size_t c0 = 0; c0 < d.in; c0 += kc) {
            const std::size_t cn = std::min(kc, d.in - c0);
            for (std::size_t j = 0; j < nr; ++j) {
                if (j < rows) std::copy_n(base + j * d.in + c0, cn, tile[j]);
                else std::fill_n(tile[j], cn, 0.f);
            }
            if constexpr (!has_register_transpose) {
                for (std::size_t k = 0; k < cn; ++k)
                    for (std::size_t j = 0; j < nr; ++j) panel[(c0 + k) * nr + j] = tile[j][k];
            } else for (std::size_t k0 = 0; k0 < cn; k0 += lanes) {
                const std::size_t kn = std::min(lanes, cn - k0);
                for (std::size_t h = 0; h < nr; h += lanes) {
                    vfloat r[lanes];
                    TYPENET_UNROLL
                    for (std::size_t t = 0; t < lanes; ++t) r[t] = kn == lanes ? load(tile[h + t] + k0) : load_partial(tile[h + t] + k0, kn, 0.f);
                    transpose_square(r);
                    float* dst = panel + (c0 + k0) * nr + h;
                    if (kn == lanes && stream) {
                        TYPENET_UNROLL
                        for (std::size_t t = 0; t < lanes; ++t) store_stream(dst + t * nr, r[t]);
                    } else if (kn == lanes) {
                        TYPENET_UNROLL
                        for (std::size_t t = 0; t < lanes; ++t) storeu(dst + t * nr, r[t]);
                    } else {
                        for (std::size_t t = 0; t < kn; ++t) storeu(dst + t * nr, r[t]);
                    }
                }
            }
        }
    }
    if (stream) stream_fence();
    if (b) {
        float* pb = packed + d.weight_floats();
        std::fill_n(pb, d.bias_floats(), 0.f);
        std::copy_n(b, d.out, pb);
    }
}

namespace detail {

// ReLU, the commonest activation, is applied in the kernels' registers; others after the
// stores (apply_tile, dense_gemv). (The GEMM's comment, below, says why.)
template <class Act>
inline constexpr bool clamps_in_registers = std::is_same_v<Act, relu>;

// G panels at once, the K loop split S ways so that 2 * G * S accumulator chains hide the
// FMA latency even when the layer has few panels. Stores x W^T + b (+ add), with ReLU when
// clamp: dense_gemv applies any other activation over the stored outputs, so that these
// kernels are instantiated once for all activations.
template <std::size_t G, std::size_t S>
inline void gemv_panels(const float* w, const float* bias, const float* x, float* y, std::size_t in, std::size_t out,
                        std::size_t p0, const float* add, bool clamp) noexcept {
    vfloat acc[S][G][2];
    for (std::size_t s = 0; s < S; ++s)
        for (std::size_t g = 0; g < G; ++g) acc[s][g][0] = acc[s][g][1] = vfloat(0.f);
    const float* base = w + p0 * in * nr;
    const std::size_t kmain = in / S * S;
    auto accumulate = [&](std::size_t k, std::size_t s) {
        const vfloat xb(x[k]);
        TYPENET_UNROLL
        for (std::size_t g = 0; g < G; ++g) {
            const float* pw = base + (g * in + k) * nr;
            acc[s][g][0] = kernels::fma(load(pw), xb, acc[s][g][0]);
            acc[s][g][1] = kernels::fma(load(pw + lanes), xb, acc[s][g][1]);
        }
    };
    for (std::size_t k = 0; k < kmain; k += S)
        TYPENET_UNROLL
        for (std::size_t s = 0; s < S; ++s) accumulate(k + s, s);
    for (std::size_t k = kmain; k < in; ++k) accumulate(k, 0);
    for (std::size_t g = 0; g < G; ++g)
        for (std::size_t v = 0; v < 2; ++v) {
            vfloat r = acc[0][g][v];
            for (std::size_t s = 1; s < S; ++s) r += acc[s][g][v];
            const std::size_t col = (p0 + g) * nr + v * lanes;
            if (col >= out) continue;
            const std::size_t n = std::min(lanes, out - col);
            if (add) r += load_n(add + col, n);  // a residual, added before the activation
            if (bias) r += load(bias + col);
            store_n(y + col, clamp ? relu::apply(r) : r, n);
        }
}

}  // namespace detail

// y[Out] = act(W x + b [+ add]) for one sample of a small layer (Out within one panel, In
// small), sizes known at compile time: the K loop unrolled into S chains, no loop or call
// overhead — what a tiny network (1-8-8-1) pays per layer.
template <std::size_t In, std::size_t Out>
inline constexpr bool dense_is_small = Out <= nr && In <= 64;
template <class Act, std::size_t In, std::size_t Out>
[[gnu::always_inline]] inline void dense_small(const float* packed, const float* x, float* y, const float* add = nullptr) noexcept {
    constexpr DensePacking d{In, Out};
    constexpr std::size_t V = Out > lanes ? 2 : 1;
    constexpr std::size_t S = std::max<std::size_t>(1, std::min<std::size_t>(In, 8 / V));
    vfloat acc[S][V];
    TYPENET_UNROLL
    for (std::size_t s = 0; s < S; ++s)
        TYPENET_UNROLL
        for (std::size_t v = 0; v < V; ++v) acc[s][v] = s == 0 ? load(packed + d.weight_floats() + v * lanes) : vfloat(0.f);
    TYPENET_UNROLL
    for (std::size_t k = 0; k < In; ++k) {
        const vfloat xb(x[k]);
        TYPENET_UNROLL
        for (std::size_t v = 0; v < V; ++v) acc[k % S][v] = kernels::fma(load(packed + k * nr + v * lanes), xb, acc[k % S][v]);
    }
    TYPENET_UNROLL
    for (std::size_t v = 0; v < V; ++v) {
        constexpr std::size_t n0 = std::min(lanes, Out);
        const std::size_t n = v == 0 ? n0 : Out - lanes;
        vfloat r = sum_tree<S>([&](std::size_t s) { return acc[s][v]; });
        if (add) r += load_n(add + v * lanes, n);
        if constexpr (!Act::row_wise) r = Act::apply(r);
        store_n(y + v * lanes, r, n);
    }
    if constexpr (Act::row_wise) apply_rows<Act>(y, 1, Out);
}

// y[out] = act(W x + b [+ add]) for one sample. share: one of several threads' whole groups of
// panels (the last share also the panels after them), so that each output sums in the order
// it does on one thread; a row-wise activation is the caller's then.
template <class Act>
inline void dense_gemv(DensePacking d, const float* packed, bool has_bias, const float* x, float* y,
                       const float* add = nullptr, Share share = {}) noexcept {
    constexpr std::size_t group = vector_registers >= 32 ? 4 : 2;  // panels in flight
    const float* bias = has_bias ? packed + d.weight_floats() : nullptr;
    const std::size_t panels = d.panels();
    const auto [g0, g1] = share.range(panels / group);
    constexpr bool clamp = detail::clamps_in_registers<Act>;
    // Any other elementwise activation: over the columns of panels [from, to) once stored.
    auto activate = [&](std::size_t from, std::size_t to) {
        if constexpr (!Act::row_wise && !is_identity_activation<Act> && !clamp)
            for (std::size_t c = from * nr; c < std::min(to * nr, d.out); c += lanes) {
                const std::size_t n = std::min(lanes, d.out - c);
                store_n(y + c, Act::apply(load_n(y + c, n)), n);
            }
    };
    std::size_t p = g0 * group;
    for (; p < g1 * group; p += group) detail::gemv_panels<group, 1>(packed, bias, x, y, d.in, d.out, p, add, clamp);
    activate(g0 * group, p);
    if (share.index + 1 != share.count) return;
    switch (panels - p) {  // the remaining panels, with the K loop split to keep chains busy
        case 1: detail::gemv_panels<1, group>(packed, bias, x, y, d.in, d.out, p, add, clamp); break;
        case 2: if constexpr (group > 2) detail::gemv_panels<2, 2>(packed, bias, x, y, d.in, d.out, p, add, clamp); break;
        case 3: if constexpr (group > 3) detail::gemv_panels<3, 1>(packed, bias, x, y, d.in, d.out, p, add, clamp); break;
        default: break;
    }
    activate(p, panels);
    apply_rows<Act>(y, 1, d.out);
}

namespace detail {

// Weights a micro-kernel fetches for the tile after it, one cache line per step of K: `lines`
// lines from `at`. (Prefetches never fault, and cost a load slot each.)
struct Ahead {
    const char* at = nullptr;
    std::size_t lines = 0;
};
// The weights of the next panel, fetched while this panel's tiles run: spread over its last
// (at most fetching_tiles) tiles, so that they arrive shortly before they are read, and a
// wide map's thousands of tiles do not fetch them so early that its rows push them out.
class Lookahead {
public:
    static constexpr std::size_t fetching_tiles = 16;
    // For one GEMM call of `tiles` row tiles per panel.
    explicit Lookahead(std::size_t tiles) noexcept : tiles_(tiles), fetching_(std::clamp<std::size_t>(tiles, 1, fetching_tiles)) {}
    // Before a panel's tiles: the next slice (null: none) of `bytes`.
    void next(const float* slice, std::size_t bytes) noexcept {
        at_ = reinterpret_cast<const char*>(slice);
        left_ = slice ? bytes / cache_line : 0;
        per_ = (left_ + fetching_ - 1) / fetching_;
        tile_ = 0;
    }
    // Tile t's share, at most one line per step of K (steps).
    [[gnu::always_inline]] Ahead take(std::size_t steps) noexcept {
        if (left_ == 0 || tile_++ + fetching_ < tiles_) return {};
        const Ahead a{at_, std::min({per_, steps, left_})};
        at_ += a.lines * cache_line, left_ -= a.lines;
        return a;
    }

    // Before panel p's tiles of a GEMM over panels [p0, p1) in K blocks of kstep (this one
    // [k0, k0 + kc) of depth): the slice the tiles run next — panel p + 1's, or after the last
    // panel the next block's first — in weights laid out panel by panel, nr words per step of K.
    template <class W>
    void next_panel(const W* packed, std::size_t p, std::size_t p0, std::size_t p1, std::size_t k0, std::size_t kc,
                    std::size_t kstep, std::size_t depth) noexcept {
        static_assert(sizeof(W) == sizeof(float));
        const std::size_t pn = p + 1 < p1 ? p + 1 : p0, kn = p + 1 < p1 ? k0 : k0 + kc;
        if (kn < depth)
            next(reinterpret_cast<const float*>(packed + (pn * depth + kn) * nr), std::min(kstep, depth - kn) * nr * sizeof(W));
        else
            next(nullptr, 0);
    }

private:
    const char* at_ = nullptr;
    std::size_t tiles_, fetching_, left_ = 0, per_ = 0, tile_ = 0;
};

// A micro-kernel's steps of K [0, kc), step(k) each, the first ones each fetching a line of
// its tile's share of the next panel (ahead: null, none). (No test in the loop that fetches nothing.)
template <class Step>
[[gnu::always_inline]] inline void steps_fetching(Lookahead* ahead, std::size_t kc, Step&& step) noexcept {
    const Ahead a = ahead ? ahead->take(kc) : Ahead{};
    std::size_t k = 0;
    for (; k < a.lines; ++k) prefetch(a.at + k * cache_line), step(k);
    for (; k < kc; ++k) step(k);
}

// The activation a micro-kernel runs over each tile it has just stored (apply_tile<Act>), or
// null: a pointer, not a template parameter, so that one micro-kernel per block shape serves
// every activation, which keeps the code a model compiles to (and its compile time) from
// multiplying by its activations.
using TileActivation = void (*)(float* y, std::size_t m, std::size_t ldy, std::size_t ncols) noexcept;

// `tiles` M x nr blocks of y (row stride ldy), one below the other, each += x block (M rows,
// stride ldx) * panel slice (kc). first: start from zero instead of y; last: add bias (and
// `add`, laid out like y: a residual). V: vectors of the panel that hold valid columns (1
// when at most `lanes` remain). act: run over each tile just stored, while it is in L1.
// ahead: the next panel's weights to prefetch along the way, a share per tile (Lookahead;
// null: none).
// One call runs a panel's whole column of tiles: a call per tile cost ~35 ns of setup (its
// fourteen arguments, the registers it saves, the masks of ncols), a third of a tile's time
// at K = 16. MobileNet's and EfficientNet's expansions from 16 or 24 channels, 1200 rows in
// L2: 26.1 -> 23.1-24.0 and 55.1 -> 50.3-51.0 us (Zen 5); in whole networks, whose large
// expansions stream from memory, ~1% (docs/performance.md).
template <std::size_t M, std::size_t V, bool Whole = false>
inline void gemm_micro(const float* x, std::size_t ldx, const float* pw, std::size_t kc, float* y, std::size_t ldy,
                       std::size_t ncols, const float* bias, bool first, bool last, const float* add, bool clamp,
                       float ceiling, std::size_t tiles, Lookahead* ahead, TileActivation act) noexcept {
    // Whole: ncols is V whole vectors, known here — no width tests and masked-store branches in
    // each row's epilogue (a 12-row tile's ~100 cycles of them, a third of its FMAs' time at K = 16).
    // (Two vectors: the first is whole, whatever ncols.)
    const std::size_t n0 = Whole || V == 2 ? lanes : std::min(lanes, ncols);
    const std::size_t n1 = Whole ? (V == 2 ? lanes : 0) : ncols > lanes ? ncols - lanes : 0;
    const vfloat top(ceiling);
    for (std::size_t t = 0; t < tiles; ++t, x += M * ldx, y += M * ldy) {
        vfloat acc[M][2];
        TYPENET_UNROLL
        for (std::size_t i = 0; i < M; ++i) {
            if (first) {
                acc[i][0] = acc[i][1] = vfloat(0.f);
            } else {
                acc[i][0] = load_n(y + i * ldy, n0);
                acc[i][1] = n1 ? load_n(y + i * ldy + lanes, n1) : vfloat(0.f);
            }
        }
        auto step = [&](std::size_t k) __attribute__((always_inline)) {  // (GNU spelling: [[ ]] here would name the type)
            vfloat w0 = load(pw + k * nr);
            vfloat w1 = V == 2 ? load(pw + k * nr + lanes) : vfloat(0.f);
            // Loaded once into a register: for short blocks (M <= 4) g++ would otherwise fold the
            // load into each FMA, M loads of the same vector (a 4-row block ran ~4x slower per row
            // than a 12-row one, load-bound).
            if constexpr (M <= 4) {
                settle(w0);
                if constexpr (V == 2) settle(w1);
            }
            TYPENET_UNROLL
            for (std::size_t i = 0; i < M; ++i) {
                const vfloat xb(x[i * ldx + k]);
                acc[i][0] = kernels::fma(w0, xb, acc[i][0]);
                if constexpr (V == 2) acc[i][1] = kernels::fma(w1, xb, acc[i][1]);
            }
        };
        steps_fetching(ahead, kc, step);
        const float* r = last ? add : nullptr;
        TYPENET_UNROLL
        for (std::size_t i = 0; i < M; ++i)
            store_row<true>(y + i * ldy, acc[i][0], acc[i][1], n0, n1, last ? bias : nullptr, r ? r + i * ldy : nullptr,
                            last && clamp, top);
        if (act) act(y, M, ldy, ncols);
        if (add) add += M * ldy;
    }
}

// A panel of one whole vector and at most half a vector more (N = 24 = 16 + 8 on AVX-512: the
// 24-channel projections of MobileNetV2, MobileNetV3 and EfficientNet-B0, MobileNetV3's 120
// and 184 channels, ShuffleNetV2's 116): gemm_micro<M, 2> spends a whole FMA on each row's few
// last columns, a quarter of its work on columns that are not there. Here rows 2j and 2j + 1
// share one register for them, row 2j's in the lower half of the lanes and row 2j + 1's in the
// upper: the weights' short vector in both halves (one broadcast load), the two rows' inputs
// joined by one blend, 18 FMAs a step of K for 12 rows instead of 24 (1x1 96 -> 24 on 28x28:
// ~160 -> ~200 GFLOP/s). Each output is the same chain of FMAs, in the same
// order, as in gemm_micro: the same bits. Tiles of an even M only (the whole tiles of mr rows).
template <std::size_t M>
inline void gemm_micro_paired(const float* x, std::size_t ldx, const float* pw, std::size_t kc, float* y, std::size_t ldy,
                              std::size_t ncols, const float* bias, bool first, bool last, const float* add, bool clamp,
                              float ceiling, std::size_t tiles, Lookahead* ahead, TileActivation act) noexcept {
    static_assert(M % 2 == 0, "typenet: paired tiles take rows two by two");
    const std::size_t n1 = ncols - lanes;  // (1 to lanes / 2)
    const vfloat top(ceiling);
    for (std::size_t t = 0; t < tiles; ++t, x += M * ldx, y += M * ldy) {
        vfloat whole[M], pairs[M / 2];
        TYPENET_UNROLL
        for (std::size_t j = 0; j < M / 2; ++j) {
            const float* y0 = y + 2 * j * ldy;
            if (first) {
                whole[2 * j] = whole[2 * j + 1] = pairs[j] = vfloat(0.f);
            } else {
                whole[2 * j] = loadu(y0);
                whole[2 * j + 1] = loadu(y0 + ldy);
                pairs[j] = load_halves(y0 + lanes, y0 + ldy + lanes, n1);
            }
        }
        auto step = [&](std::size_t k) __attribute__((always_inline)) {
            const vfloat w0 = load(pw + k * nr), w1 = dup_half(pw + k * nr + lanes);
            TYPENET_UNROLL
            for (std::size_t j = 0; j < M / 2; ++j) {
                const vfloat xa(x[2 * j * ldx + k]), xb(x[(2 * j + 1) * ldx + k]);
                whole[2 * j] = kernels::fma(w0, xa, whole[2 * j]);
                whole[2 * j + 1] = kernels::fma(w0, xb, whole[2 * j + 1]);
                pairs[j] = kernels::fma(w1, join_halves(xa, xb), pairs[j]);
            }
        };
        steps_fetching(ahead, kc, step);
        // The epilogue in store_row's order: the residual, the bias, the ReLU and its ceiling.
        const float* r = last ? add : nullptr;
        const float* b = last ? bias : nullptr;
        const vfloat b1 = b ? dup_half(b + lanes) : vfloat(0.f);
        TYPENET_UNROLL
        for (std::size_t j = 0; j < M / 2; ++j) {
            float* y0 = y + 2 * j * ldy;
            const float* r0 = r ? r + 2 * j * ldy : nullptr;
            store_row<true>(y0, whole[2 * j], vfloat(0.f), lanes, 0, b, r0, last && clamp, top);
            store_row<true>(y0 + ldy, whole[2 * j + 1], vfloat(0.f), lanes, 0, b, r0 ? r0 + ldy : nullptr, last && clamp, top);
            vfloat p = pairs[j];
            if (r0) p += load_halves(r0 + lanes, r0 + ldy + lanes, n1);
            if (b) p += b1;
            if (last && clamp) p = xsimd::min(top, relu_nan(p));
            store_halves(y0 + lanes, y0 + ldy + lanes, p, n1);
        }
        if (act) act(y, M, ldy, ncols);
        if (add) add += M * ldy;
    }
}
// Whether the whole tiles of a panel of one vector and at most half a vector more run paired
// (gemm_micro_paired): on AVX-512, whose halves are a 256-bit broadcast and a blend away.
inline constexpr bool paired_tiles = is_avx512 && mr % 2 == 0;

// Rows [0, m), m <= mr, in register blocks: mr at once, or a tail as 8 + 4 + 2 + 1 rows.
// Five block heights instead of mr: a third of the kernels to compile, for a tail that is
// rare (one per panel and call).
template <class F>
inline void row_blocks(std::size_t m, F&& block) {
    if (m == mr) {
        block(std::integral_constant<std::size_t, mr>{}, 0);
        return;
    }
    std::size_t i = 0;
    if constexpr (mr > 8) if (m - i >= 8) block(std::integral_constant<std::size_t, 8>{}, i), i += 8;
    if constexpr (mr > 4) if (m - i >= 4) block(std::integral_constant<std::size_t, 4>{}, i), i += 4;
    if (m - i >= 2) block(std::integral_constant<std::size_t, 2>{}, i), i += 2;
    if (m - i >= 1) block(std::integral_constant<std::size_t, 1>{}, i);
}

// Rows per register tile for n rows: mr, or 7 where n is a multiple of 7 that tiles of mr
// would end in 1 to 3 rows — a 7x7 map's 49 pixels are 4 x 12 + 1, and a row alone is a
// chain of dependent FMAs: as seven tiles of 7 (14 chains each) ResNet-50's 7x7x512 3x3
// convolution runs at 221-228 GFLOP/s against 211-213. (The seven-row micro-kernel serves
// only the GEMM and the gather loop: tiles of 7 are what a map of 7 columns gives.)
inline constexpr std::size_t row_step(std::size_t n) noexcept {
    return mr > 7 && n % 7 == 0 && n % mr != 0 && n % mr <= 3 ? 7 : mr;
}
// The register tiles of n rows at row_step(n) rows a tile (divisions by constants: a GEMM
// call on a few rows, as Winograd makes, should not pay for one by a variable).
inline constexpr std::size_t row_tile_count(std::size_t n) noexcept { return row_step(n) == mr ? (n + mr - 1) / mr : (n + 6) / 7; }
// The rows after a GEMM's whole tiles of mr that tiles of mr would end in 1 to 3 rows, taken
// with the last whole tile (mr < n, row_step(n) == mr): a 13x13 map's 169 pixels are 14 x 12
// + 1, and a row alone, a chain of dependent FMAs, took 1/3 of a tile's time for 1/12 of its
// work (SqueezeNet's classifier, 169 x 512 -> 1000: 4.5% of the layer). Run as 7 + 4 + 2,
// 7 + 7 or 8 + 7, tiles the GEMM has anyway, each of at least 2 rows x 2 vectors or 4 rows:
// enough chains to keep the FMA units busy. (A tile of 13 — 26 accumulators — measured the
// same and cost every model's translation unit ~20 KB of code and ~0.8 s of g++ -O2.) Each
// row is the same chain of FMAs in any tile: the same bits.
inline constexpr std::size_t wide_tail_rows(std::size_t n) noexcept {
    return mr == 12 && n > mr && row_step(n) == mr && n % mr != 0 && n % mr <= 3 ? mr + n % mr : 0;
}
// The tiles gemm_panel runs n rows in (for the Lookahead's shares).
inline constexpr std::size_t gemm_tile_count(std::size_t n) noexcept {
    const std::size_t wide = wide_tail_rows(n);
    return wide ? (n - wide) / mr + (wide == mr + 1 ? 3 : 2) : row_tile_count(n);
}
// A tile of row_step's: 7 rows at once, else row_blocks.
template <class F>
inline void row_tiles(std::size_t m, F&& block) {
    if constexpr (mr > 7)
        if (m == 7) return block(std::integral_constant<std::size_t, 7>{}, 0);
    row_blocks(m, block);
}

// ReLU, the commonest activation after a convolution or Dense, is applied in registers by the
// micro-kernels (a run-time flag: no kernel instantiation per activation); apply_tile does
// the others. The GEMM's micro-kernel also caps it (a run-time ceiling, +inf for ReLU): ReLU6
// and any hardtanh from 0 — MobileNetV2's 1x1 expansions, which as a pass over each stored
// tile took 17-21% of their time (112x112x16 -> 96: 326 -> 263 us; the network 4.30 -> 4.13 ms).
template <class Act>
inline constexpr bool relu_with_ceiling = requires { requires Act::lo == 0.f && Act::hi > 0.f; };
template <class Act>
inline constexpr bool clamps_in_gemm = clamps_in_registers<Act> || relu_with_ceiling<Act>;
template <class Act>
constexpr float gemm_ceiling() noexcept {
    if constexpr (relu_with_ceiling<Act>) return Act::hi;
    else return __builtin_inff();
}

// act over an m x ncols tile of y (row stride ldy) that a micro-kernel has just stored.
template <class Act>
inline void apply_tile(float* y, std::size_t m, std::size_t ldy, std::size_t ncols) noexcept {
    if constexpr (!Act::row_wise && !is_identity_activation<Act> && !clamps_in_registers<Act>)
        for (std::size_t i = 0; i < m; ++i)
            for (std::size_t c = 0; c < ncols; c += lanes) {
                const std::size_t n = std::min(lanes, ncols - c);
                store_n(y + i * ldy + c, Act::apply(load_n(y + i * ldy + c, n)), n);
            }
}

// One row through a layer's panels for the reduced-precision GEMVs: four at a time, then the
// 3, 2 or 1 left (f.template operator()<G>(p) computes panels p .. p + G - 1), then the
// activations a micro-kernel does not apply in registers.
template <class Act, class F>
inline void gemv_panel_groups(std::size_t panels, std::size_t out, float* y, F&& f) noexcept {
    std::size_t p = 0;
    for (; p + 4 <= panels; p += 4) f.template operator()<4>(p);
    switch (panels - p) {
        case 3: f.template operator()<3>(p); break;
        case 2: f.template operator()<2>(p); break;
        case 1: f.template operator()<1>(p); break;
        default: break;
    }
    for (std::size_t c = 0; c < out; c += nr) apply_tile<Act>(y + c, 1, out, std::min(nr, out - c));
    if constexpr (Act::row_wise) apply_rows<Act>(y, 1, out);
}

template <class Act>
inline constexpr TileActivation tile_activation() noexcept {
    if constexpr (Act::row_wise || is_identity_activation<Act> || clamps_in_gemm<Act>) return nullptr;
    else return &apply_tile<Act>;
}
// What a GEMM's last K block does to its tiles, from its activation: ReLU (capped or not) in
// registers, another elementwise one over each stored tile. Values, not a template parameter,
// so that one GEMM driver (gemm_panel and its tiles' dispatch) serves every activation.
struct GemmActivation {
    bool clamp;
    float ceiling;
    TileActivation act;
};
template <class Act>
inline constexpr GemmActivation gemm_activation() noexcept {
    return {clamps_in_gemm<Act>, gemm_ceiling<Act>(), tile_activation<Act>()};
}
// Rows [0, rows) of y against one panel slice: whole tiles of row_step(rows) rows in one call,
// then the last rows (fewer than a tile) in blocks (row_tiles), which share a tile's ahead.
// Each row is the same chain of FMAs in any block: the bits do not depend on the tiling.
// (A template only so that a translation unit that runs no GEMM instantiates none of its tiles.)
template <class = void>
inline void gemm_panel(std::size_t rows, const float* x, std::size_t ldx, const float* pw, std::size_t kc, float* y,
                       std::size_t ldy, std::size_t ncols, const float* bias, bool first, bool last, const float* add,
                       Lookahead* ahead, GemmActivation a) noexcept {
    const TileActivation act = last ? a.act : nullptr;
    const std::size_t wide = wide_tail_rows(rows), step = row_step(rows), whole = (rows - wide) / step;
    auto run = [&]<std::size_t M>(std::integral_constant<std::size_t, M>, std::size_t i, std::size_t tiles, Lookahead* ahead_of_tile) {
        auto micro = [&]<std::size_t V, bool Whole>() {
            gemm_micro<M, V, Whole>(x + i * ldx, ldx, pw, kc, y + i * ldy, ldy, ncols, bias, first, last, add ? add + i * ldy : nullptr,
                                    a.clamp, a.ceiling, tiles, ahead_of_tile, act);
        };
        // A panel of whole vectors in the whole tiles (nearly all of a layer's rows): its own kernel.
        if constexpr (M == mr || M == 7) {
            if (ncols == nr) return micro.template operator()<2, true>();
            if (ncols == lanes) return micro.template operator()<1, true>();
        }
        if constexpr (M == mr && paired_tiles)
            if (ncols > lanes && ncols - lanes <= lanes / 2)
                return gemm_micro_paired<M>(x + i * ldx, ldx, pw, kc, y + i * ldy, ldy, ncols, bias, first, last,
                                            add ? add + i * ldy : nullptr, a.clamp, a.ceiling, tiles, ahead_of_tile, act);
        if (ncols > lanes) micro.template operator()<2, false>();
        else micro.template operator()<1, false>();
    };
    if (whole) {
        if constexpr (mr > 7)
            if (step == 7) run(std::integral_constant<std::size_t, 7>{}, 0, whole, ahead);
        if (step == mr) run(std::integral_constant<std::size_t, mr>{}, 0, whole, ahead);
    }
    const std::size_t done = whole * step;
    if (done == rows) return;
    if constexpr (mr == 12) {  // the last tile of 12 and 1-3 rows (wide_tail_rows): 7 + 4 + 2, 7 + 7 or 8 + 7
        using R7 = std::integral_constant<std::size_t, 7>;
        switch (wide) {
            case mr + 1:
                run(R7{}, done, 1, ahead);
                run(std::integral_constant<std::size_t, 4>{}, done + 7, 1, ahead);
                return run(std::integral_constant<std::size_t, 2>{}, done + 11, 1, ahead);
            case mr + 2: run(R7{}, done, 1, ahead); return run(R7{}, done + 7, 1, ahead);
            case mr + 3: run(std::integral_constant<std::size_t, 8>{}, done, 1, ahead); return run(R7{}, done + 8, 1, ahead);
            default: break;
        }
    }
    Lookahead* tail_ahead = ahead;  // (a tail in several blocks: the first fetches its share)
    row_tiles(rows - done, [&]<std::size_t M>(std::integral_constant<std::size_t, M> m, std::size_t i) {
        run(m, done + i, 1, tail_ahead);
        tail_ahead = nullptr;
    });
}

}  // namespace detail

// K-block: a panel slice of nr x kc floats, 128 KB, stays in L2 while the row tiles run over
// it. A tile's step of K reads 2 vectors of it against 2 mr FMAs, which L2 feeds (64 bytes a
// cycle on Zen 4 and 5); slices of 32 KB, to stay in L1, cut K = 512 in two, and the second
// block reloads and stores every output tile again: SqueezeNet's classifier (169 x 512 -> 1000)
// 3-7% and 784 x 512 -> 128 4-9% slower than in one block, 3136 x 576 -> 96 6-8%; 2048 in
// blocks of 1024 or 512 within 2% of each other (docs/performance.md, "K blocks in L2").
inline constexpr std::size_t gemm_kc = 128 * 1024 / (nr * sizeof(float));
// The steps of K per block for a GEMM of `rows` rows over depth steps, at most kc_max a block:
// equal blocks (2048 -> 2 x 1024, 1100 -> 2 x 550, not 1024 + 76: a short last block would reload and store
// every output tile for very little work). K blocks keep a panel's slice in cache while the row
// tiles run over it; at most two tiles (a small batch through a Dense layer) have little to
// share, and there the blocks only cut each panel's weights into short streams, each
// restarting the prefetchers: one block (Dense 1280 -> 1000 at 8 rows, weights from L3:
// ~240 -> ~140 us; docs/performance.md, "Paired tiles, and a small batch").
constexpr std::size_t gemm_kstep(std::size_t rows, std::size_t depth, std::size_t kc_max) noexcept {
    const std::size_t blocks = rows <= 2 * mr ? 1 : (depth + kc_max - 1) / kc_max;
    return (depth + blocks - 1) / blocks;
}

// y = act(x W^T + b) for `rows` rows: x rows are d.in floats at stride ldx, y rows d.out
// floats at stride ldy (a convolution group writes a column slice of its NHWC output).
// Columns [c0, c1) only (c0 a multiple of lanes; an elementwise Act), for threads that share
// a layer by its outputs: a column is the same chain of FMAs in either vector of a panel, so
// its bits do not depend on the range it is computed in.
// fetch_ahead: fetch each panel's weights while the panel before it runs, for a caller whose
// weights come from memory (a network's 1x1 convolutions and large Winograd GEMMs, a Dense
// layer's weights beyond L2: they do not stay in cache from one pass to the next). Where they
// do stay — an MLP, the Keras CNN's Dense at batch 64 — the fetches only cost load slots: 1-4%
// slower.
template <class Act>
inline void gemm(DensePacking d, const float* packed, bool has_bias, const float* x, std::size_t ldx, std::size_t rows,
                 float* y, std::size_t ldy, const float* add = nullptr, std::size_t c0 = 0, std::size_t c1 = ~std::size_t{0},
                 bool fetch_ahead = false) noexcept {
    const float* bias_all = has_bias ? packed + d.weight_floats() : nullptr;
    const std::size_t kstep = gemm_kstep(rows, d.in, gemm_kc);
    const std::size_t p0 = c0 / nr, p1 = (std::min(c1, d.out) + nr - 1) / nr;
    detail::Lookahead ahead(fetch_ahead ? detail::gemm_tile_count(rows) : 0);
    for (std::size_t k0 = 0; k0 < d.in; k0 += kstep) {
        const std::size_t kc = std::min(kstep, d.in - k0);
        const bool first = k0 == 0, last = k0 + kc == d.in;
        for (std::size_t p = p0; p < p1; ++p) {
            const std::size_t col = std::max(p * nr, c0), ncols = std::min({p * nr + nr, d.out, c1}) - col;
            const float* pw = packed + (p * d.in + k0) * nr + (col - p * nr);
            const float* bias = bias_all ? bias_all + col : nullptr;
            // While this panel runs, the weights the next one reads (the next K block's first
            // panel after the last): a small map's few tiles per panel would otherwise wait
            // for each panel's weights from memory (docs/performance.md, "Weights ahead").
            if (fetch_ahead) ahead.next_panel(packed, p, p0, p1, k0, kc, kstep, d.in);
            detail::gemm_panel<>(rows, x + k0, ldx, pw, kc, y + col, ldy, ncols, bias, first, last, add ? add + col : nullptr,
                                 fetch_ahead ? &ahead : nullptr, detail::gemm_activation<Act>());
        }
    }
    if constexpr (Act::row_wise)
        for (std::size_t r = 0; r < rows; ++r) apply_rows<Act>(y + r * ldy, 1, d.out);
}

// A packing of W diag(g): each input k's weights (a row of nr in every panel) times g[k], the
// bias copied (squeeze-and-excitation's gate taken into the 1x1 convolution after it). share:
// the panels of one of several threads (the last share copies the bias).
inline void scale_packed_inputs(DensePacking d, const float* packed, const float* g, float* out, Share share = {}) noexcept {
    const auto [p0, p1] = share.range(d.panels());
    for (std::size_t p = p0; p < p1; ++p)
        for (std::size_t k = 0; k < d.in; ++k) {
            const vfloat gk(g[k]);
            const std::size_t at = (p * d.in + k) * nr;
            TYPENET_UNROLL
            for (std::size_t j = 0; j < nr; j += lanes) storeu(out + at + j, loadu(packed + at + j) * gk);
        }
    if (share.index + 1 == share.count) std::copy_n(packed + d.weight_floats(), d.bias_floats(), out + d.weight_floats());
}

// y[rows][out] = act(x[rows][in] W^T + b), rows packed back to back.
template <class Act>
inline void dense_gemm(DensePacking d, const float* packed, bool has_bias, const float* x, std::size_t rows,
                       float* y, const float* add = nullptr) noexcept {
    // Weights beyond L2 (a classifier's 5 MB) come from L3 or memory on every call: the next
    // panel's fetched while a panel runs (MobileNetV2's classifier at 8 rows, weights evicted
    // by other work: ~165 -> ~138 us).
    const bool ahead = weights_stream(d.weight_floats() * sizeof(float));
    if constexpr (Act::row_wise) {
        gemm<linear>(d, packed, has_bias, x, d.in, rows, y, d.out, add, 0, ~std::size_t{0}, ahead);
        apply_rows<Act>(y, rows, d.out);  // contiguous rows: the multi-row path
    } else {
        gemm<Act>(d, packed, has_bias, x, d.in, rows, y, d.out, add, 0, ~std::size_t{0}, ahead);
    }
}

}  // namespace typenet::kernels

namespace typenet::inline TYPENET_ISA_NAMESPACE::kernels {

// y[rows][Out] = act(x[rows][In] W^T + b) with sizes known at compile time, for Dense on each
// step of a sequence: R rows at a time share each weight vector, and every row is the same
// chain (k ascending from zero, then the bias, then act) whatever R and however many rows a
// call has, so one step and a block of steps round alike. No K blocking: a step's weights
// are read once per R rows.
template <class Act, std::size_t In, std::size_t Out>
inline void dense_rows(const float* packed, const float* x, std::size_t rows, float* y, const float* add = nullptr) noexcept {
    constexpr DensePacking d{In, Out};
    constexpr std::size_t R = mr >= 8 ? 4 : 2;
    const float* bias = packed + d.weight_floats();
#if XSIMD_WITH_AVX512F
    constexpr bool narrow = In > 1 && In <= lanes && (In & (In - 1)) == 0, whole = In % lanes == 0 && In <= 4 * lanes;
    if constexpr (is_avx512 && Out == 1 && (narrow || whole) && !Act::row_wise) {
        // One output over In = 2, 4, 8 or 16 values, or 32, 48, 64 (a recurrent layer's last
        // Dense): a block of `lanes` rows is T vectors — the block's values times the weights
        // (narrow), or each row's chain of In / lanes FMAs (whole) — reduced together by pair
        // sums, each stage adding adjacent lanes of two vectors into one, so every row is the
        // same fixed tree wherever it sits in a call, and a block costs a few shuffles per row
        // instead of a horizontal sum per row (an LSTM 32 amp: 2.4 ns a sample, 5% of it).
        constexpr std::size_t T = narrow ? In : lanes, V = whole ? In / lanes : 1;
        alignas(alignment) float w[V * lanes];  // narrow: the weights once per row a vector holds
        for (std::size_t k = 0; k < V * lanes; ++k) w[k] = packed[(narrow ? k % In : k) * nr];
        vfloat wv[V];
        TYPENET_UNROLL
        for (std::size_t v = 0; v < V; ++v) wv[v] = load(w + v * lanes);
        // Vector v of a block of n rows at xb: its values times the weights (narrow), or row v's
        // chain of V FMAs (whole); zero past the block.
        const auto products = [&](std::size_t v, std::size_t n, const float* xb) {
            if constexpr (narrow) {
                const std::size_t have = n * In > v * lanes ? std::min(lanes, n * In - v * lanes) : 0;
                return (have == lanes ? loadu(xb + v * lanes) : load_n(xb + v * lanes, have)) * wv[0];
            } else {
                if (v >= n) return vfloat(0.f);
                vfloat r = loadu(xb + v * In) * wv[0];
                TYPENET_UNROLL
                for (std::size_t u = 1; u < V; ++u) r = kernels::fma(loadu(xb + v * In + u * lanes), wv[u], r);
                return r;
            }
        };
        for (std::size_t i = 0; i < rows; i += lanes) {
            const std::size_t n = std::min(lanes, rows - i);
            const float* xb = x + i * In;
            if (n == 1) {
                // One row (a stream's step): the same tree of adjacent pairs within its vector,
                // each stage the vector plus its lanes swapped at distance 1, 2, 4, 8 — not a
                // block's tree over mostly zero vectors (a GRU 16 amp's step: 15 pair sums).
                vfloat r = products(0, 1, xb);
                if constexpr (T >= 2) r += vfloat(_mm512_permute_ps(r, 0xb1));
                if constexpr (T >= 4) r += vfloat(_mm512_permute_ps(r, 0x4e));
                if constexpr (T >= 8) r += vfloat(_mm512_shuffle_f32x4(r, r, 0xb1));
                if constexpr (T >= 16) r += vfloat(_mm512_shuffle_f32x4(r, r, 0x4e));
                vfloat sum = r + vfloat(bias[0]);
                if (add) sum += vfloat(add[i]);
                store_n(y + i, Act::apply(sum), 1);
                continue;
            }
            vfloat t[T];
            TYPENET_UNROLL
            for (std::size_t v = 0; v < T; ++v) t[v] = products(v, n, xb);
            TYPENET_UNROLL
            for (std::size_t m = T; m > 1; m /= 2)
                TYPENET_UNROLL
                for (std::size_t j = 0; j < m / 2; ++j) t[j] = pair_sums(t[2 * j], t[2 * j + 1]);
            vfloat sum = t[0] + vfloat(bias[0]);
            if (add) sum += load_n(add + i, n);
            store_n(y + i, Act::apply(sum), n);
        }
        return;
    }
#endif
    if constexpr (Out == 1 && In <= 4 * lanes && !Act::row_wise) {
        // One output (an audio model's last layer): a row is a dot product along its In
        // values, then one fixed tree over the lanes (xsimd::hadd), then the bias. The
        // rows are independent, so they overlap instead of each waiting on a chain of In FMAs
        // into one mostly empty vector; every row rounds alike wherever it sits in a call.
        constexpr std::size_t V = (In + lanes - 1) / lanes, tail = In - (V - 1) * lanes;
        alignas(alignment) float w[V * lanes] = {};
        for (std::size_t k = 0; k < In; ++k) w[k] = packed[k * nr];
        vfloat wv[V];
        TYPENET_UNROLL
        for (std::size_t v = 0; v < V; ++v) wv[v] = load(w + v * lanes);
        alignas(alignment) float out[lanes] = {};
        for (std::size_t i = 0; i < rows; i += lanes) {
            const std::size_t n = std::min(lanes, rows - i);
            for (std::size_t r = 0; r < n; ++r) {
                const float* xr = x + (i + r) * In;
                vfloat acc = (tail == lanes ? loadu(xr + (V - 1) * lanes) : load_n(xr + (V - 1) * lanes, tail)) * wv[V - 1];
                TYPENET_UNROLL
                for (std::size_t v = 0; v + 1 < V; ++v) acc = kernels::fma(loadu(xr + v * lanes), wv[v], acc);
                float sum = xsimd::hadd(acc) + bias[0];
                if (add) sum += add[i + r];
                out[r] = sum;
            }
            store_n(y + i, Act::apply(load(out)), n);
        }
        return;
    }
    auto block = [&]<std::size_t M>(std::integral_constant<std::size_t, M>, std::size_t i) {
        for (std::size_t p = 0; p < d.panels(); ++p) {
            const float* pw = packed + p * In * nr;
            const std::size_t col = p * nr, ncols = std::min(nr, Out - col);
            vfloat acc[M][2];
            TYPENET_UNROLL
            for (std::size_t r = 0; r < M; ++r) acc[r][0] = acc[r][1] = vfloat(0.f);
            for (std::size_t k = 0; k < In; ++k) {
                const vfloat w0 = load(pw + k * nr);
                const vfloat w1 = ncols > lanes ? load(pw + k * nr + lanes) : vfloat(0.f);
                TYPENET_UNROLL
                for (std::size_t r = 0; r < M; ++r) {
                    const vfloat xb(x[(i + r) * In + k]);
                    acc[r][0] = kernels::fma(w0, xb, acc[r][0]);
                    if (ncols > lanes) acc[r][1] = kernels::fma(w1, xb, acc[r][1]);
                }
            }
            const std::size_t n0 = std::min(lanes, ncols), n1 = ncols > lanes ? ncols - lanes : 0;
            TYPENET_UNROLL
            for (std::size_t r = 0; r < M; ++r) {
                vfloat a0 = acc[r][0] + load(bias + col), a1 = acc[r][1] + load(bias + col + lanes);
                if (add) {
                    a0 += load_n(add + (i + r) * Out + col, n0);
                    if (n1) a1 += load_n(add + (i + r) * Out + col + lanes, n1);
                }
                if constexpr (!Act::row_wise) {
                    a0 = Act::apply(a0);
                    a1 = Act::apply(a1);
                }
                store_n(y + (i + r) * Out + col, a0, n0);
                if (n1) store_n(y + (i + r) * Out + col + lanes, a1, n1);
            }
        }
    };
    // (Counted down: with `i < rows` g++ 12 warned, in a bidirectional GRU's Dense inlined into
    // a one-sample forward, that an iteration ~2^64 / In floats on overflows the index.)
    std::size_t i = 0;
    for (std::size_t blocks = rows / R; blocks > 0; --blocks, i += R) block(std::integral_constant<std::size_t, R>{}, i);
    for (std::size_t rest = rows % R; rest > 0; --rest, ++i) block(std::integral_constant<std::size_t, 1>{}, i);
    if constexpr (Act::row_wise) apply_rows<Act>(y, rows, Out);
}

}  // namespace typenet::kernels
