// Conv2D with int8 weights (groups 1): the int8 scheme of dense_int8.hpp.
//
// Per sample, the input map is quantized once (one scale for the image: its largest |x| /
// 127; bytes offset by 128, so zero padding is the byte 128). Then, where the channels come
// in whole quads (C % 4 == 0: a tap's channels are whole words of the packed K axis), an
// implicit GEMM: the image is quantized into a border of 128s and each micro-kernel walks the
// taps of its pixels in place, like the fp32 implicit GEMM (conv.hpp). Otherwise (an image's
// first layer, C = 1 or 3) blocks of output pixels gather their receptive fields as byte rows
// (K = kh kw C bytes, ordered (ky, kx, c) like the packed weights) and run the int8 GEMM.
// The gather was a third of ResNet-20's int8 forward (9 copies of 16 bytes per pixel, each
// with its bounds checks, for 36 vpdpbusd).
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "conv.hpp"
#include "dense_int8.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::kernels {

// Which loop an int8 convolution runs, from its geometry:
//   gathered  byte rows gathered per block of pixels (C = 1, 2, 5, or C % 4 != 0 from 64:
//             where whole quads of channels would add more than a third to K, or a window of
//             more than 64 taps);
//   implicit  the bordered image read in place, a quad of channels broadcast per pixel and
//             step (dense_int8.hpp's register tile: mr pixels x 32 outputs); for C % 4 != 0
//             (an image's first layer: C = 3) each pixel padded to whole quads by zero
//             channels, in the image and in K (conv_int8_pads_channels: 9 quads a pixel of a
//             3x3 window over 3 channels, where the gathered rows were 7 but cost a third of
//             their time to gather);
//   lanes     (AVX-512 without VNNI, C % 16 == 0, at most 16 outputs; with VNNI such layers
//             take the implicit path's broadcast loop, conv_int8_broadcasts) 16 channels of a
//             pixel broadcast to every 128-bit lane, each lane's four words against four outputs' weights:
//             a load per four vpdpbusd instead of one per vpdpbusd, then the four partial
//             sums of each output added in registers. Where a layer has one vector of
//             outputs, the implicit loop is a load per vpdpbusd (ResNet-20's first stage,
//             16 -> 16 channels: 53% of the VNNI peak).
//   pixels    (a 1x1 at stride 1: g.pointwise()) a Dense over the pixels, each row of the map
//             quantized with its own scale (conv2d_int8_pixels).
enum class Int8ConvPath { gathered, implicit, lanes, pixels };
inline constexpr bool conv_int8_pads_channels(const ConvGeometry& g) noexcept {
    return g.c % 4 != 0 && g.c < 64 && 3 * round_up(g.c, 4) <= 4 * g.c;
}
inline constexpr Int8ConvPath conv_int8_path(const ConvGeometry& g) noexcept {
    if (g.pointwise()) return Int8ConvPath::pixels;
    if ((g.c % 4 != 0 && !conv_int8_pads_channels(g)) || g.kh * g.kw > 64) return Int8ConvPath::gathered;
    if (is_avx512 && !has_int8_dot && g.c % 16 == 0 && g.cout <= 16) return Int8ConvPath::lanes;
    return Int8ConvPath::implicit;
}
inline constexpr bool conv_int8_implicit(const ConvGeometry& g) noexcept {
    return conv_int8_path(g) == Int8ConvPath::implicit || conv_int8_path(g) == Int8ConvPath::lanes;
}
// The channels of a pixel as a loop reads them: whole quads in the implicit loops.
inline constexpr std::size_t conv_int8_channels(const ConvGeometry& g, Int8ConvPath path) noexcept {
    return path == Int8ConvPath::implicit || path == Int8ConvPath::lanes ? round_up(g.c, 4) : g.c;
}
// The GEMM operand: K = kh kw (C, or its whole quads) by cout.
inline constexpr Int8Packing conv_int8_packing(const ConvGeometry& g, Int8ConvPath path) noexcept {
    return {g.kh * g.kw * conv_int8_channels(g, path), g.cout};
}
inline constexpr Int8Packing conv_int8_packing(const ConvGeometry& g) noexcept { return conv_int8_packing(g, conv_int8_path(g)); }
// At most 16 outputs (one vector: ResNet-20's first stage, an image's first layer) on
// AVX512-VNNI, the implicit loop swaps the roles of vpdpbusd's operands: the input bytes are
// q_x itself (two's complement, the signed operand) and the weights' bytes w + 128 (flipped
// as they are loaded: the unsigned operand), so each pixel's quad is broadcast from memory by
// vpdpbusd itself ({1to16}), where the implicit loop spends an instruction of its own on each
// (a load per vpdpbusd) and the lanes loop a sum of quads per pixel, at the cost of a
// correction per pixel: 128 times the sum of its window's q_x. The same integer sums, so the
// same outputs.
inline constexpr bool conv_int8_broadcasts(const ConvGeometry& g) noexcept {
    return has_int8_dot && conv_int8_path(g) == Int8ConvPath::implicit && g.cout <= 16;
}

// Canonical [cout][cin][kh][kw] weights and bias to the int8 GEMM operand (K ordered (ky, kx, ci)):
// Int8Packing's panels, or for the lanes loop the same quantized words in blocks of 16 outputs
// [block][tap][16 channels][g][lane], lane 4a + j holding output 16 block + 4a + g's word j
// of those channels (the corrections, scales and bias where Int8Packing has them).
// (Channels padded to whole quads: zero weights for the zero channels.)
inline void conv_pack_int8(const ConvGeometry& g, const float* w, const float* b, float* packed, Int8ConvPath path) {
    const std::size_t cin = conv_int8_channels(g, path);
    const Int8Packing d = conv_int8_packing(g, path);
    std::vector<float> rows = conv_weight_rows(g, w);
    if (cin != g.c) {
        std::vector<float> padded(g.cout * d.in, 0.f);
        for (std::size_t o = 0; o < g.cout; ++o)
            for (std::size_t t = 0; t < g.kh * g.kw; ++t)
                std::copy_n(rows.data() + (o * g.kh * g.kw + t) * g.c, g.c, padded.data() + (o * g.kh * g.kw + t) * cin);
        rows.swap(padded);
    }
    dense_pack_int8(d, rows.data(), b, packed);
    if (path != Int8ConvPath::lanes) return;
    auto* words = reinterpret_cast<std::uint32_t*>(packed);
    const std::vector<std::uint32_t> panels(words, words + d.weight_words());
    std::fill_n(words, d.weight_words(), 0u);
    const std::size_t cq = cin / 4, chunks = cin / 16, taps = g.kh * g.kw;
    for (std::size_t o = 0; o < g.cout; ++o)
        for (std::size_t kq = 0; kq < d.quads(); ++kq) {
            const std::size_t t = kq / cq, c = kq % cq / 4, j = kq % 4, blk = o / 16, a = o % 16 / 4, gi = o % 4;
            words[((blk * taps + t) * chunks + c) * 64 + gi * 16 + a * 4 + j] = panels[(o / nr * d.quads() + kq) * nr + o % nr];
        }
}
inline void conv_pack_int8(const ConvGeometry& g, const float* w, const float* b, float* packed) {
    conv_pack_int8(g, w, b, packed, conv_int8_path(g));
}

// Scratch, in floats: the quantized image in its border (implicit), or the quantized image,
// one block of byte rows and their scales (gathered).
// (The broadcast loop: then each word's and each pixel's sum of q_x, each output pixel's window sum.)
inline constexpr std::size_t conv_int8_implicit_scratch(const ConvGeometry& g) noexcept {
    const ImplicitGeometry ig = implicit_geometry(g);
    const std::size_t words = ig.hp * ig.wp * round_up(g.c, 4) / 4;
    return round_up(words, lanes) + (conv_int8_broadcasts(g) ? round_up(words, lanes) + g.oh * g.ow : 0);
}
inline constexpr std::size_t conv_int8_gathered_scratch(const ConvGeometry& g) noexcept {
    return round_up((g.h * g.w * g.c + 3) / 4 + 1, lanes) + pixel_block * int8_row_words(conv_int8_packing(g, Int8ConvPath::gathered)) + pixel_block;
}
// A 1x1's map: each row's bytes, and its scale for each of its pixels.
inline constexpr std::size_t conv_int8_pixels_scratch(const ConvGeometry& g) noexcept { return ((g.c + 3) / 4 + 1) * g.h * g.w; }
inline constexpr std::size_t conv_int8_scratch(const ConvGeometry& g) noexcept {
    return conv_int8_path(g) == Int8ConvPath::pixels ? conv_int8_pixels_scratch(g)
           : conv_int8_implicit(g)                   ? conv_int8_implicit_scratch(g)
                                                     : conv_int8_gathered_scratch(g);
}

// One image to bytes q_x + 128 inside a border of 128s (q_x = 0): hp x wp pixels, the image at
// (pad_top, pad_left), one scale for the image (returned: NaN when it holds a NaN or infinity).
// With flip = 0, the bytes of q_x itself (two's complement) in a border of zeros: the broadcast
// loop's.
inline float quantize_bordered(const ConvGeometry& g, const float* img, std::uint8_t* dst, std::size_t hp, std::size_t wp,
                               std::uint8_t flip = 0x80) noexcept {
    const float m = largest_magnitude(img, g.h * g.w * g.c);
    const std::uint8_t zero = flip;
    const std::size_t cp = round_up(g.c, 4), run = wp * cp, left = g.pad_left * cp, width = g.w * cp;
    for (std::size_t r = 0; r < hp; ++r) {
        std::uint8_t* row = dst + r * run;
        if (r < g.pad_top || r >= g.pad_top + g.h) {
            std::memset(row, zero, run);
            continue;
        }
        std::memset(row, zero, left);
        const float* x = img + (r - g.pad_top) * g.w * g.c;
        if (cp == g.c) {
            quantize_with(x, width, m, row + left, zero);  // (width is whole quads: nothing written past it)
        } else {
            // Channels padded to whole quads (conv_int8_pads_channels: C < 64): runs of pixels
            // quantized as they lie, then each pixel's bytes moved to its quads.
            constexpr std::size_t chunk = 1024;
            std::uint8_t bytes[chunk + 64];
            const std::size_t per = chunk / g.c;
            for (std::size_t i0 = 0; i0 < g.w; i0 += per) {
                const std::size_t n = std::min(per, g.w - i0);
                quantize_with(x + i0 * g.c, n * g.c, m, bytes, zero);
                std::uint8_t* to = row + left + i0 * cp;
                std::size_t i = 0;
#if defined(__AVX512VBMI__) && XSIMD_WITH_AVX512F
                if (g.c == 3) {  // 16 pixels' 48 bytes to their 16 words by one byte permutation
                    static constexpr std::array<std::uint8_t, 64> from = [] {
                        std::array<std::uint8_t, 64> a{};
                        for (std::size_t k = 0; k < 64; ++k) a[k] = std::uint8_t(k % 4 < 3 ? k / 4 * 3 + k % 4 : 0);
                        return a;
                    }();
                    const __m512i order = _mm512_loadu_si512(from.data()), fill = _mm512_set1_epi8(char(zero));
                    for (; i + 16 <= n; i += 16, to += 64) {
                        const __m512i v = _mm512_maskz_loadu_epi8(0xffffffffffffull, bytes + i * 3);
                        _mm512_storeu_si512(to, _mm512_mask_blend_epi8(0x8888888888888888ull, _mm512_permutexvar_epi8(order, v), fill));
                    }
                }
#endif
                for (; i < n; ++i, to += cp)
                    for (std::size_t q4 = 0; q4 < cp; q4 += 4) {
                        std::uint32_t word = 0;
                        for (std::size_t j = 0; j < 4; ++j) word |= std::uint32_t(q4 + j < g.c ? bytes[i * g.c + q4 + j] : zero) << (8 * j);
                        std::memcpy(to + q4, &word, 4);
                    }
            }
        }
        std::memset(row + left + width, zero, run - left - width);
    }
    return m / 127.f;
}

// A 1x1 convolution at a stride reads only the pixels on its grid (every sh-th row's every
// sw-th pixel): their largest |x| alone sets the image's scale (the pixels off the grid change
// no output, so they need not bound it), and only they are quantized, oh x ow of them in order.
inline bool conv_int8_sampled(const ConvGeometry& g) noexcept {
    return g.kh == 1 && g.kw == 1 && g.pad_top == 0 && g.pad_left == 0 && (g.sh > 1 || g.sw > 1);
}
// The grid's largest |x| (NaN for a NaN or an infinity, as largest_magnitude).
inline float grid_magnitude(const ConvGeometry& g, const float* img) noexcept {
    const std::size_t c = g.c, run = g.w * c;
    using vuint = xsimd::batch<std::uint32_t, arch>;
    vuint vm(0u);  // (the bit patterns' maximum, as in largest_magnitude)
    std::uint32_t bits = 0;
    const std::size_t whole = c - c % lanes;
    for (std::size_t oy = 0; oy < g.oh; ++oy)
        for (std::size_t ox = 0; ox < g.ow; ++ox) {
            const float* px = img + oy * g.sh * run + ox * g.sw * c;
            for (std::size_t k = 0; k < whole; k += lanes)
                vm = xsimd::max(vm, xsimd::bitwise_cast<vuint>(loadu(px + k)) & vuint(0x7fffffffu));
            for (std::size_t k = whole; k < c; ++k) bits = std::max(bits, std::bit_cast<std::uint32_t>(px[k]) & 0x7fffffffu);
        }
    alignas(alignment) std::uint32_t m[lanes];
    vm.store_aligned(m);
    for (std::size_t i = 0; i < lanes; ++i) bits = std::max(bits, m[i]);
    return bits >= 0x7f800000u ? std::numeric_limits<float>::quiet_NaN() : std::bit_cast<float>(bits);
}
// The grid's pixels to bytes, oh x ow of them in order, each padded to whole quads; the bytes
// as quantize_bordered's.
inline float quantize_sampled(const ConvGeometry& g, const float* img, std::uint8_t* dst, std::uint8_t flip = 0x80) noexcept {
    const float m = grid_magnitude(g, img);
    for (std::size_t oy = 0; oy < g.oh; ++oy)
        for (std::size_t ox = 0; ox < g.ow; ++ox)
            quantize_with(img + (oy * g.sh * g.w + ox * g.sw) * g.c, g.c, m, dst + (oy * g.ow + ox) * round_up(g.c, 4), flip);
    return m / 127.f;
}

namespace detail {
#if XSIMD_WITH_AVX512F
// Four vectors' 128-bit lanes summed: lane 4a + k of the result is the sum of the four lanes of
// a[k]'s 128-bit lane a (two unpacks and an addition per level, within lanes).
inline vint sum_quads(const vint (&a)[4]) noexcept {
    const __m512i s = _mm512_add_epi32(_mm512_unpacklo_epi32(a[0], a[1]), _mm512_unpackhi_epi32(a[0], a[1]));
    const __m512i u = _mm512_add_epi32(_mm512_unpacklo_epi32(a[2], a[3]), _mm512_unpackhi_epi32(a[2], a[3]));
    return vint(_mm512_add_epi32(_mm512_unpacklo_epi64(s, u), _mm512_unpackhi_epi64(s, u)));
}

// M output pixels (sx words apart) by one block of 16 outputs (conv_pack_int8's lanes layout):
// per tap and 16 channels, the pixel's 16 bytes in every 128-bit lane against four vectors of
// weights; accumulator g's lane 4a + j sums word j of output 4a + g, and sum_quads puts
// output 4a + g in lane 4a + g.
// (Not inlined: inlined into the layer's loop, g++ 12 kept some of the 24 accumulators on
// the stack and reloaded weights per pixel; alone it holds all 29 vectors in registers.)
template <std::size_t M>
[[gnu::noinline]] inline void int8_lanes_micro(const std::uint32_t* x, std::size_t sx, const std::size_t* tap, std::size_t taps,
                                               std::size_t chunks, const std::uint32_t* pw, float s, float* y, std::size_t ldy,
                                               std::size_t ncols, const std::int32_t* correction, const float* scale,
                                               const float* bias, const float* add, bool clamp) noexcept {
    vint acc[M][4];
    TYPENET_UNROLL
    for (std::size_t i = 0; i < M; ++i)
        for (std::size_t g = 0; g < 4; ++g) acc[i][g] = vint(0);
    for (std::size_t t = 0; t < taps; ++t) {
        const std::uint32_t* xt = x + tap[t];
        for (std::size_t c = 0; c < chunks; ++c, pw += 4 * lanes) {
            vint w[4];
            TYPENET_UNROLL
            for (std::size_t g = 0; g < 4; ++g) {
                __m512i r = load_ints(pw + g * lanes);
                __asm__("" : "+v"(r));  // loaded once into a register: g++ would load it again for every pixel
                w[g] = r;
            }
            TYPENET_UNROLL
            for (std::size_t i = 0; i < M; ++i) {
                const vint xb(_mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(xt + i * sx + 4 * c))));
                TYPENET_UNROLL
                for (std::size_t g = 0; g < 4; ++g) acc[i][g] = dot_int8(acc[i][g], xb, w[g]);
            }
        }
    }
    const std::size_t n0 = std::min(lanes, ncols);
    TYPENET_UNROLL
    for (std::size_t i = 0; i < M; ++i)
        store_row(y + i * ldy, int8_dequantize(sum_quads(acc[i]), correction, scale, s, bias), vfloat(0.f), n0, 0, nullptr,
                  add ? add + i * ldy : nullptr, clamp);
}
#endif

#if defined(__AVX512VNNI__) && XSIMD_WITH_AVX512F
// Each of n pixels' sum of its q_x (signed bytes), cq words a pixel: each word's four bytes
// summed by vpdpbusd (ones as the unsigned operand), sixteen words at a time, then a pixel's
// words: four at a time by sum_quads where cq is a multiple of 4, else one by one.
// sums: n * cq ints (the words' sums, then the pixels' at the front).
inline void int8_pixel_sums(const std::uint8_t* q, std::size_t n, std::size_t cq, std::int32_t* sums) noexcept {
    const std::size_t total = n * cq;
    const __m512i ones = _mm512_set1_epi8(1);
    auto word_sums = [&](std::size_t j) { return _mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, _mm512_loadu_si512(q + 4 * j)); };
    auto word_sum = [&](std::size_t j) {
        return std::int32_t(std::int8_t(q[4 * j])) + std::int8_t(q[4 * j + 1]) + std::int8_t(q[4 * j + 2]) + std::int8_t(q[4 * j + 3]);
    };
    // Then each pixel's `per` partial sums added in place (pixel i's are at i * per >= i).
    auto pixels_in_place = [&](std::size_t per) {
        if (per > 1)
            for (std::size_t i = 0; i < n; ++i) {
                std::int32_t sum = 0;
                for (std::size_t k = 0; k < per; ++k) sum += sums[i * per + k];
                sums[i] = sum;
            }
    };
    std::size_t j = 0;
    if (cq % 4 == 0) {  // 16-byte chunks: four pixels' words (or a pixel's four) summed in registers
        const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
        for (; j + 64 <= total; j += 64) {
            const vint a[4] = {vint(word_sums(j)), vint(word_sums(j + 16)), vint(word_sums(j + 32)), vint(word_sums(j + 48))};
            _mm512_storeu_si512(sums + j / 4, _mm512_permutexvar_epi32(order, sum_quads(a)));  // lane 4a + k held chunk 4k + a
        }
        for (; j < total; j += 4) sums[j / 4] = word_sum(j) + word_sum(j + 1) + word_sum(j + 2) + word_sum(j + 3);
        pixels_in_place(cq / 4);
        return;
    }
    for (; j + 16 <= total; j += 16) _mm512_storeu_si512(sums + j, word_sums(j));
    for (; j < total; ++j) sums[j] = word_sum(j);
    pixels_in_place(cq);
}

// acc += w (unsigned bytes) . *x (signed bytes) in every lane, x broadcast by the instruction
// (a copy in and out of the asm, as in dot_int8: operands of an array g++ would keep on the stack).
[[gnu::always_inline]] inline __m512i dot_int8_broadcast(__m512i acc, __m512i w, const std::uint32_t* x) noexcept {
    asm("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(w), "m"(*x));
    return acc;
}

// M output pixels (ldx words apart) by the first 16 outputs of a panel (conv_int8_broadcasts):
// the weights' bytes flipped to w + 128 as they are loaded, each pixel's quad of q_x the memory
// operand of vpdpbusd, broadcast by it: acc = sum q_x w + 128 window[i], window[i] the sum of
// pixel i's window of q_x.
template <std::size_t M>
[[gnu::noinline]] inline void int8_broadcast_micro(const std::uint32_t* x, std::size_t ldx, const std::size_t* tap, std::size_t taps,
                                                  std::size_t cq, const std::uint32_t* pw, float s, const std::int32_t* window,
                                                  float* y, std::size_t ldy, std::size_t ncols, const float* scale, const float* bias,
                                                  const float* add, bool clamp) noexcept {
    __m512i acc[M];
    TYPENET_UNROLL
    for (std::size_t i = 0; i < M; ++i) acc[i] = _mm512_setzero_si512();
    const __m512i flip = _mm512_set1_epi8(char(0x80));
    for (std::size_t t = 0; t < taps; ++t) {
        const std::uint32_t* xt = x + tap[t];
        for (std::size_t q = 0; q < cq; ++q, pw += nr) {
            const __m512i w = _mm512_xor_si512(load_ints(pw), flip);
            TYPENET_UNROLL
            for (std::size_t i = 0; i < M; ++i) acc[i] = dot_int8_broadcast(acc[i], w, xt + i * ldx + q);
        }
    }
    TYPENET_UNROLL
    for (std::size_t i = 0; i < M; ++i) {
        const vint c(128 * window[i]);  // then int8_dequantize's arithmetic: the same bits
        const vfloat v = kernels::fma(xsimd::to_float(vint(acc[i]) - c), load(scale) * vfloat(s), load(bias));
        store_row(y + i * ldy, v, vfloat(0.f), ncols, 0, nullptr, add ? add + i * ldy : nullptr, clamp);
    }
}
#endif
}  // namespace detail

// The implicit int8 GEMM (conv_int8_implicit), reading the bordered bytes in place: output
// pixels in tiles of mr along each output row (then 8, 4, 2, 1) by panels of nr outputs, or
// (Lanes) in tiles of 6 (then 4, 2, 1) by blocks of 16 outputs.
template <class Act, bool Lanes>
inline void conv2d_int8_implicit(const ConvGeometry& g, const float* packed, const float* in, float* out, std::size_t batch,
                                 float* scratch, const float* add, std::size_t ldo) noexcept {
    const Int8Packing d = conv_int8_packing(g, Lanes ? Int8ConvPath::lanes : Int8ConvPath::implicit);
    const ImplicitGeometry ig = implicit_geometry(g);
    const auto* w = reinterpret_cast<const std::uint32_t*>(packed);
    const auto* correction = reinterpret_cast<const std::int32_t*>(packed + d.weight_words());
    const float* scale = packed + d.weight_words() + d.column_floats();
    const float* bias = scale + d.column_floats();
    const std::size_t cq = round_up(g.c, 4) / 4, taps = g.kh * g.kw, pixels = g.oh * g.ow;
    std::size_t tap[64];  // kh * kw <= 64 (conv_int8_implicit)
    implicit_taps(g, ig.wp, cq, tap);
    auto* qimg = reinterpret_cast<std::uint8_t*>(scratch);
    const auto* words = reinterpret_cast<const std::uint32_t*>(scratch);
    // The image the loops read: the bordered one, or a strided 1x1's grid of pixels at stride 1.
    const bool sampled = conv_int8_sampled(g);
    const std::size_t wp = sampled ? g.ow : ig.wp, sh = sampled ? 1 : g.sh, sw = sampled ? 1 : g.sw;
    const std::size_t sx = sw * cq, row_words = sh * wp * cq;
    const bool broadcasts = !Lanes && conv_int8_broadcasts(g);
    const std::uint8_t flip = broadcasts ? 0 : 0x80;  // (q_x itself for the broadcast loop)
    for (std::size_t b = 0; b < batch; ++b) {
        const float* img = in + b * g.h * g.w * g.c;
        const float s = sampled ? quantize_sampled(g, img, qimg, flip) : quantize_bordered(g, img, qimg, ig.hp, ig.wp, flip);
        float* o = out + b * pixels * ldo;
        const float* a = add ? add + b * pixels * ldo : nullptr;
#if defined(__AVX512VNNI__) && XSIMD_WITH_AVX512F
        if (broadcasts) {
            auto* pixel_sums = reinterpret_cast<std::int32_t*>(scratch + round_up(ig.hp * ig.wp * cq, lanes));
            std::int32_t* window = pixel_sums + round_up(ig.hp * ig.wp * cq, lanes);
            const std::size_t hp = sampled ? g.oh : ig.hp;
            detail::int8_pixel_sums(qimg, hp * wp, cq, pixel_sums);
            std::size_t ptap[64];  // the taps in pixels
            implicit_taps(g, wp, 1, ptap);
            for (std::size_t oy = 0; oy < g.oh; ++oy) {
                const std::int32_t* p0 = pixel_sums + oy * sh * wp;
                std::int32_t* wrow = window + oy * g.ow;
                std::size_t ox = 0;
                if (sw == 1)
                    for (; ox + lanes <= g.ow; ox += lanes) {
                        detail::vint sum(0);
                        for (std::size_t t = 0; t < taps; ++t) sum += detail::vint::load_unaligned(p0 + ptap[t] + ox);
                        sum.store_unaligned(wrow + ox);
                    }
                for (; ox < g.ow; ++ox) {
                    std::int32_t sum = 0;
                    for (std::size_t t = 0; t < taps; ++t) sum += p0[ptap[t] + ox * sw];
                    wrow[ox] = sum;
                }
            }
            for (std::size_t oy = 0; oy < g.oh; ++oy) {
                const std::uint32_t* x = words + oy * row_words;
                auto tile = [&]<std::size_t M>(std::integral_constant<std::size_t, M>, std::size_t ox) {
                    const std::size_t at = (oy * g.ow + ox) * ldo;
                    detail::int8_broadcast_micro<M>(x + ox * sx, sx, tap, taps, cq, w, s, window + oy * g.ow + ox, o + at, ldo, g.cout, scale,
                                                    bias, a ? a + at : nullptr, detail::clamps_in_registers<Act>);
                    detail::apply_tile<Act>(o + at, M, ldo, g.cout);
                };
                std::size_t ox = 0;
                for (; ox + 16 <= g.ow; ox += 16) tile(std::integral_constant<std::size_t, 16>{}, ox);
                if (g.ow - ox >= 8) tile(std::integral_constant<std::size_t, 8>{}, ox), ox += 8;
                if (g.ow - ox >= 4) tile(std::integral_constant<std::size_t, 4>{}, ox), ox += 4;
                if (g.ow - ox >= 2) tile(std::integral_constant<std::size_t, 2>{}, ox), ox += 2;
                if (g.ow - ox >= 1) tile(std::integral_constant<std::size_t, 1>{}, ox);
            }
            continue;
        }
#endif
#if XSIMD_WITH_AVX512F
        if constexpr (Lanes) {
            for (std::size_t col = 0; col < g.cout; col += lanes) {
                const std::uint32_t* pw = w + col * d.quads();
                const std::size_t ncols = std::min(lanes, g.cout - col);
                for (std::size_t oy = 0; oy < g.oh; ++oy) {
                    const std::uint32_t* x = words + oy * row_words;
                    auto tile = [&]<std::size_t M>(std::integral_constant<std::size_t, M>, std::size_t ox) {
                        const std::size_t at = (oy * g.ow + ox) * ldo + col;
                        detail::int8_lanes_micro<M>(x + ox * sx, sx, tap, taps, cq / 4, pw, s, o + at, ldo, ncols, correction + col,
                                                    scale + col, bias + col, a ? a + at : nullptr, detail::clamps_in_registers<Act>);
                        detail::apply_tile<Act>(o + at, M, ldo, ncols);
                    };
                    std::size_t ox = 0;
                    for (; ox + 6 <= g.ow; ox += 6) tile(std::integral_constant<std::size_t, 6>{}, ox);
                    if (g.ow - ox >= 4) tile(std::integral_constant<std::size_t, 4>{}, ox), ox += 4;
                    if (g.ow - ox >= 2) tile(std::integral_constant<std::size_t, 2>{}, ox), ox += 2;
                    if (g.ow - ox >= 1) tile(std::integral_constant<std::size_t, 1>{}, ox);
                }
            }
            continue;
        }
#endif
        for (std::size_t p = 0; p < d.panels(); ++p) {
            const std::uint32_t* pw = w + p * d.quads() * nr;
            const std::size_t col = p * nr, ncols = std::min(nr, d.out - col);
            for (std::size_t oy = 0; oy < g.oh; ++oy) {
                const std::uint32_t* x = words + oy * row_words;
                for (std::size_t ox = 0; ox < g.ow; ox += mr) {
                    const std::size_t m = std::min(mr, g.ow - ox), at = (oy * g.ow + ox) * ldo + col;
                    detail::row_blocks(m, [&]<std::size_t M>(std::integral_constant<std::size_t, M>, std::size_t i) {
                        const std::uint32_t* xi = x + (ox + i) * sx;
                        float* yi = o + at + i * ldo;
                        const float* ai = a ? a + at + i * ldo : nullptr;
                        if (ncols > lanes)
                            detail::int8_micro<M, 2>(xi, sx, tap, taps, cq, pw, &s, 0, yi, ldo, ncols, correction + col, scale + col,
                                                     bias + col, ai, detail::clamps_in_registers<Act>);
                        else
                            detail::int8_micro<M, 1>(xi, sx, tap, taps, cq, pw, &s, 0, yi, ldo, ncols, correction + col, scale + col,
                                                     bias + col, ai, detail::clamps_in_registers<Act>);
                    });
                    detail::apply_tile<Act>(o + at, m, ldo, ncols);
                }
            }
        }
    }
}

// The gathered byte rows (C % 4 != 0).
template <class Act>
inline void conv2d_int8_gathered(const ConvGeometry& g, const float* packed, const float* in, float* out, std::size_t batch,
                                 float* scratch, const float* add, std::size_t ldo) noexcept {
    const Int8Packing d = conv_int8_packing(g, Int8ConvPath::gathered);
    const std::size_t ldq = int8_row_words(d), image = g.h * g.w * g.c, pixels = g.oh * g.ow;
    auto* qimg = reinterpret_cast<std::uint8_t*>(scratch);
    auto* rows = reinterpret_cast<std::uint32_t*>(scratch + round_up((image + 3) / 4 + 1, lanes));
    float* sx = reinterpret_cast<float*>(rows + pixel_block * ldq);
    const std::size_t run = g.c;  // bytes of one tap
    for (std::size_t b = 0; b < batch; ++b) {
        float s;
        if (conv_int8_sampled(g)) {  // the image by the grid's scale (bytes off the grid saturate, unread)
            const float m = grid_magnitude(g, in + b * image);
            quantize_with(in + b * image, image, m, qimg);
            s = m / 127.f;
        } else {
            s = quantize_row(in + b * image, image, qimg);
        }
        std::fill_n(sx, pixel_block, s);
        for (std::size_t q0 = 0; q0 < pixels; q0 += pixel_block) {
            const std::size_t n = std::min(pixel_block, pixels - q0);
            for (std::size_t i = 0; i < n; ++i) {
                const std::size_t oy = (q0 + i) / g.ow, ox = (q0 + i) % g.ow;
                auto* row = reinterpret_cast<std::uint8_t*>(rows + i * ldq);
                for (std::size_t ky = 0; ky < g.kh; ++ky) {
                    const std::ptrdiff_t iy = std::ptrdiff_t(oy * g.sh + ky * g.dh) - std::ptrdiff_t(g.pad_top);
                    for (std::size_t kx = 0; kx < g.kw; ++kx, row += run) {
                        const std::ptrdiff_t ix = std::ptrdiff_t(ox * g.sw + kx * g.dw) - std::ptrdiff_t(g.pad_left);
                        if (iy < 0 || ix < 0 || iy >= std::ptrdiff_t(g.h) || ix >= std::ptrdiff_t(g.w)) std::memset(row, 128, run);
                        else std::memcpy(row, qimg + (std::size_t(iy) * g.w + std::size_t(ix)) * g.c, run);
                    }
                }
                for (std::size_t k = g.k(); k % 4; ++k) *row++ = 128;  // the last word's padding: zeros
            }
            const std::size_t at = (b * pixels + q0) * ldo;
            int8_gemm<Act>(d, packed, rows, ldq, sx, n, out + at, ldo, add ? add + at : nullptr);
        }
    }
}

// A 1x1 convolution at stride 1 (Int8ConvPath::pixels) is a Dense over its pixels, and
// quantizes each row of its map with its own scale (the row's largest |x| / 127): a pixel's
// outputs depend on its row alone, so any rows of the map compute alone (band steps, gated
// projections, threads) with the bits of the whole map, at the cost of the image's scale (one
// pass for the largest |x|, one to bytes, each over long runs). With scratch, the map's rows
// are quantized into it and the int8 GEMM runs its panels over all their pixels (a panel's
// weights read once); without (rows alone, a share of them), each row is quantized on the
// stack, at most int8_tile_words words: rows_alone says where a map's rows fit.
inline constexpr std::size_t int8_tile_words = 4096, int8_chunk_pixels = 256;
inline constexpr bool conv_int8_rows_alone(const ConvGeometry& g) noexcept { return g.w * ((g.c + 3) / 4) <= int8_tile_words; }
// A squeeze-and-excitation's gate (passes/gates.hpp) is taken into the inputs as they are
// quantized, up to this many channels (quantize_map_row's products of whole pixels on the stack).
inline constexpr std::size_t int8_gated_channels = 2048;

// One row of the map, w pixels of c channels (times gate[k] where a gate is given: the
// products a squeeze-and-excitation's pass would store), to bytes q_x + 128, pixel i's quads
// at q + i * (c + 3) / 4 words (padded with 128); returns the row's scale (NaN for a NaN or
// an infinity in it).
inline float quantize_map_row(const float* x, const float* gate, std::size_t w, std::size_t c, std::uint32_t* q) noexcept {
    const std::size_t ldq = (c + 3) / 4;
    auto* bytes = reinterpret_cast<std::uint8_t*>(q);
    if (gate == nullptr) {
        const float m = largest_magnitude(x, w * c);
        if (c % 4 == 0) quantize_with(x, w * c, m, bytes);
        else
            for (std::size_t i = 0; i < w; ++i) quantize_with(x + i * c, c, m, bytes + i * ldq * 4);
        return m / 127.f;
    }
    // The products a chunk of whole pixels at a time, into the stack: one pass for their
    // largest magnitude, one to bytes (quantize_with on the products: the bytes of the map
    // times the gate, which the gate's own pass would have stored).
    constexpr std::size_t chunk = int8_gated_channels;
    alignas(alignment) float products[chunk];
    const std::size_t per = chunk / c;  // pixels a chunk (c <= int8_gated_channels: the layer's takes_input_gate)
    auto multiply = [&](std::size_t i0, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
            const float* px = x + (i0 + i) * c;
            float* pp = products + i * c;
            std::size_t k = 0;
            for (; k + lanes <= c; k += lanes) (loadu(px + k) * loadu(gate + k)).store_unaligned(pp + k);
            for (; k < c; ++k) pp[k] = px[k] * gate[k];
        }
    };
    float m = 0.f;
    for (std::size_t i0 = 0; i0 < w; i0 += per) {
        const std::size_t n = std::min(per, w - i0);
        multiply(i0, n);
        const float mi = largest_magnitude(products, n * c);
        if (mi != mi) {  // a NaN or an infinity: the row's scale is NaN
            m = mi;
            break;
        }
        m = std::max(m, mi);
    }
    for (std::size_t i0 = 0; i0 < w; i0 += per) {
        const std::size_t n = std::min(per, w - i0);
        multiply(i0, n);
        if (c % 4 == 0) quantize_with(products, n * c, m, bytes + i0 * c);
        else
            for (std::size_t i = 0; i < n; ++i) quantize_with(products + i * c, c, m, bytes + (i0 + i) * ldq * 4);
    }
    return m / 127.f;
}

template <class Act>
inline void conv2d_int8_pixels(const ConvGeometry& g, const float* packed, const float* in, float* out, std::size_t batch,
                               float* scratch, const float* add, std::size_t ldo, Share share, const float* gate) noexcept {
    if (!share.computes()) return;
    const Int8Packing d = conv_int8_packing(g);
    const std::size_t ldq = d.quads(), row_in = g.w * g.c;
    // A row at a time, its scale a constant of the epilogue (which then multiplies the weights'
    // scales by it once, not once a row: a 56x56x24 -> 144 layer alone, Zen 4, 145 us against
    // 157), or, on a narrow map, as many rows as the buffer holds with each row's scale for each
    // of its pixels, one GEMM over them (tiles across rows: a 7x7 map's 49 pixels are 4 x 12 + 1,
    // not 7 x (4 + 2 + 1)). The buffer: scratch, which holds the whole map, where one thread has
    // it; else the stack (rows alone, a share of them: int8_tile_words words, int8_chunk_pixels
    // pixels). Where columns are cropped (a floor pooling's reader), a row at a time.
    alignas(alignment) std::uint32_t stack_q[int8_tile_words];
    float stack_sx[int8_chunk_pixels];
    const bool whole = scratch != nullptr && share.count <= 1;
    auto* q = whole ? reinterpret_cast<std::uint32_t*>(scratch) : stack_q;
    float* sx = whole ? scratch + ldq * g.h * g.w : stack_sx;
    const bool narrow = g.ow == g.w && g.ow < 2 * mr;
    const std::size_t chunk = !narrow ? 1
                              : whole ? g.oh
                                      : std::max<std::size_t>(1, std::min(int8_tile_words / (g.w * ldq), int8_chunk_pixels / g.w));
    const auto [r0, r1] = share.range(batch * g.oh);
    for (std::size_t r = r0; r < r1;) {
        const std::size_t b = r / g.oh, row = r % g.oh, n = std::min({chunk, r1 - r, g.oh - row});  // (rows of one sample)
        const float* x = in + b * g.h * row_in + row * row_in;
        const std::size_t at = (b * g.oh + row) * g.ow * ldo;
        if (n == 1) {
            const float s = quantize_map_row(x, gate, g.w, g.c, q);
            int8_gemm<Act>(d, packed, q, ldq, &s, g.ow, out + at, ldo, add ? add + at : nullptr, 0);
        } else {
            for (std::size_t i = 0; i < n; ++i)
                std::fill_n(sx + i * g.w, g.w, quantize_map_row(x + i * row_in, gate, g.w, g.c, q + i * g.w * ldq));
            int8_gemm<Act>(d, packed, q, ldq, sx, n * g.w, out + at, ldo, add ? add + at : nullptr);
        }
        r += n;
    }
}

// out = act(conv(in) + b [+ add]), outputs ldo floats apart (cout by default). Path:
// conv_int8_path of the layer's geometry (a crop of it has the same channels, window and
// outputs), the one the weights were packed for, so that a layer instantiates only its loop.
template <class Act, Int8ConvPath Path>
inline void conv2d_int8(const ConvGeometry& g, const float* packed, const float* in, float* out, std::size_t batch, float* scratch,
                        const float* add = nullptr, std::size_t ldo = 0, Share share = {}, const float* gate = nullptr) noexcept {
    if (ldo == 0) ldo = g.cout;
    if constexpr (Path == Int8ConvPath::pixels) conv2d_int8_pixels<Act>(g, packed, in, out, batch, scratch, add, ldo, share, gate);
    else if constexpr (Path == Int8ConvPath::gathered) conv2d_int8_gathered<Act>(g, packed, in, out, batch, scratch, add, ldo);
    else conv2d_int8_implicit<Act, Path == Int8ConvPath::lanes>(g, packed, in, out, batch, scratch, add, ldo);
}

}  // namespace typenet::kernels
