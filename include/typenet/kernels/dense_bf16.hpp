// Dense with bf16 weights: half the bytes of fp32, read at the same speed, so a layer whose
// time is its weights streaming from cache (batch 1) takes about half the time.
//
// Weights are rounded to bf16 (nearest, ties to even) at pack time and packed in panels of nr
// outputs, two input features per 32-bit word:
//
//   word[p][kp][j] = bf16(W[p * nr + j][2 kp + 1]) << 16 | bf16(W[p * nr + j][2 kp])
//
// Inputs are rounded to bf16 the same way, per call, into the same pairs. The products are
// accumulated in fp32, pair by pair: acc += w_odd x_odd, then acc += w_even x_even, each one
// FMA rounding — what AVX512-BF16's vdpbf16ps computes (a bf16 x bf16 product is exact in
// fp32). With AVX512-BF16 one vdpbf16ps does both; elsewhere the pairs are widened with two
// shifts/masks and two FMAs, with the same result bit for bit (denormals aside: vdpbf16ps
// flushes them). The bias, residual and activation are fp32, in the epilogue.
//
// The error against fp32: each weight and input carries a relative rounding error of at most
// 2^-9, so a product up to ~2^-8; sums of many such products with mixed signs mostly cancel
// them (docs/precision-and-threads.md has the measured errors).
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "dense.hpp"
#include "epilogue.hpp"
#include "share.hpp"
#include "simd.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::kernels {

// Whether this build multiplies bf16 pairs in one instruction.
inline constexpr bool has_bf16_dot =
#if defined(__AVX512BF16__) && XSIMD_WITH_AVX512F
    is_avx512;
#else
    false;
#endif

// fp32 to bf16, round to nearest even; NaN stays NaN (quiet).
constexpr std::uint16_t to_bf16(float f) noexcept {
    const std::uint32_t u = std::bit_cast<std::uint32_t>(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return std::uint16_t((u >> 16) | 0x40);
    return std::uint16_t((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
constexpr float from_bf16(std::uint16_t h) noexcept { return std::bit_cast<float>(std::uint32_t(h) << 16); }
constexpr std::uint32_t bf16_pair(float even, float odd) noexcept {
    return std::uint32_t(to_bf16(odd)) << 16 | to_bf16(even);
}
// fp32 to bf16, round to nearest, ties away from zero: the rounding of a recurrent layer's state
// inside its bf16 hidden product (kernels/recurrent.hpp), where the step waits on it — one
// integer addition (2^15 to the bits, then the upper half) instead of three dependent ones: 4
// cycles of every step's critical path. The same bound as to nearest even (half a unit in the
// last place); the two differ only on exact ties (the lower 16 bits exactly 0x8000). NaN stays
// NaN (quiet).
constexpr std::uint16_t to_bf16_away(float f) noexcept {
    const std::uint32_t u = std::bit_cast<std::uint32_t>(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return std::uint16_t((u >> 16) | 0x40);
    return std::uint16_t((u + 0x8000u) >> 16);
}
constexpr std::uint32_t bf16_pair_away(float even, float odd) noexcept {
    return std::uint32_t(to_bf16_away(odd)) << 16 | to_bf16_away(even);
}

struct Bf16Packing {
    std::size_t in, out;
    constexpr std::size_t pairs() const noexcept { return (in + 1) / 2; }
    constexpr std::size_t panels() const noexcept { return (out + nr - 1) / nr; }
    constexpr std::size_t weight_words() const noexcept { return panels() * pairs() * nr; }
    constexpr std::size_t bias_floats() const noexcept { return panels() * nr; }
    // In floats (a word is one float's size); the bias follows the weights.
    constexpr std::size_t floats() const noexcept { return weight_words() + bias_floats(); }
};

// w: [out][in] row-major (PyTorch's Linear layout); b: [out] or null (zeros).
inline void dense_pack_bf16(Bf16Packing d, const float* w, const float* b, float* packed) noexcept {
    auto* words = reinterpret_cast<std::uint32_t*>(packed);
    for (std::size_t p = 0; p < d.panels(); ++p)
        for (std::size_t kp = 0; kp < d.pairs(); ++kp)
            for (std::size_t j = 0; j < nr; ++j) {
                const std::size_t o = p * nr + j, k = 2 * kp;
                const float even = o < d.out ? w[o * d.in + k] : 0.f;
                const float odd = o < d.out && k + 1 < d.in ? w[o * d.in + k + 1] : 0.f;
                words[(p * d.pairs() + kp) * nr + j] = bf16_pair(even, odd);
            }
    float* bias = packed + d.weight_words();
    std::fill_n(bias, d.bias_floats(), 0.f);
    if (b) std::copy_n(b, d.out, bias);
}

// Inputs to pairs: n values of x into (n + 1) / 2 words (an odd n's last pair has a zero).
// In memory the pairs are simply the bf16 values in order (little-endian: the even one in the
// low half), so this is a conversion of n floats to n bf16 values, 16 at a time with AVX-512:
// to nearest even (to_bf16; vcvtneps2bf16 where the CPU has it), or with Away ties away from
// zero (to_bf16_away: a recurrent layer's state).
template <bool Away = false>
inline void to_bf16_pairs(const float* x, std::size_t n, std::uint32_t* pairs) noexcept {
    auto* h = reinterpret_cast<std::uint16_t*>(pairs);
    std::size_t k = 0;
#if XSIMD_WITH_AVX512F
    if constexpr (is_avx512) {
        for (; k + 16 <= n; k += 16) {
#if defined(__AVX512BF16__)
            if constexpr (!Away) {
                _mm256_storeu_si256(reinterpret_cast<__m256i*>(h + k), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(x + k)));
                continue;
            }
#endif
            const __m512i u = _mm512_castps_si512(_mm512_loadu_ps(x + k));
            // The bits plus half a unit in the last place (less one unless the kept lowest bit is
            // set, for ties to even); the upper half is the bf16 value. A NaN keeps its upper
            // half, quieted.
            const __m512i half = Away ? _mm512_set1_epi32(0x8000)
                                      : _mm512_add_epi32(_mm512_set1_epi32(0x7fff), _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1)));
            __m512i r = _mm512_srli_epi32(_mm512_add_epi32(u, half), 16);
            const __mmask16 nan = _mm512_cmp_ps_mask(_mm512_castsi512_ps(u), _mm512_castsi512_ps(u), _CMP_UNORD_Q);
            r = _mm512_mask_mov_epi32(r, nan, _mm512_or_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(0x40)));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(h + k), _mm512_cvtepi32_epi16(r));
        }
    }
#endif
    for (std::size_t i = 0, rest = n - k; i < rest; ++i) h[k + i] = Away ? to_bf16_away(x[k + i]) : to_bf16(x[k + i]);
    if (n % 2) h[n] = 0;
}
inline void to_bf16_pairs_away(const float* x, std::size_t n, std::uint32_t* pairs) noexcept { to_bf16_pairs<true>(x, n, pairs); }

namespace detail {

using vword = xsimd::batch<std::uint32_t, arch>;

// Each lane of x rounded to bf16 as to_bf16 does (nearest, ties to even; a NaN stays a quiet
// NaN), the bf16 in the upper half of the word, the lower half zero. The choice is made on
// float lanes: xsimd 8.1's select of 32-bit integer lanes on AVX512BW does not compile at -O0
// (its 8- and 16-bit branches cast the batch in GCC's macro forms of the blend intrinsics).
inline vword bf16_upper(vfloat x) noexcept {
    const vword u = xsimd::bitwise_cast<vword>(x), high(0xffff0000u);
    const vword rounded = (u + vword(0x7fffu) + ((u >> 16) & vword(1u))) & high;
    const vfloat quiet = xsimd::bitwise_cast<vfloat>((u | vword(0x00400000u)) & high);
    return xsimd::bitwise_cast<vword>(xsimd::select(x != x, quiet, xsimd::bitwise_cast<vfloat>(rounded)));
}

// A vector's lanes rounded to bf16 pairs by to_bf16_away (a recurrent layer's state), as
// to_bf16_pairs_away writes them: word k holds lanes 2k and 2k + 1, for k < lanes / 2 (the
// upper words zero).
inline vword bf16_pairs_away_of(vfloat x) noexcept {
    alignas(alignment) float v[lanes];
    alignas(alignment) std::uint32_t words[lanes] = {};
    x.store_aligned(v);
    kernels::to_bf16_pairs_away(v, lanes, words);
    return vword::load_aligned(words);
}

// acc += w_odd * x_odd, then acc += w_even * x_even, lane by lane (w: nr/2-lane words, x: one
// word broadcast).
[[gnu::always_inline]] inline vfloat dot_bf16(vfloat acc, vword w, vword x) noexcept {
#if defined(__AVX512BF16__) && XSIMD_WITH_AVX512F
    // In place, by asm (as vpdpbusd in dense_int8.hpp: the intrinsic makes g++ 12 spill a
    // register tile's accumulators on every step).
    __m512 a = acc;
    asm("vdpbf16ps %2, %1, %0" : "+v"(a) : "v"(__m512i(w)), "v"(__m512i(x)));
    return a;
#else
    const vword high(0xffff0000u);
    acc = kernels::fma(xsimd::bitwise_cast<vfloat>(w & high), xsimd::bitwise_cast<vfloat>(x & high), acc);
    return kernels::fma(xsimd::bitwise_cast<vfloat>(w << 16), xsimd::bitwise_cast<vfloat>(x << 16), acc);
#endif
}
inline vword load_words(const std::uint32_t* p) noexcept { return vword::load_aligned(p); }

// M rows x V vectors of outputs over pairs [0, kc) of one panel; x rows are ldx words apart.
// ahead: the next panel's weights to prefetch along the way, a share per tile (null: none).
template <std::size_t M, std::size_t V>
inline void bf16_micro(const std::uint32_t* x, std::size_t ldx, const std::uint32_t* pw, std::size_t kc, float* y,
                       std::size_t ldy, std::size_t ncols, const float* bias, bool first, bool last, const float* add,
                       bool clamp, Lookahead* ahead = nullptr) noexcept {
    vfloat acc[M][2];
    const std::size_t n0 = std::min(lanes, ncols), n1 = ncols > lanes ? ncols - lanes : 0;
    TYPENET_UNROLL
    for (std::size_t i = 0; i < M; ++i) {
        if (first) {
            acc[i][0] = acc[i][1] = vfloat(0.f);
        } else {
            acc[i][0] = load_n(y + i * ldy, n0);
            acc[i][1] = n1 ? load_n(y + i * ldy + lanes, n1) : vfloat(0.f);
        }
    }
    auto step = [&](std::size_t k) __attribute__((always_inline)) {
        const vword w0 = load_words(pw + k * nr);
        const vword w1 = V == 2 ? load_words(pw + k * nr + lanes) : vword(0u);
        TYPENET_UNROLL
        for (std::size_t i = 0; i < M; ++i) {
            const vword xb(x[i * ldx + k]);
            acc[i][0] = dot_bf16(acc[i][0], w0, xb);
            if constexpr (V == 2) acc[i][1] = dot_bf16(acc[i][1], w1, xb);
        }
    };
    steps_fetching(ahead, kc, step);
    TYPENET_UNROLL
    for (std::size_t i = 0; i < M; ++i)
        store_row(y + i * ldy, acc[i][0], acc[i][1], n0, n1, last ? bias : nullptr, last && add ? add + i * ldy : nullptr, last && clamp);
}

// One sample, G panels at a time, each output's pairs in S = 4 / G chains (pair k in chain
// k % S, the chains added at the end): eight accumulators in flight hide vdpbf16ps' latency
// even for a one-panel layer. (So one row of a layer with fewer than four panels sums in
// another order than a batch's rows, as the fp32 GEMV does.)
template <class Act, std::size_t G>
inline void bf16_gemv_panels(const std::uint32_t* x, const std::uint32_t* w, const float* bias, float* y, Bf16Packing d,
                             std::size_t p0, const float* add) noexcept {
    constexpr std::size_t S = std::max<std::size_t>(1, 4 / G);
    vfloat acc[S][G][2];
    TYPENET_UNROLL
    for (std::size_t s = 0; s < S; ++s)
        TYPENET_UNROLL
        for (std::size_t g = 0; g < G; ++g) acc[s][g][0] = acc[s][g][1] = vfloat(0.f);
    const std::size_t pairs = d.pairs();
    auto step = [&](std::size_t k, std::size_t s) {
        const vword xb(x[k]);
        TYPENET_UNROLL
        for (std::size_t g = 0; g < G; ++g) {
            // (No software prefetch: 12 pairs ahead was the best of 4-24 on a Zen 4 VM; on a Zen 5
            // the hardware prefetchers alone stream faster — the MLP at batch 1 1.63-1.67x ->
            // 1.69-1.71x fp32 in bench_precision, session 26 — and a burst of each stream's
            // first lines before the loop measured no better.)
            const std::uint32_t* pw = w + ((p0 + g) * pairs + k) * nr;
            acc[s][g][0] = dot_bf16(acc[s][g][0], load_words(pw), xb);
            acc[s][g][1] = dot_bf16(acc[s][g][1], load_words(pw + lanes), xb);
        }
    };
    std::size_t k = 0;
    for (; k + S <= pairs; k += S)
        TYPENET_UNROLL
        for (std::size_t s = 0; s < S; ++s) step(k + s, s);
    for (std::size_t s = 0; k < pairs; ++k, ++s) step(k, s);
    TYPENET_UNROLL
    for (std::size_t g = 0; g < G; ++g) {
        const std::size_t col = (p0 + g) * nr, ncols = std::min(nr, d.out - col);
        const vfloat a0 = sum_tree<S>([&](std::size_t s) { return acc[s][g][0]; });
        const vfloat a1 = sum_tree<S>([&](std::size_t s) { return acc[s][g][1]; });
        store_row(y + col, a0, a1, std::min(lanes, ncols), ncols > lanes ? ncols - lanes : 0, bias + col, add ? add + col : nullptr,
                  clamps_in_registers<Act>);
    }
}

}  // namespace detail

// A gate per input feature taken into packed bf16 weights (squeeze-and-excitation before a 1x1
// convolution: passes/gates.hpp): each weight times its input's gate, rounded to bf16 again;
// the bias as it is. share: one thread's panels (the last share also copies the bias).
inline void scale_packed_pairs(Bf16Packing d, const float* packed, const float* g, float* out, Share share = {}) noexcept {
    const auto* w = reinterpret_cast<const std::uint32_t*>(packed);
    auto* o = reinterpret_cast<std::uint32_t*>(out);
    const auto [p0, p1] = share.range(d.panels());
    const detail::vword high(0xffff0000u);
    for (std::size_t p = p0; p < p1; ++p)
        for (std::size_t kp = 0; kp < d.pairs(); ++kp) {
            const vfloat even(g[2 * kp]), odd(2 * kp + 1 < d.in ? g[2 * kp + 1] : 0.f);
            const std::size_t at = (p * d.pairs() + kp) * nr;
            TYPENET_UNROLL
            for (std::size_t j = 0; j < nr; j += lanes) {
                const detail::vword v = detail::vword::load_unaligned(w + at + j);
                const detail::vword e = detail::bf16_upper(xsimd::bitwise_cast<vfloat>(v << 16) * even);
                const detail::vword q = detail::bf16_upper(xsimd::bitwise_cast<vfloat>(v & high) * odd);
                (q | (e >> 16)).store_unaligned(o + at + j);
            }
        }
    if (share.index + 1 == share.count) std::copy_n(packed + d.weight_words(), d.bias_floats(), out + d.weight_words());
}

// Scratch for `rows` rows: their inputs as pairs, in floats.
inline constexpr std::size_t bf16_scratch_floats(Bf16Packing d, std::size_t rows) noexcept {
    return round_up(d.pairs(), lanes) * rows;
}

// y = act(x W^T + b [+ add]) for `rows` rows of d.in floats (ldx apart) into rows ldy apart.
// Rows of a batch sum each output's pairs in one chain, in order; a row alone in four chains
// (bf16_gemv_panels), as the fp32 kernels do — unless rows_alike: the steps of a sequence,
// whose results must not depend on how many steps a call has (streaming, bit for bit).
template <class Act>
inline void dense_bf16(Bf16Packing d, const float* packed, const float* x, std::size_t ldx, std::size_t rows, float* y,
                       std::size_t ldy, float* scratch, const float* add = nullptr, bool rows_alike = false) noexcept {
    const auto* w = reinterpret_cast<const std::uint32_t*>(packed);
    const float* bias_all = packed + d.weight_words();
    auto* xw = reinterpret_cast<std::uint32_t*>(scratch);
    const std::size_t ldw = round_up(d.pairs(), lanes);
    for (std::size_t r = 0; r < rows; ++r) to_bf16_pairs(x + r * ldx, d.in, xw + r * ldw);
    if (rows == 1 && !rows_alike) {
        detail::gemv_panel_groups<Act>(d.panels(), d.out, y, [&]<std::size_t G>(std::size_t p) {
            detail::bf16_gemv_panels<Act, G>(xw, w, bias_all, y, d, p, add);
        });
        return;
    }
    // K blocks of pairs, as the fp32 GEMM's (gemm_kstep): a panel's slice (nr words per pair)
    // stays in L1 while row blocks pass.
    const std::size_t kstep = gemm_kstep(rows, d.pairs(), 32 * 1024 / (nr * sizeof(std::uint32_t)));
    // Weights beyond L2 come from L3 or memory on every call: the next panel's fetched while a
    // panel runs, as the fp32 Dense does (dense_gemm).
    const bool fetch = weights_stream(d.weight_words() * sizeof(std::uint32_t));
    detail::Lookahead ahead(fetch ? (rows + mr - 1) / mr : 0);
    for (std::size_t k0 = 0; k0 < d.pairs(); k0 += kstep) {
        const std::size_t kc = std::min(kstep, d.pairs() - k0);
        const bool first = k0 == 0, last = k0 + kc == d.pairs();
        for (std::size_t p = 0; p < d.panels(); ++p) {
            const std::uint32_t* pw = w + (p * d.pairs() + k0) * nr;
            const std::size_t col = p * nr, ncols = std::min(nr, d.out - col);
            if (fetch) ahead.next_panel(w, p, 0, d.panels(), k0, kc, kstep, d.pairs());
            for (std::size_t i = 0; i < rows; i += mr) {
                const std::size_t m = std::min(mr, rows - i);
                float* yb = y + i * ldy + col;
                const float* ab = add && last ? add + i * ldy + col : nullptr;
                detail::Lookahead* a = fetch ? &ahead : nullptr;  // (a tail in several blocks: the first fetches its share)
                detail::row_blocks(m, [&]<std::size_t M>(std::integral_constant<std::size_t, M>, std::size_t r) {
                    const std::uint32_t* xb = xw + (i + r) * ldw + k0;
                    if (ncols > lanes)
                        detail::bf16_micro<M, 2>(xb, ldw, pw, kc, yb + r * ldy, ldy, ncols, bias_all + col, first, last,
                                                 ab ? ab + r * ldy : nullptr, detail::clamps_in_registers<Act>, a);
                    else
                        detail::bf16_micro<M, 1>(xb, ldw, pw, kc, yb + r * ldy, ldy, ncols, bias_all + col, first, last,
                                                 ab ? ab + r * ldy : nullptr, detail::clamps_in_registers<Act>, a);
                    a = nullptr;
                });
                if (last) detail::apply_tile<Act>(yb, m, ldy, ncols);
            }
        }
    }
    if constexpr (Act::row_wise)
        for (std::size_t r = 0; r < rows; ++r) apply_rows<Act>(y + r * ldy, 1, d.out);
}

}  // namespace typenet::kernels
