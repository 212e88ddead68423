// The SIMD vocabulary every kernel uses: one float batch type for the instruction set the
// translation unit is compiled for (AVX-512, AVX2, SSE, NEON: xsimd picks the best one the
// compiler flags allow), and the register-blocking constants derived from it.
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>
// GCC 12 warns inside its own AVX-512 intrinsic headers (their `__Y = __Y` idiom for an
// undefined register, GCC PR 105593). Diagnostic pragmas apply by source location, so
// silencing it around this include silences exactly those headers and nothing of ours.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <xsimd/xsimd.hpp>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// Register-blocked loops must be unrolled for their accumulators to live in registers; g++
// does not unroll them fully at -O2 (only -O3 does), so the kernels ask for it.
#if defined(__clang__)
#define TYPENET_UNROLL _Pragma("clang loop unroll(full)")
#elif defined(__GNUC__)
#define TYPENET_UNROLL _Pragma("GCC unroll 32")
#else
#define TYPENET_UNROLL
#endif

namespace typenet::inline TYPENET_ISA_NAMESPACE::kernels {

using arch = xsimd::default_arch;
using vfloat = xsimd::batch<float, arch>;

inline constexpr std::size_t lanes = vfloat::size;
// A cache line, and a hint to fetch the one at p into every level (a read, kept).
inline constexpr std::size_t cache_line = 64;
[[gnu::always_inline]] inline void prefetch(const void* p) noexcept { __builtin_prefetch(p, 0, 3); }
// Whether vfloat is an AVX-512 register: the few operations xsimd 8.1 lacks (masked loads and
// stores, streaming stores, a full-width transpose) use its intrinsics directly.
inline constexpr bool is_avx512 =
#if XSIMD_WITH_AVX512F
    std::is_same_v<arch, xsimd::avx512bw> || std::is_same_v<arch, xsimd::avx512dq> || std::is_same_v<arch, xsimd::avx512cd> ||
    std::is_same_v<arch, xsimd::avx512f>;
#else
    false;
#endif
// x * y + z (fnma: z - x * y) in one rounding. xsimd 8.1 has no AVX-512 fma: its generic
// x * y + z left the fusing to -ffp-contract, which g++ applies or not depending on what was
// inlined where, so a model's bits depended on the rest of its translation unit (a cropped
// convolution's outputs were bitwise the whole map's in one test program and not in another).
// One instruction wherever the instruction set has one (xsimd's own on FMA3 and NEON).
inline vfloat fma(vfloat x, vfloat y, vfloat z) noexcept {
#if XSIMD_WITH_AVX512F
    if constexpr (is_avx512) return vfloat(_mm512_fmadd_ps(x, y, z));
    else
#endif
        return xsimd::fma(x, y, z);
}
inline vfloat fnma(vfloat x, vfloat y, vfloat z) noexcept {
#if XSIMD_WITH_AVX512F
    if constexpr (is_avx512) return vfloat(_mm512_fnmadd_ps(x, y, z));
    else
#endif
        return xsimd::fnma(x, y, z);
}
// Architectural vector registers: 32 with AVX-512 (and on AArch64), 16 otherwise.
inline constexpr std::size_t vector_registers = (lanes >= 16 || XSIMD_WITH_NEON64) ? 32 : 16;
// A packed weight panel holds nr output features side by side: two vectors.
inline constexpr std::size_t nr = 2 * lanes;
// Rows of the batch held in registers at once: mr x 2 accumulators + 2 weights + 1 broadcast
// must fit the register file (12 with 32 registers, 6 with 16).
inline constexpr std::size_t mr = (vector_registers - 3) / 2 >= 12 ? 12 : 6;
// Alignment of every buffer typenet owns (a cache line; at least a vector).
inline constexpr std::size_t alignment = 64;

inline vfloat load(const float* p) noexcept { return vfloat::load_aligned(p); }
inline vfloat loadu(const float* p) noexcept { return vfloat::load_unaligned(p); }
inline void storeu(float* p, vfloat v) noexcept { v.store_unaligned(p); }

// The first n < lanes values: masked where the ISA has masks (AVX-512), else through a stack
// tile. The lanes past n read as `fill`. (xsimd 8.1 has no masked load or store.)
inline float first_lane(vfloat v) noexcept {
    alignas(alignment) float t[lanes];
    v.store_aligned(t);
    return t[0];
}

// t[0] = t[0] + t[1] + ... + t[S - 1] as a tree (depth log2 S: the end of S accumulator
// chains), written so that the compiler unrolls it and keeps t in registers.
template <std::size_t S, std::size_t W = 1>
[[gnu::always_inline]] inline void reduce_tree(vfloat* t) noexcept {
    if constexpr (W < S) {
        TYPENET_UNROLL
        for (std::size_t s = 0; s + W < S; s += 2 * W) t[s] += t[s + W];
        reduce_tree<S, 2 * W>(t);
    }
}
// The same over S accumulators held elsewhere: at(s) names accumulator s (acc[s][g]).
template <std::size_t S, class At>
[[gnu::always_inline]] inline vfloat sum_tree(At&& at) noexcept {
    vfloat t[S];
    TYPENET_UNROLL
    for (std::size_t s = 0; s < S; ++s) t[s] = at(s);
    reduce_tree<S>(t);
    return t[0];
}

// An empty asm through which v must pass: the compiler can no longer fold the operation that
// made v into the FMAs that use it (GCC's default -ffp-contract=fast may otherwise rebuild a
// short latency tree into a longer chain).
template <class Batch = vfloat>
inline void settle(Batch& v) noexcept {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    __asm__("" : "+v"(v.data));
#elif defined(__GNUC__) && defined(__aarch64__)
    __asm__("" : "+w"(v.data));
#else
    (void)v;
#endif
}

#if XSIMD_WITH_AVX512F
// Lane j of the result: lanes 2j and 2j + 1 of a and b side by side (a's 16 lanes, then b's),
// added.
inline vfloat pair_sums(vfloat a, vfloat b) noexcept {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    return vfloat(_mm512_add_ps(_mm512_permutex2var_ps(a, even, b), _mm512_permutex2var_ps(a, odd, b)));
}
#endif

// The lanes below the middle (an LSTM's paired gates: the first gate of each pair).
template <std::size_t... I>
inline constexpr auto lower_half_mask_impl(std::index_sequence<I...>) noexcept {
    return xsimd::batch_bool_constant<vfloat, (I < lanes / 2)...>{};
}
inline constexpr auto lower_half_mask() noexcept { return lower_half_mask_impl(std::make_index_sequence<lanes>{}); }

// v's two halves swapped (one shuffle).
template <std::size_t... I>
inline vfloat swap_halves_impl(vfloat v, std::index_sequence<I...>) noexcept {
    return xsimd::swizzle(v, xsimd::batch_constant<xsimd::batch<std::uint32_t, arch>, std::uint32_t((I + lanes / 2) % lanes)...>{});
}
inline vfloat swap_halves(vfloat v) noexcept {
#if XSIMD_WITH_AVX512F
    if constexpr (is_avx512) return vfloat(_mm512_shuffle_f32x4(v, v, 0x4E));
    else
#endif
        return swap_halves_impl(v, std::make_index_sequence<lanes>{});
}
// The upper half of v's lanes in the lower half, zeros above (one shuffle with a zeroing mask
// on AVX-512).
inline vfloat upper_half_down(vfloat v) noexcept {
#if XSIMD_WITH_AVX512F
    if constexpr (is_avx512) return vfloat(_mm512_maskz_shuffle_f32x4(__mmask16(0x00FF), v, v, 0x0E));
    else
#endif
        return xsimd::select(lower_half_mask(), swap_halves(v), vfloat(0.f));
}

inline vfloat load_partial(const float* p, std::size_t n, float fill) noexcept {
#if XSIMD_WITH_AVX512F
    if constexpr (is_avx512)
        return vfloat(_mm512_mask_loadu_ps(_mm512_set1_ps(fill), __mmask16((1u << n) - 1), p));
#endif
    alignas(alignment) float tmp[lanes];
    for (std::size_t i = 0; i < lanes; ++i) tmp[i] = i < n ? p[i] : fill;
    return load(tmp);
}

inline void store_partial(float* p, vfloat v, std::size_t n) noexcept {
#if XSIMD_WITH_AVX512F
    if constexpr (is_avx512) {
        // 1, 2, 4 or 8 values as a plain store of that width: a masked store does not forward
        // to the loads that read it back right after (the next layer of a small network, the
        // caller reading a one-value output), a plain one does.
        // (The low lanes by a vector shuffle: GCC 12's _mm512_castps512_ps128 warns about an
        // undefined register when immintrin.h came in before typenet, outside its pragmas.)
        const __m512 w = v;
        const __m128 low = __builtin_shufflevector(w, w, 0, 1, 2, 3);
        switch (n) {
            case 1: _mm_store_ss(p, low); break;
            case 2: _mm_storel_pi(reinterpret_cast<__m64*>(p), low); break;
            case 4: _mm_storeu_ps(p, low); break;
            case 8: _mm256_storeu_ps(p, __builtin_shufflevector(w, w, 0, 1, 2, 3, 4, 5, 6, 7)); break;
            default: _mm512_mask_storeu_ps(p, __mmask16((1u << n) - 1), v);
        }
        return;
    }
#endif
    alignas(alignment) float tmp[lanes];
    v.store_aligned(tmp);
    for (std::size_t i = 0; i < n && i < lanes; ++i) p[i] = tmp[i];  // (the bound for g++'s -Wstringop-overflow)
}

// Two rows' short ends in one register (the GEMM's paired tiles, dense.hpp): the lower half of
// the lanes holds one row's values, the upper half the next row's.
// a's lower half and b's upper half (one blend).
inline vfloat join_halves(vfloat a, vfloat b) noexcept {
#if XSIMD_WITH_AVX512F
    if constexpr (is_avx512) return vfloat(_mm512_mask_blend_ps(__mmask16(0xFF00), a, b));
    else
#endif
        return xsimd::select(lower_half_mask(), a, b);
}
// p[0, lanes / 2) in both halves (one broadcast load on AVX-512).
inline vfloat dup_half(const float* p) noexcept {
#if XSIMD_WITH_AVX512F
    if constexpr (is_avx512) return vfloat(_mm512_broadcast_f32x8(_mm256_loadu_ps(p)));
    else
#endif
    {
        const vfloat v = load_partial(p, lanes / 2, 0.f);
        return join_halves(v, swap_halves(v));
    }
}
// n <= lanes / 2 values from lo in the lower half and from hi in the upper half, zeros above them.
inline vfloat load_halves(const float* lo, const float* hi, std::size_t n) noexcept {
    return join_halves(load_partial(lo, n, 0.f), swap_halves(load_partial(hi, n, 0.f)));
}
// The first n <= lanes / 2 values of v's lower half to lo, of its upper half to hi.
inline void store_halves(float* lo, float* hi, vfloat v, std::size_t n) noexcept {
    store_partial(lo, v, n);
    store_partial(hi, upper_half_down(v), n);
}

// out[2 j] = a[j], out[2 j + 1] = b[j] for j < n: two runs interleaved (ShuffleNet's channel
// shuffle of two groups, per pixel). AVX-512: two vpermt2ps per 16 pairs, the last pairs
// masked; elsewhere element by element. (ShuffleNetV2's sixteen shuffles, one core, 166.6 us
// as a loop of scalar stores two apart.)
inline void interleave_pairs(const float* a, const float* b, float* out, std::size_t n) noexcept {
    std::size_t j = 0;
#if XSIMD_WITH_AVX512F
    if constexpr (is_avx512) {
        const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        const __m512i hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        for (; j + 16 <= n; j += 16) {
            const __m512 x = _mm512_loadu_ps(a + j), y = _mm512_loadu_ps(b + j);
            _mm512_storeu_ps(out + 2 * j, _mm512_permutex2var_ps(x, lo, y));
            _mm512_storeu_ps(out + 2 * j + 16, _mm512_permutex2var_ps(x, hi, y));
        }
        if (j < n) {
            const std::size_t r = n - j, pairs = 2 * r;  // 1..15 pairs: 2..30 values
            const __mmask16 m = __mmask16((1u << r) - 1);
            const __m512 x = _mm512_maskz_loadu_ps(m, a + j), y = _mm512_maskz_loadu_ps(m, b + j);
            _mm512_mask_storeu_ps(out + 2 * j, pairs >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << pairs) - 1),
                                  _mm512_permutex2var_ps(x, lo, y));
            if (pairs > 16) _mm512_mask_storeu_ps(out + 2 * j + 16, __mmask16((1u << (pairs - 16)) - 1), _mm512_permutex2var_ps(x, hi, y));
        }
        return;
    }
#endif
    for (; j < n; ++j) out[2 * j] = a[j], out[2 * j + 1] = b[j];
}

// A store that bypasses the caches (AVX-512's vmovntps; p 64-byte aligned), for output far
// larger than the caches and not read soon: it saves reading each line before writing it.
// Elsewhere an ordinary store. Follow a run of them with stream_fence().
inline void store_stream(float* p, vfloat v) noexcept {
#if XSIMD_WITH_AVX512F
    if constexpr (is_avx512) {
        _mm512_stream_ps(p, v);
        return;
    }
#endif
    v.store_unaligned(p);
}
inline void stream_fence() noexcept {
#if XSIMD_WITH_SSE2
    _mm_sfence();
#endif
}

inline float reduce_max(vfloat v) noexcept {
#if XSIMD_WITH_AVX512F
    if constexpr (is_avx512)
        return _mm512_reduce_max_ps(v);
#endif
    alignas(alignment) float tmp[lanes];
    v.store_aligned(tmp);
    float m = tmp[0];
    for (std::size_t i = 1; i < lanes; ++i) m = tmp[i] > m ? tmp[i] : m;
    return m;
}

// Whether transpose_square has a register implementation here (AVX-512: four rounds of true
// zips, vpermt2ps; xsimd 8.1's zip_lo interleaves within 128-bit lanes only). Elsewhere
// callers transpose element by element.
inline constexpr bool has_register_transpose = is_avx512;

// Transposes the lanes x lanes block held in r (row t in r[t]) in place, where
// has_register_transpose (elsewhere it does nothing: callers check).
inline void transpose_square(vfloat* r) noexcept {
#if XSIMD_WITH_AVX512F
    // After log2(16) rounds of out[2i] = zip_lo(in[i], in[i + 8]), out[2i + 1] = zip_hi(...),
    // row t holds column t.
    const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    __m512 a[16], b[16];
    TYPENET_UNROLL
    for (std::size_t t = 0; t < 16; ++t) a[t] = r[t];
    TYPENET_UNROLL
    for (int round = 0; round < 4; ++round) {
        TYPENET_UNROLL
        for (std::size_t i = 0; i < 8; ++i) {
            b[2 * i] = _mm512_permutex2var_ps(a[i], lo, a[i + 8]);
            b[2 * i + 1] = _mm512_permutex2var_ps(a[i], hi, a[i + 8]);
        }
        TYPENET_UNROLL
        for (std::size_t t = 0; t < 16; ++t) a[t] = b[t];
    }
    TYPENET_UNROLL
    for (std::size_t t = 0; t < 16; ++t) r[t] = a[t];
#else
    (void)r;
#endif
}

// Maximum and minimum that propagate a NaN from either operand, as PyTorch's max-pool,
// maximum and clamps do (x86's maxps returns its second operand when either is NaN, so a
// plain max would let a NaN vanish; NEON's vmaxq propagates already). xsimd::isnan, not
// a != a: xsimd 8.1's != on AVX-512 is the ordered compare, false for NaN.
inline vfloat max_nan(vfloat a, vfloat b) noexcept { return xsimd::select(xsimd::isnan(a), a, xsimd::max(a, b)); }
inline vfloat min_nan(vfloat a, vfloat b) noexcept { return xsimd::select(xsimd::isnan(a), a, xsimd::min(a, b)); }
// max(0, x) with x's NaN kept: the constant goes first (maxps returns the second operand).
inline vfloat relu_nan(vfloat x) noexcept { return xsimd::max(vfloat(0.f), x); }

constexpr std::size_t round_up(std::size_t n, std::size_t m) noexcept { return (n + m - 1) / m * m; }
// The output positions [first, end) of a sliding window whose `extent` input positions lie
// wholly inside the input's `size` (stride s, `pad` positions before it), within [0, out): the
// ones a convolution or pooling loop runs without bounds checks.
struct WindowsInside {
    std::size_t first, end;
};
constexpr WindowsInside windows_inside(std::size_t size, std::size_t pad, std::size_t extent, std::size_t s, std::size_t out) noexcept {
    const std::size_t first = std::min(out, (pad + s - 1) / s);
    const std::size_t end = size + pad >= extent ? std::min(out, (size + pad - extent) / s + 1) : 0;
    return {first, std::max(first, end)};
}

// Whether n floats at p (any alignment: the data section of a mapped file) are all finite.
// Read as bits, so that no floating-point flag (-ffast-math assumes there is no NaN) can
// remove the test: a float is NaN or Inf exactly when its exponent bits are all ones, and
// (bits & 0x7F800000) + 0x00800000 sets the top bit exactly then. Vector loads are unaligned
// loads; the tail is copied bytewise, so no misaligned float is ever dereferenced.
inline bool all_finite(const void* p, std::size_t n) noexcept {
    using vbits = xsimd::batch<std::uint32_t, arch>;
    constexpr std::uint32_t exponent = 0x7F800000u, carry = 0x00800000u, top = 0x80000000u;
    const auto* bytes = static_cast<const unsigned char*>(p);
    vbits acc(0u);
    std::size_t i = 0;
    for (; i + lanes <= n; i += lanes) {
        const vbits v = vbits::load_unaligned(reinterpret_cast<const std::uint32_t*>(bytes + 4 * i));
        acc |= (v & vbits(exponent)) + vbits(carry);
    }
    std::uint32_t tail = 0;
    for (; i < n; ++i) {
        std::uint32_t v;
        std::memcpy(&v, bytes + 4 * i, 4);
        tail |= (v & exponent) + carry;
    }
    alignas(alignment) std::uint32_t out[lanes];
    acc.store_aligned(out);
    for (std::uint32_t v : out) tail |= v;
    return (tail & top) == 0;
}

}  // namespace typenet::kernels
