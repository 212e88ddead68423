// Dense with int8 weights: a quarter of the bytes of fp32, and with AVX512-VNNI four products
// per lane per instruction (vpdpbusd: unsigned 8-bit by signed 8-bit, summed into int32).
//
// The scheme (docs/precision-and-threads.md):
//   weights   symmetric, per output: s_w[j] = max_k |W[j][k]| / 127, q_w = round(W / s_w),
//             at pack time (round to nearest even);
//   inputs    symmetric, per row and call: s_x = max_k |x[k]| / 127, q_x = round(x / s_x) in
//             [-127, 127], stored offset by 128 as unsigned bytes (what vpdpbusd takes);
//   sums      exact, in int32: acc[j] = sum_k (q_x[k] + 128) q_w[j][k], less the 128 sum_k q_w[j][k]
//             computed at pack time;
//   outputs   y[j] = acc[j] * (s_x s_w[j]) + b[j] (one FMA), then the residual and activation
//             in fp32, as in every epilogue.
// The integer sums are exact, so every instruction set gives the same accumulators: with VNNI
// one vpdpbusd per four inputs, elsewhere the bytes widened to int32 products (a reference,
// not fast). A row whose largest |x| is not finite gives NaN outputs.
//
// Packing: panels of nr outputs, four inputs per 32-bit word:
//   word[p][kq][j] = bytes q_w[p nr + j][4 kq .. 4 kq + 3] (zero past the end)
// then per output: the int32 correction, the fp32 scale s_w, the fp32 bias.
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "dense.hpp"
#include "epilogue.hpp"
#include "simd.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::kernels {

inline constexpr bool has_int8_dot =
#if defined(__AVX512VNNI__) && XSIMD_WITH_AVX512F
    is_avx512;
#else
    false;
#endif

struct Int8Packing {
    std::size_t in, out;
    constexpr std::size_t quads() const noexcept { return (in + 3) / 4; }
    constexpr std::size_t panels() const noexcept { return (out + nr - 1) / nr; }
    constexpr std::size_t weight_words() const noexcept { return panels() * quads() * nr; }
    constexpr std::size_t column_floats() const noexcept { return panels() * nr; }
    // In floats (a word is one float's size): weights, corrections, scales, bias.
    constexpr std::size_t floats() const noexcept { return weight_words() + 3 * column_floats(); }
};

// w: [out][in] row-major (PyTorch's Linear layout); b: [out] or null (zeros).
inline void dense_pack_int8(Int8Packing d, const float* w, const float* b, float* packed) noexcept {
    auto* words = reinterpret_cast<std::uint32_t*>(packed);
    auto* correction = reinterpret_cast<std::int32_t*>(packed + d.weight_words());
    float* scale = packed + d.weight_words() + d.column_floats();
    float* bias = scale + d.column_floats();
    std::fill_n(packed, d.floats(), 0.f);
    for (std::size_t o = 0; o < d.out; ++o) {
        float m = 0.f;
        for (std::size_t k = 0; k < d.in; ++k) m = std::max(m, std::abs(w[o * d.in + k]));
        const float s = m > 0.f ? m / 127.f : 0.f, inv = m > 0.f ? 127.f / m : 0.f;
        std::int32_t sum = 0;
        const std::size_t p = o / nr, j = o % nr;
        for (std::size_t k = 0; k < d.in; ++k) {
            const auto q = std::int32_t(std::clamp(std::nearbyint(w[o * d.in + k] * inv), -127.f, 127.f));
            sum += q;
            words[(p * d.quads() + k / 4) * nr + j] |= std::uint32_t(std::uint8_t(std::int8_t(q))) << (8 * (k % 4));
        }
        correction[o] = 128 * sum;
        scale[o] = s;
        if (b) bias[o] = b[o];
    }
}

// The largest |x| of n floats; NaN when they hold a NaN or an infinity.
inline float largest_magnitude(const float* x, std::size_t n) noexcept {
    // The largest |x| as the largest of the bit patterns with the sign cleared, compared as
    // unsigned integers: ordered like the magnitudes, infinity above every finite value and a
    // NaN above infinity, so one maximum finds the scale and both kinds of poison (four chains:
    // one chain of floating-point maxima and a NaN check took 74 ns for 784 inputs).
    using vuint = xsimd::batch<std::uint32_t, arch>;
    const vuint magnitude(0x7fffffffu);
    vuint vm[4] = {vuint(0u), vuint(0u), vuint(0u), vuint(0u)};
    std::size_t j = 0;
    for (; j + 4 * lanes <= n; j += 4 * lanes)
        TYPENET_UNROLL
        for (std::size_t c = 0; c < 4; ++c) vm[c] = xsimd::max(vm[c], xsimd::bitwise_cast<vuint>(loadu(x + j + c * lanes)) & magnitude);
    for (; j + lanes <= n; j += lanes) vm[0] = xsimd::max(vm[0], xsimd::bitwise_cast<vuint>(loadu(x + j)) & magnitude);
    const vuint vmax = xsimd::max(xsimd::max(vm[0], vm[1]), xsimd::max(vm[2], vm[3]));
    std::uint32_t bits;
#if XSIMD_WITH_AVX512F
    if constexpr (is_avx512) bits = _mm512_reduce_max_epu32(vmax);  // a shuffle tree: the scalar loop over 16 lanes was a third of this function
    else
#endif
    {
        alignas(alignment) std::uint32_t lanes_max[lanes];
        vmax.store_aligned(lanes_max);
        bits = *std::max_element(lanes_max, lanes_max + lanes);
    }
    for (std::size_t i = 0, rest = n - j; i < rest; ++i) bits = std::max(bits, std::bit_cast<std::uint32_t>(x[j + i]) & 0x7fffffffu);
    return bits >= 0x7f800000u ? std::numeric_limits<float>::quiet_NaN() : std::bit_cast<float>(bits);
}

// n inputs to unsigned bytes q_x + 128 with the scale m / 127 (m: largest_magnitude of the
// inputs, or of a whole image they are part of), quads zero-padded with 128 (q_x = 0). With
// flip = 0, the bytes of q_x itself (two's complement: conv_int8.hpp's broadcast loop): each
// byte is q_x's XOR flip.
inline void quantize_with(const float* x, std::size_t n, float m, std::uint8_t* q, std::uint8_t flip = 0x80) noexcept {
    const float inv = m > 0.f ? 127.f / m : 0.f;
    std::size_t k = 0;
#if XSIMD_WITH_AVX512F
    if constexpr (is_avx512) {
        const __m512 vinv = _mm512_set1_ps(inv), lo = _mm512_set1_ps(-127.f), hi = _mm512_set1_ps(127.f);
        auto ints = [&](std::size_t at) {  // round to nearest even
            return _mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(_mm512_loadu_ps(x + at), vinv), lo), hi));
        };
        // With a finite scale every |x| / s_x rounds to at most 127, which the saturating packs
        // below keep: the clamps are for the rest (an infinite 127 / m, a NaN row).
        const bool finite = m < std::numeric_limits<float>::infinity() && inv < std::numeric_limits<float>::infinity();
        auto ints_unclamped = [&](std::size_t at) { return _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + at), vinv)); };
        // 64 at a time: two saturating packs leave, in each 128-bit lane l, the bytes of lane l
        // of the four vectors in turn; one dword permutation puts them in order, and flipping
        // the top bit adds 128.
        const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
        auto pack64 = [&](std::size_t at, auto&& to_ints) {
            const __m512i words =
                _mm512_packs_epi16(_mm512_packs_epi32(to_ints(at), to_ints(at + 16)), _mm512_packs_epi32(to_ints(at + 32), to_ints(at + 48)));
            _mm512_storeu_si512(q + at, _mm512_xor_si512(_mm512_permutexvar_epi32(order, words), _mm512_set1_epi8(char(flip))));
        };
        if (finite)
            for (; k + 64 <= n; k += 64) pack64(k, ints_unclamped);
        else
            for (; k + 64 <= n; k += 64) pack64(k, ints);
        for (; k + 16 <= n; k += 16)
            _mm_storeu_si128(reinterpret_cast<__m128i*>(q + k), _mm_xor_si128(_mm512_cvtepi32_epi8(ints(k)), _mm_set1_epi8(char(flip))));
    }
#elif XSIMD_WITH_AVX2
    {
        // The same 32 at a time: the packs work within 128-bit lanes, leaving lane l's four
        // bytes of each vector in turn; one dword permutation puts them in order.
        const __m256 vinv = _mm256_set1_ps(inv), lo = _mm256_set1_ps(-127.f), hi = _mm256_set1_ps(127.f);
        auto ints = [&](std::size_t at) {  // round to nearest even
            return _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(_mm256_loadu_ps(x + at), vinv), lo), hi));
        };
        const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
        for (; k + 32 <= n; k += 32) {
            const __m256i words =
                _mm256_packs_epi16(_mm256_packs_epi32(ints(k), ints(k + 8)), _mm256_packs_epi32(ints(k + 16), ints(k + 24)));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + k),
                                _mm256_xor_si256(_mm256_permutevar8x32_epi32(words, order), _mm256_set1_epi8(char(flip))));
        }
    }
#elif XSIMD_WITH_NEON64
    {
        // 16 at a time: round to nearest even, then two saturating narrowings (in order).
        const float32x4_t vinv = vdupq_n_f32(inv), lo = vdupq_n_f32(-127.f), hi = vdupq_n_f32(127.f);
        auto ints = [&](std::size_t at) { return vcvtnq_s32_f32(vminq_f32(vmaxq_f32(vmulq_f32(vld1q_f32(x + at), vinv), lo), hi)); };
        for (; k + 16 <= n; k += 16) {
            const int16x8_t a = vcombine_s16(vqmovn_s32(ints(k)), vqmovn_s32(ints(k + 4)));
            const int16x8_t b = vcombine_s16(vqmovn_s32(ints(k + 8)), vqmovn_s32(ints(k + 12)));
            const int8x16_t bytes = veorq_s8(vcombine_s8(vqmovn_s16(a), vqmovn_s16(b)), vdupq_n_s8(std::int8_t(flip)));
            vst1q_u8(q + k, vreinterpretq_u8_s8(bytes));
        }
    }
#endif
    for (std::size_t i = 0, rest = n - k; i < rest; ++i) {
        const float v = x[k + i] * inv;  // NaN for a NaN or infinite x: its byte is zero (the row's scale is NaN anyway)
        q[k + i] = std::uint8_t(std::uint8_t(v == v ? std::int32_t(std::nearbyint(std::clamp(v, -127.f, 127.f))) : 0) ^ flip);
    }
    for (std::size_t i = n; i % 4; ++i) q[i] = flip;
}

// One row of n inputs to bytes with its own scale; returns s_x (NaN when the row holds a NaN
// or an infinity).
inline float quantize_row(const float* x, std::size_t n, std::uint8_t* q) noexcept {
    const float m = largest_magnitude(x, n);
    quantize_with(x, n, m, q);
    return m / 127.f;
}

namespace detail {

using vint = xsimd::batch<std::int32_t, arch>;

// With AVX2 (and no AVX-512): the four products of a lane by vpmaddubsw and vpmaddwd, on
// q_x itself rather than q_x + 128, so the sums skip the correction (int8_signed_sums).
// vpmaddubsw multiplies unsigned by signed bytes and adds pairs with int16 saturation; |w| as
// the unsigned operand and q_x with w's sign as the signed one keep every pair within
// 2 * 127 * 127 = 32258, so nothing saturates and the sums are exact, as with VNNI.
// With the ARMv8.2 dot product (sdot: signed by signed bytes), the same sums of q_x.
inline constexpr bool int8_signed_sums =
#if (XSIMD_WITH_AVX2 && !XSIMD_WITH_AVX512F) || (defined(__ARM_FEATURE_DOTPROD) && XSIMD_WITH_NEON64)
    true;
#else
    false;
#endif

// acc += sum over the four bytes of each lane: unsigned x byte * signed w byte (x byte - 128
// where int8_signed_sums).
[[gnu::always_inline]] inline vint dot_int8(vint acc, vint x, vint w) noexcept {
#if defined(__AVX512VNNI__) && XSIMD_WITH_AVX512F
    // In place, by asm: with the intrinsic g++ 12 copies every accumulator of a register tile
    // through the stack on each step (the instruction reads and writes its first operand).
    __m512i a = acc;
    asm("vpdpbusd %2, %1, %0" : "+v"(a) : "v"(__m512i(x)), "v"(__m512i(w)));
    return a;
#elif XSIMD_WITH_AVX2 && !XSIMD_WITH_AVX512F
    const __m256i qx = _mm256_xor_si256(__m256i(x), _mm256_set1_epi8(char(0x80)));
    const __m256i pairs = _mm256_maddubs_epi16(_mm256_abs_epi8(__m256i(w)), _mm256_sign_epi8(qx, __m256i(w)));
    return acc + vint(_mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
#elif defined(__ARM_FEATURE_DOTPROD) && XSIMD_WITH_NEON64
    const int8x16_t qx = veorq_s8(vreinterpretq_s8_s32(int32x4_t(x)), vdupq_n_s8(-128));
    return vint(vdotq_s32(int32x4_t(acc), qx, vreinterpretq_s8_s32(int32x4_t(w))));
#else
    const vint byte(0xff);
    acc += ((x) & byte) * ((w << 24) >> 24);
    acc += ((x >> 8) & byte) * ((w << 16) >> 24);
    acc += ((x >> 16) & byte) * ((w << 8) >> 24);
    acc += ((x >> 24) & byte) * (w >> 24);
    return acc;
#endif
}
inline vint load_ints(const std::uint32_t* p) noexcept { return vint::load_aligned(reinterpret_cast<const std::int32_t*>(p)); }

// The int32 sums of one row to outputs: (acc - correction) * (s_x s_w) + bias (sums of q_x
// itself need no correction).
inline vfloat int8_dequantize(vint acc, const std::int32_t* correction, const float* scale, float sx, const float* bias) noexcept {
    const vint c = int8_signed_sums ? vint(0) : vint::load_aligned(correction);
    const vfloat s = load(scale) * vfloat(sx);
    return kernels::fma(xsimd::to_float(acc - c), s, load(bias));
}

// An M x V block of int32 sums to outputs: row i's scale sx[i * sx_step] (0: one scale for
// the block), its outputs ldy apart, then the residual and the clamp of store_row.
template <std::size_t M, std::size_t V>
[[gnu::always_inline]] inline void int8_store_block(const vint (&acc)[M][2], const float* sx, std::size_t sx_step, float* y,
                                                    std::size_t ldy, std::size_t ncols, const std::int32_t* correction,
                                                    const float* scale, const float* bias, const float* add, bool clamp) noexcept {
    const std::size_t n0 = std::min(lanes, ncols), n1 = ncols > lanes ? ncols - lanes : 0;
    TYPENET_UNROLL
    for (std::size_t i = 0; i < M; ++i) {
        const float s = sx[i * sx_step];
        const vfloat a0 = int8_dequantize(acc[i][0], correction, scale, s, bias);
        const vfloat a1 = V == 2 ? int8_dequantize(acc[i][1], correction + lanes, scale + lanes, s, bias + lanes) : vfloat(0.f);
        store_row(y + i * ldy, a0, a1, n0, n1, nullptr, add ? add + i * ldy : nullptr, clamp);
    }
}

// M rows (ldx words apart) x V vectors of outputs of one panel: from each of `taps` offsets
// into a row, cq quads — a Dense row is one tap at 0 and all its quads; a convolution's pixel
// (conv_int8.hpp) the taps of its window and the quads of their channels. Row i's scale is
// sx[i * sx_step]. The sums are exact, so K is not blocked: the integer accumulators never
// leave the registers.
template <std::size_t M, std::size_t V>
inline void int8_micro(const std::uint32_t* x, std::size_t ldx, const std::size_t* tap, std::size_t taps, std::size_t cq,
                       const std::uint32_t* pw, const float* sx, std::size_t sx_step, float* y, std::size_t ldy, std::size_t ncols,
                       const std::int32_t* correction, const float* scale, const float* bias, const float* add, bool clamp) noexcept {
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
                const vint xb(static_cast<std::int32_t>(xt[i * ldx + q]));
                acc[i][0] = dot_int8(acc[i][0], xb, w0);
                if constexpr (V == 2) acc[i][1] = dot_int8(acc[i][1], xb, w1);
            }
        }
    }
    int8_store_block<M, V>(acc, sx, sx_step, y, ldy, ncols, correction, scale, bias, add, clamp);
}

// One row (batch 1), G panels at once, the K loop in S = 4 / G interleaved chains: eight
// accumulators in flight whatever the layer's width (the integer sums do not depend on the
// order). Four panels read four streams at once, as the fp32 and bf16 GEMVs do.
template <std::size_t G>
inline void int8_row_panels(const std::uint32_t* x, float sx, const std::uint32_t* w, std::size_t quads, float* y, std::size_t out,
                            std::size_t p0, const std::int32_t* correction, const float* scale, const float* bias, const float* add,
                            bool clamp) noexcept {
    constexpr std::size_t S = std::max<std::size_t>(1, 4 / G);
    vint acc[S][G][2];
    TYPENET_UNROLL
    for (std::size_t s = 0; s < S; ++s)
        TYPENET_UNROLL
        for (std::size_t g = 0; g < G; ++g) acc[s][g][0] = acc[s][g][1] = vint(0);
    auto step = [&](std::size_t k, std::size_t s) {
        const vint xb(static_cast<std::int32_t>(x[k]));
        TYPENET_UNROLL
        for (std::size_t g = 0; g < G; ++g) {
            const std::uint32_t* pw = w + ((p0 + g) * quads + k) * nr;
            acc[s][g][0] = dot_int8(acc[s][g][0], xb, load_ints(pw));
            acc[s][g][1] = dot_int8(acc[s][g][1], xb, load_ints(pw + lanes));
        }
    };
    std::size_t k = 0;
    for (; k + S <= quads; k += S)
        TYPENET_UNROLL
        for (std::size_t s = 0; s < S; ++s) step(k + s, s);
    for (; k < quads; ++k) step(k, 0);
    TYPENET_UNROLL
    for (std::size_t g = 0; g < G; ++g) {
        vint s0 = acc[0][g][0], s1 = acc[0][g][1];
        TYPENET_UNROLL
        for (std::size_t s = 1; s < S; ++s) s0 += acc[s][g][0], s1 += acc[s][g][1];
        const std::size_t col = (p0 + g) * nr, ncols = std::min(nr, out - col);
        const std::size_t n0 = std::min(lanes, ncols), n1 = ncols > lanes ? ncols - lanes : 0;
        store_row(y + col, int8_dequantize(s0, correction + col, scale + col, sx, bias + col),
                  int8_dequantize(s1, correction + col + lanes, scale + col + lanes, sx, bias + col + lanes), n0, n1, nullptr,
                  add ? add + col : nullptr, clamp);
    }
}

// A Dense row for int8_micro: one tap, the row's quads from its start.
inline constexpr std::size_t whole_row[1] = {0};

}  // namespace detail

// Scratch for `rows` rows: each row's bytes (whole vectors of words), then the rows' scales.
inline constexpr std::size_t int8_row_words(Int8Packing d) noexcept { return round_up(d.quads(), lanes); }
inline constexpr std::size_t int8_scratch_floats(Int8Packing d, std::size_t rows) noexcept {
    return (int8_row_words(d) + 1) * rows;
}

// y = act(x W^T + b [+ add]) for `rows` rows already quantized: row r's bytes at xq + r * ldq
// (words), its scale sx[r * sx_step] (sx_step 0: one scale for all); outputs ldy apart. Each
// row's outputs depend on that row alone.
template <class Act>
inline void int8_gemm(Int8Packing d, const float* packed, const std::uint32_t* xq, std::size_t ldq, const float* sx, std::size_t rows,
                      float* y, std::size_t ldy, const float* add = nullptr, std::size_t sx_step = 1) noexcept {
    const auto* w = reinterpret_cast<const std::uint32_t*>(packed);
    const auto* correction = reinterpret_cast<const std::int32_t*>(packed + d.weight_words());
    const float* scale = packed + d.weight_words() + d.column_floats();
    const float* bias = scale + d.column_floats();
    if (rows == 1) {
        detail::gemv_panel_groups<Act>(d.panels(), d.out, y, [&]<std::size_t G>(std::size_t p) {
            detail::int8_row_panels<G>(xq, sx[0], w, d.quads(), y, d.out, p, correction, scale, bias, add, detail::clamps_in_registers<Act>);
        });
        return;
    }
    for (std::size_t p = 0; p < d.panels(); ++p) {
        const std::uint32_t* pw = w + p * d.quads() * nr;
        const std::size_t col = p * nr, ncols = std::min(nr, d.out - col);
        for (std::size_t i = 0; i < rows; i += mr) {
            const std::size_t m = std::min(mr, rows - i);
            float* yb = y + i * ldy + col;
            const float* ab = add ? add + i * ldy + col : nullptr;
            detail::row_blocks(m, [&]<std::size_t M>(std::integral_constant<std::size_t, M>, std::size_t r) {
                const std::uint32_t* xb = xq + (i + r) * ldq;
                if (ncols > lanes)
                    detail::int8_micro<M, 2>(xb, ldq, detail::whole_row, 1, d.quads(), pw, sx + (i + r) * sx_step, sx_step, yb + r * ldy,
                                             ldy, ncols, correction + col, scale + col, bias + col, ab ? ab + r * ldy : nullptr,
                                             detail::clamps_in_registers<Act>);
                else
                    detail::int8_micro<M, 1>(xb, ldq, detail::whole_row, 1, d.quads(), pw, sx + (i + r) * sx_step, sx_step, yb + r * ldy,
                                             ldy, ncols, correction + col, scale + col, bias + col, ab ? ab + r * ldy : nullptr,
                                             detail::clamps_in_registers<Act>);
            });
            detail::apply_tile<Act>(yb, m, ldy, ncols);
        }
    }
    if constexpr (Act::row_wise)
        for (std::size_t r = 0; r < rows; ++r) apply_rows<Act>(y + r * ldy, 1, d.out);
}

// The same for rows of d.in floats (ldx apart), each quantized with its own scale into scratch
// (int8_scratch_floats(d, rows)).
template <class Act>
inline void dense_int8(Int8Packing d, const float* packed, const float* x, std::size_t ldx, std::size_t rows, float* y,
                       std::size_t ldy, float* scratch, const float* add = nullptr) noexcept {
    const std::size_t ldq = int8_row_words(d);
    auto* xq = reinterpret_cast<std::uint32_t*>(scratch);
    float* sx = scratch + ldq * rows;
    for (std::size_t r = 0; r < rows; ++r) sx[r] = quantize_row(x + r * ldx, d.in, reinterpret_cast<std::uint8_t*>(xq + r * ldq));
    int8_gemm<Act>(d, packed, xq, ldq, sx, rows, y, ldy, add);
}

}  // namespace typenet::kernels
