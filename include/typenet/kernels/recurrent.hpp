// Recurrent kernels: SimpleRNN, GRU and LSTM cells over a sequence, one direction at a time.
//
// Packing (one layer, one direction; F inputs, H units, G gates; each gate padded to Hp, a
// multiple of the vector width, so that gate g of unit j sits in the same lane for every g):
//
//   wx[f][g * Hp + j] = W_ih[g * H + j][f]      input weights, one row of G * Hp per input
//   wh[k][g * Hp + j] = W_hh[g * H + j][k]      hidden weights, one row per hidden unit
//   bx[g * Hp + j]    = b_ih + b_hh             (GRU's candidate gate: b_ih only)
//   bh[j]             = b_hh of GRU's candidate gate, which the reset gate multiplies
//
// Gates in PyTorch's order: GRU r, z, n ("linear before reset": n = tanh(W_in x + b_in +
// r * (W_hn h + b_hn))), LSTM i, f, g, o. The GRU with the reset gate first (Keras'
// reset_after=False: n = tanh(W_in x + W_hn (r * h) + b_in + b_hn)) keeps both candidate
// biases in bx.
//
// A call runs T steps: first the input projection of a chunk of steps (bias + W_ih x_t for
// every t in the chunk, a small GEMM whose rows reuse each weight vector), then the
// recurrence step by step: the G * H gate sums W_hh h in registers (several accumulator
// chains when there are few), the gates and the new state applied before they leave them.
// Every step's arithmetic is the same whatever T, the chunk or the call: a sequence run step
// by step, in blocks, or whole gives bitwise the same result. Padded lanes of h stay exactly
// zero (a paired LSTM's c holds f * o in its upper half, bounded, never read).
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "activations.hpp"
#include "dense_bf16.hpp"
#include "elementary.hpp"
#include "epilogue.hpp"
#include "simd.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::kernels {

enum class Cell { rnn, gru, lstm };

template <Cell C>
inline constexpr std::size_t cell_gates = C == Cell::gru ? 3 : C == Cell::lstm ? 4 : 1;

template <Cell C, std::size_t F, std::size_t H>
struct RecurrentPacking {
    static constexpr std::size_t G = cell_gates<C>;
    static constexpr std::size_t V = (H + lanes - 1) / lanes;  // vectors per gate
    static constexpr std::size_t Hp = V * lanes;
    // An LSTM of at most half a vector of units packs its gates two to a vector, [i | f] and
    // [g | o] (gate g from lane g / 2 * lanes + g % 2 * lanes / 2): its hidden product is
    // half the FMAs, and its four gate functions two vectors.
    static constexpr bool paired = C == Cell::lstm && 2 * H <= lanes;
    static constexpr std::size_t row = paired ? 2 * lanes : G * Hp;  // one packed row: every gate of every unit
    static constexpr std::size_t gate(std::size_t g) { return paired ? g / 2 * lanes + g % 2 * (lanes / 2) : g * Hp; }
    static constexpr std::size_t wx = 0, wh = F * row, bx = wh + H * row, bh = bx + row;
    static constexpr std::size_t floats = bh + Hp;
};

// w_ih [G*H][F], w_hh [G*H][H], biases [G*H] or null, in PyTorch's layout.
// A GRU with the reset gate before the hidden product (ResetAfter false) adds b_hn to the
// candidate's input sum like every other bias: bh stays zero.
// Bf16: W_hh as bf16 pairs (rows k and k + 1 of each column in one word, as dense_bf16.hpp
// packs them), in the first half of the same region: the layout's size does not change.
template <Cell C, std::size_t F, std::size_t H, bool ResetAfter = true, bool Bf16 = false>
inline void recurrent_pack(const float* w_ih, const float* w_hh, const float* b_ih, const float* b_hh, float* packed) noexcept {
    using P = RecurrentPacking<C, F, H>;
    static_assert(!(Bf16 && P::paired), "bf16 weights are for layers of 16 units or more");
    std::fill_n(packed, P::floats, 0.f);
    for (std::size_t g = 0; g < P::G; ++g)
        for (std::size_t j = 0; j < H; ++j) {
            const std::size_t o = g * H + j, col = P::gate(g) + j;
            for (std::size_t f = 0; f < F; ++f) packed[P::wx + f * P::row + col] = w_ih[o * F + f];
            for (std::size_t k = 0; k < H; ++k) packed[P::wh + k * P::row + col] = w_hh[o * H + k];
            const float bi = b_ih ? b_ih[o] : 0.f, bh = b_hh ? b_hh[o] : 0.f;
            if (C == Cell::gru && ResetAfter && g == 2) {
                packed[P::bx + col] = bi;
                packed[P::bh + j] = bh;
            } else {
                packed[P::bx + col] = bi + bh;
            }
        }
    if constexpr (Bf16) {
        // In place, in increasing order: word kp * row + col is written after rows 2kp and
        // 2kp + 1 of column col were read, and before any later read reaches it.
        float* wh = packed + P::wh;
        auto* words = reinterpret_cast<std::uint32_t*>(wh);
        for (std::size_t kp = 0; kp < (H + 1) / 2; ++kp)
            for (std::size_t col = 0; col < P::row; ++col) {
                const float even = wh[2 * kp * P::row + col], odd = 2 * kp + 1 < H ? wh[(2 * kp + 1) * P::row + col] : 0.f;
                words[kp * P::row + col] = bf16_pair(even, odd);
            }
        std::fill(wh + (H + 1) / 2 * P::row, wh + H * P::row, 0.f);
    }
}

namespace detail {

// How many accumulator chains a hidden product of H terms into `vectors` sums should split
// into: the recurrence waits on ceil(H / S) FMAs (4 cycles each on Zen 4) and then a tree
// of ceil(log2 S) additions (2 cycles each); the registers bound S * vectors. (S = 5 for 8
// terms waits 2 FMAs and 3 additions: 14 cycles; S = 8, 10.)
consteval std::size_t chains_for(std::size_t H, std::size_t vectors, std::size_t budget) {
    std::size_t best = 1, best_cost = std::size_t(-1);
    for (std::size_t S = 1; S <= H && S * vectors <= std::max(budget, vectors); ++S) {
        std::size_t depth = 0;
        while ((std::size_t(1) << depth) < S) ++depth;
        const std::size_t cost = 4 * ((H + S - 1) / S) + 2 * depth;
        if (cost < best_cost) best = S, best_cost = cost;
    }
    return best;
}

// The gates' functions of a cell: exact (the default) or fast; fast and Lean, the forms written
// for throughput (elementary.hpp), for steps of several vectors of units.
template <bool Fast, bool Lean = false>
struct Gates {
    static vfloat sigmoid(vfloat x) noexcept {
        if constexpr (Fast && Lean) return sigmoid_fast_lean_v(x);
        else if constexpr (Fast) return sigmoid_fast_v(x);
        else return sigmoid_v(x);
    }
    static vfloat tanh(vfloat x) noexcept {
        if constexpr (Fast && Lean) return tanh_fast_lean_v(x);
        else if constexpr (Fast) return tanh_fast_v(x);
        else return tanh_v(x);
    }
    // s tanh(x) (fast: s folded into the rational's numerator).
    static vfloat scaled_tanh(vfloat x, vfloat s) noexcept {
        if constexpr (Fast && Lean) return scaled_tanh_fast_lean_v(x, s);
        else if constexpr (Fast) return scaled_tanh_fast_v(x, s);
        else return s * tanh_v(x);
    }
    // tanh in the lower half of the lanes, the sigmoid in the upper half.
    static vfloat tanh_sigmoid(vfloat x) noexcept {
        if constexpr (Fast) return tanh_sigmoid_fast_v(x);
        else return xsimd::select(lower_half_mask(), tanh_v(x), sigmoid_v(x));
    }
};

// A step's input sums, bias + W_ih x_t, by column of the packed row: read back from the chunk's
// projection (project below), or, for a layer of few inputs, computed where the step uses them
// (`Unprojected`: the same FMAs in the same order, so the same bits). Few inputs make the
// projection a store and a reload per vector for one or two FMAs (an amp model's LSTM 32:
// 6% of its time in project).
template <std::size_t F>
inline constexpr bool project_chunks = F > 2;
struct Projected {
    const float* xp;  // the step's row of the chunk's projection
    vfloat operator()(std::size_t col) const noexcept { return loadu(xp + col); }
};
template <std::size_t F, std::size_t Row>
struct Unprojected {
    const float *wx, *bx, *x;  // x: the step's F inputs
    vfloat operator()(std::size_t col) const noexcept {
        vfloat acc = loadu(bx + col);
        for (std::size_t f = 0; f < F; ++f) acc = kernels::fma(vfloat(x[f]), loadu(wx + f * Row + col), acc);
        return acc;
    }
};

// xp[i][row] = bx + sum_f x[i][f] wx[f] for n rows of x (stride ldx): four rows share each
// weight vector. Each value is the same chain of FMAs whichever block computes it.
template <std::size_t F, std::size_t Row>
inline void project(const float* wx, const float* bx, const float* x, std::size_t ldx, std::size_t n, float* xp) noexcept {
    constexpr std::size_t R = 4;
    std::size_t i = 0;
    for (; i + R <= n; i += R)
        for (std::size_t c = 0; c < Row; c += lanes) {
            vfloat acc[R];
            TYPENET_UNROLL
            for (std::size_t r = 0; r < R; ++r) acc[r] = loadu(bx + c);
            for (std::size_t f = 0; f < F; ++f) {
                const vfloat w = loadu(wx + f * Row + c);
                TYPENET_UNROLL
                for (std::size_t r = 0; r < R; ++r) acc[r] = kernels::fma(vfloat(x[(i + r) * ldx + f]), w, acc[r]);
            }
            TYPENET_UNROLL
            for (std::size_t r = 0; r < R; ++r) storeu(xp + (i + r) * Row + c, acc[r]);
        }
    // The rest a row at a time, walking pointers (with the row count a constant, an index times
    // the stride lets g++ derive a bogus bound and warn under -Waggressive-loop-optimizations).
    float* xo = xp + i * Row;
    for (const float *xi = x + i * ldx, *end = x + n * ldx; xi != end; xi += ldx, xo += Row)
        for (std::size_t c = 0; c < Row; c += lanes) storeu(xo + c, Unprojected<F, Row>{wx, bx, xi}(c));
}

// The hidden product of NG gates, from gate G0 on, of one step: for each block of `lanes`
// units, epilogue(u, a) with a[g] = init(g, u) + sum_k W_hh[G0 + g][u..][k] h[k]. Starting
// the sum from the step's input sums keeps an addition off the recurrence's critical path.
// Unit blocks go in groups whose accumulators fit the registers; within a group the k loop is
// split S ways so that enough FMA chains run at once when the group is small.
//
// Bf16: wh holds bf16 pairs (recurrent_pack<..., true>) and h is rounded to bf16 pairs first;
// each pair is one dot_bf16 (vdpbf16ps, or the same sums by two FMAs): K = ceil(H / 2) terms.
template <std::size_t NG, std::size_t G0, std::size_t H, std::size_t Row, std::size_t Hp, bool Bf16 = false, class Init, class Epilogue>
[[gnu::always_inline]] inline void hidden_product(const float* wh, const float* h, Init&& init, Epilogue&& epilogue) noexcept {
    constexpr std::size_t V = Hp / lanes;
    constexpr std::size_t budget = vector_registers >= 32 ? 20 : 10;  // accumulators in flight
    constexpr std::size_t VB = std::max<std::size_t>(1, std::min(V, budget / NG));  // unit blocks per group
    constexpr std::size_t chains = NG * VB;
    constexpr std::size_t K = Bf16 ? (H + 1) / 2 : H;
    // The recurrence waits on the deepest chain, K / S FMAs, then a tree of log2(S) additions.
    constexpr std::size_t S = chains_for(K, chains, budget);
    alignas(alignment) std::uint32_t pairs[Bf16 ? round_up(K, lanes) : 1];
    if constexpr (Bf16) to_bf16_pairs_away(h, H, pairs);
    for (std::size_t v0 = 0; v0 < V; v0 += VB) {
        const std::size_t nb = std::min(VB, V - v0);  // unit blocks in this group
        vfloat acc[S][NG][VB];
        TYPENET_UNROLL
        for (std::size_t s = 0; s < S; ++s)
            TYPENET_UNROLL
            for (std::size_t g = 0; g < NG; ++g)
                TYPENET_UNROLL
                for (std::size_t b = 0; b < VB; ++b)
                    acc[s][g][b] = s == 0 && b < nb ? init(g, (v0 + b) * lanes) : vfloat(0.f);
        auto accumulate = [&](std::size_t k, std::size_t s) {
            if constexpr (Bf16) {
                const vword hk(pairs[k]);
                const auto* w = reinterpret_cast<const std::uint32_t*>(wh) + k * Row + G0 * Hp + v0 * lanes;
                TYPENET_UNROLL
                for (std::size_t g = 0; g < NG; ++g)
                    TYPENET_UNROLL
                    for (std::size_t b = 0; b < VB; ++b)
                        if (b < nb) acc[s][g][b] = dot_bf16(acc[s][g][b], vword::load_unaligned(w + g * Hp + b * lanes), hk);
            } else {
                const vfloat hk(h[k]);
                const float* w = wh + k * Row + G0 * Hp + v0 * lanes;
                TYPENET_UNROLL
                for (std::size_t g = 0; g < NG; ++g)
                    TYPENET_UNROLL
                    for (std::size_t b = 0; b < VB; ++b)
                        if (b < nb) acc[s][g][b] = kernels::fma(loadu(w + g * Hp + b * lanes), hk, acc[s][g][b]);
            }
        };
        constexpr std::size_t kmain = K / S * S;
        if constexpr (H <= 64) {
            TYPENET_UNROLL
            for (std::size_t k = 0; k < kmain; k += S)
                TYPENET_UNROLL
                for (std::size_t s = 0; s < S; ++s) accumulate(k + s, s);
        } else {
            for (std::size_t k = 0; k < kmain; k += S)
                TYPENET_UNROLL
                for (std::size_t s = 0; s < S; ++s) accumulate(k + s, s);
        }
        TYPENET_UNROLL
        for (std::size_t k = kmain; k < K; ++k) accumulate(k, k - kmain);
        TYPENET_UNROLL
        for (std::size_t b = 0; b < VB; ++b) {
            if (b < nb) {  // (not a break: a constant trip count, which clang can unroll)
                vfloat a[NG];
                TYPENET_UNROLL
                for (std::size_t g = 0; g < NG; ++g) {
                    a[g] = sum_tree<S>([&](std::size_t s) { return acc[s][g][b]; });
                }
                epilogue((v0 + b) * lanes, a);
            }
        }
    }
}

// One step: h_new (and c) from h_old and the step's input sums xin (Projected or
// Unprojected), the gates and the new state applied while the hidden sums are in registers.
// GRU with the reset gate before the hidden product (Keras' reset_after=False) needs r first:
// two passes, r and z, then n on r * h.
template <Cell C, std::size_t H, class Act, bool ResetAfter = true, bool Fast = false, bool Bf16 = false, class XIn>
inline void cell_step(const float* wh, const float* bh, const XIn& xin, const float* h_old, float* h_new, float* c) noexcept {
    using P = RecurrentPacking<C, 1, H>;
    // Lean: where the gate is off the step's longest chain (the GRU's z), or where the step
    // issues more than it waits (the LSTM's five functions a block: LSTM 32 bf16 52.0-52.9 ->
    // 49.3-49.6 ns a step; the GRU's r and n, on its chain, lean: GRU 32 bf16 40.7 -> 42.6).
    using F = Gates<Fast>;
    using L = Gates<Fast, true>;
    constexpr std::size_t G = P::G, Hp = P::Hp, Row = P::row;
    static_assert(!P::paired, "paired gates run in registers (cell_step_registers)");
    const auto in = [&](std::size_t g, std::size_t u) { return xin(g * Hp + u); };
    if constexpr (C == Cell::rnn) {
        hidden_product<1, 0, H, Row, Hp, Bf16>(wh, h_old, in, [&](std::size_t u, const vfloat* a) {
            if constexpr (std::is_same_v<Act, typenet::tanh>) storeu(h_new + u, F::tanh(a[0]));
            else storeu(h_new + u, Act::apply(a[0]));
        });
    } else if constexpr (C == Cell::gru && ResetAfter) {
        const auto init = [&](std::size_t g, std::size_t u) { return g == 2 ? loadu(bh + u) : in(g, u); };
        hidden_product<G, 0, H, Row, Hp, Bf16>(wh, h_old, init, [&](std::size_t u, const vfloat* a) {
            const vfloat r = F::sigmoid(a[0]);
            const vfloat z = L::sigmoid(a[1]);
            const vfloat n = F::tanh(kernels::fma(r, a[2], in(2, u)));
            storeu(h_new + u, kernels::fma(z, loadu(h_old + u) - n, n));
        });
    } else if constexpr (C == Cell::gru) {
        alignas(alignment) float rh[Hp], zs[Hp];  // r * h_old, and z
        hidden_product<2, 0, H, Row, Hp, Bf16>(wh, h_old, in, [&](std::size_t u, const vfloat* a) {
            const vfloat r = F::sigmoid(a[0]);
            storeu(zs + u, L::sigmoid(a[1]));
            storeu(rh + u, r * loadu(h_old + u));
        });
        hidden_product<1, 2, H, Row, Hp, Bf16>(wh, rh, [&](std::size_t, std::size_t u) { return in(2, u); }, [&](std::size_t u, const vfloat* a) {
            const vfloat n = F::tanh(a[0]);
            storeu(h_new + u, kernels::fma(loadu(zs + u), loadu(h_old + u) - n, n));
        });
    } else {
        hidden_product<G, 0, H, Row, Hp, Bf16>(wh, h_old, in, [&](std::size_t u, const vfloat* a) {
            const vfloat i = L::sigmoid(a[0]);
            const vfloat f = L::sigmoid(a[1]);
            const vfloat g = L::tanh(a[2]);
            const vfloat o = L::sigmoid(a[3]);
            const vfloat ig = i * g;
            const vfloat cn = kernels::fma(f, loadu(c + u), ig);
            storeu(c + u, cn);
            storeu(h_new + u, L::scaled_tanh(cn, o));
        });
    }
}

// Lane k of v in every lane (a shuffle: no store and reload).
template <std::size_t K, std::size_t... I>
inline vfloat lane_impl(vfloat v, std::index_sequence<I...>) noexcept {
    return xsimd::swizzle(v, xsimd::batch_constant<xsimd::batch<std::uint32_t, arch>, ((void)I, std::uint32_t(K))...>{});
}
template <std::size_t K>
inline vfloat lane(vfloat v) noexcept {
    return lane_impl<K>(v, std::make_index_sequence<lanes>{});
}

// Term J of a hidden product in registers: unit J of h in every lane.
struct LaneTerms {
    vfloat v;
    explicit LaneTerms(vfloat h) noexcept : v(h) {}
    template <std::size_t J>
    vfloat term() const noexcept {
        return lane<J>(v);
    }
};
// Term J of a bf16 hidden product in registers: units 2J and 2J + 1 of h rounded to bf16 (to
// nearest, ties away from zero: to_bf16_away) as one word, in every lane. With AVX-512 BW the
// rounding is one integer addition on h's bits (2^15: each upper half is then the bf16 value)
// and one word permute takes both halves: 3 cycles on the step's chain where ties to even took
// 7 (a shift, a mask and an addition, 2 cycles each, after the floating-point result) and
// vcvtneps2bf16 8 (measured on AMD family 26). (A NaN whose upper mantissa bits and bit 15 are all ones would
// round to a zero here; h keeps it, and it reaches the next h through z h or f c.)
struct Bf16Terms {
#if XSIMD_WITH_AVX512F && defined(__AVX512BW__)
    static constexpr bool by_words = is_avx512;
#else
    static constexpr bool by_words = false;
#endif
    vfloat v;  // h's bits rounded in place, or the pairs (bf16_pairs_away_of)
    explicit Bf16Terms(vfloat h) noexcept {
#if XSIMD_WITH_AVX512F && defined(__AVX512BW__)
        if constexpr (by_words) {
            v = vfloat(_mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(h), _mm512_set1_epi32(0x8000))));
            return;
        }
#endif
        v = xsimd::bitwise_cast<vfloat>(bf16_pairs_away_of(h));
    }
    template <std::size_t J>
    vfloat term() const noexcept {
#if XSIMD_WITH_AVX512F && defined(__AVX512BW__)
        if constexpr (by_words) {
            const __m512i words = _mm512_set1_epi32(int((4 * J + 3) << 16 | (4 * J + 1)));  // upper halves of lanes 2J, 2J + 1
            return vfloat(_mm512_castsi512_ps(_mm512_permutexvar_epi16(words, _mm512_castps_si512(v))));
        }
#endif
        return lane<J>(v);
    }
};

// A layer of at most one vector of units: the state stays in registers from step to step and
// each h[k] is a lane shuffle, so nothing on the recurrence's critical path goes through
// memory. Whether a layer runs here or in cell_step depends only on its size, so a sequence
// run whole, in blocks or step by step still takes one path and agrees bit for bit.
template <Cell C, std::size_t H, class Act, bool Fast, bool Bf16 = false, class XIn>
[[gnu::always_inline]] inline void cell_step_registers(const float* wh, const float* bh, const XIn& xin, vfloat& h, vfloat& c) noexcept {
    using P = RecurrentPacking<C, 1, H>;
    using F = Gates<Fast>;
    constexpr std::size_t Hp = P::Hp, Row = P::row;
    constexpr std::size_t G = Row / lanes;  // sums: one vector per gate, or per pair of gates
    static_assert(Hp == lanes);
    // The chains that wait least (ceil(H / S) FMAs deep, then a tree of log2(S) additions)
    // among those the registers hold beside the state and a weight vector or two. The GRU's z
    // is needed last (after r's sigmoid and the candidate's numerator): two chains, deeper, and
    // its short tree leaves the adders to r's and n's (GRU 8 and GRU 16 bf16: 1 ns a step).
    constexpr std::size_t budget = vector_registers >= 32 ? 24 : 10;
    constexpr std::size_t K = Bf16 ? (H + 1) / 2 : H;  // terms: units, or pairs of units
    constexpr std::size_t slack = C == Cell::gru ? 1 : G;  // the gate with fewer chains, if any
    constexpr std::size_t S_slack = std::min<std::size_t>(K, 2);
    constexpr std::size_t S = slack < G ? chains_for(K, G - 1, budget - S_slack) : chains_for(K, G, budget);
    constexpr auto chains = [](std::size_t g) { return g == slack ? S_slack : S; };
    vfloat acc[S][G];
    TYPENET_UNROLL
    for (std::size_t s = 0; s < S; ++s)
        TYPENET_UNROLL
        for (std::size_t g = 0; g < G; ++g)
            if (s < chains(g)) acc[s][g] = s > 0 ? vfloat(0.f) : C == Cell::gru && g == 2 ? loadu(bh) : xin(g * lanes);
    // Term J: unit J's h (a lane shuffle) times its weights, or (bf16) the pair of units 2J and
    // 2J + 1 as one word times theirs.
    const std::conditional_t<Bf16, Bf16Terms, LaneTerms> terms(h);
    // (Both lambdas forced inline: left to itself g++ may call the fold out of line and pass
    // the accumulators through memory, which doubled an LSTM 16's step.)
    const auto term = [&]<std::size_t J>() __attribute__((always_inline)) {
        const vfloat hj = terms.template term<J>();
        TYPENET_UNROLL
        for (std::size_t g = 0; g < G; ++g) {
            vfloat& a = acc[J % chains(g)][g];
            if constexpr (Bf16)
                a = dot_bf16(a, vword::load_unaligned(reinterpret_cast<const std::uint32_t*>(wh) + J * Row + g * lanes), xsimd::bitwise_cast<vword>(hj));
            else a = kernels::fma(loadu(wh + J * Row + g * lanes), hj, a);
        }
    };
    [&]<std::size_t... J>(std::index_sequence<J...>) __attribute__((always_inline)) { (term.template operator()<J>(), ...); }(std::make_index_sequence<K>{});
    vfloat a[G];
    TYPENET_UNROLL
    for (std::size_t g = 0; g < G; ++g)
        a[g] = g == slack ? sum_tree<S_slack>([&](std::size_t s) { return acc[s][g]; }) : sum_tree<S>([&](std::size_t s) { return acc[s][g]; });
    if constexpr (P::paired && Fast) {
        // As quotients (sigmoid_fast_q): [i | f c] (c moved up beside f, into the numerator) and
        // [g | o]; i g is the lower half of their product, f c the upper half of the first moved
        // down, o folded into the tanh's quotient with zeros above (so h's upper lanes stay zero;
        // c's hold f c o + i, bounded, never read).
        const Quotient s = sigmoid_fast_q(a[0], xsimd::select(lower_half_mask(), vfloat(1.f), swap_halves(c)));
        const Quotient t = tanh_sigmoid_fast_q(a[1]);
        c = (s.num * t.num) / (s.den * t.den) + swap_halves(s.num) / swap_halves(s.den);
        h = quotient_tanh_fast_v(c, upper_half_down(t.num), swap_halves(t.den));
    } else if constexpr (P::paired) {
        // a[0] = [i | f], a[1] = [g | o]: f and o moved down beside i and g (zeros above them,
        // so h's upper lanes stay zero; c's hold f * o, bounded, never read).
        const vfloat s = F::sigmoid(a[0]);
        const vfloat t = F::tanh_sigmoid(a[1]);
        c = kernels::fma(upper_half_down(s), c, s * t);
        h = F::scaled_tanh(c, upper_half_down(t));
    } else if constexpr (C == Cell::rnn) {
        if constexpr (std::is_same_v<Act, typenet::tanh>) h = F::tanh(a[0]);
        else h = Act::apply(a[0]);
    } else if constexpr (C == Cell::gru && Fast) {
        // h' = (1 - z) n + z h as one quotient (gru_step_fast_v): one division a step.
        h = detail::gru_step_fast_v(a[0], a[2], xin(2 * Hp), a[1], h);
    } else if constexpr (C == Cell::gru) {
        const vfloat r = F::sigmoid(a[0]);
        const vfloat z = F::sigmoid(a[1]);
        const vfloat n = F::tanh(kernels::fma(r, a[2], xin(2 * Hp)));
        h = kernels::fma(z, h - n, n);
    } else if constexpr (Fast) {
        // f c and i g as two quotients, o folded into the tanh's (sigmoid_fast_q): three
        // divisions a step, apart, instead of four at once and a fifth.
        const Quotient i = sigmoid_fast_q(a[0]), f = sigmoid_fast_q(a[1], c), g = tanh_fast_q(a[2]), o = sigmoid_fast_q(a[3]);
        c = divided(f) + (i.num * g.num) / (i.den * g.den);
        h = quotient_tanh_fast_v(c, o.num, o.den);
    } else {
        const vfloat i = F::sigmoid(a[0]);
        const vfloat f = F::sigmoid(a[1]);
        const vfloat g = F::tanh(a[2]);
        const vfloat o = F::sigmoid(a[3]);
        c = kernels::fma(f, c, i * g);
        h = F::scaled_tanh(c, o);
    }
}

}  // namespace detail

// Steps of a chunk projected at once; the caller's scratch holds recurrent_scratch floats.
inline constexpr std::size_t recurrent_chunk = 32;
template <Cell C, std::size_t H>
inline constexpr std::size_t recurrent_scratch = recurrent_chunk * RecurrentPacking<C, 1, H>::row;

// T steps of one direction. x: T rows of F at stride ldx; y (or null): T rows of H at stride
// ldy; h (and c, LSTM): H floats, the state before and after. Reverse runs t = T-1 .. 0.
// Not inlined: one body per cell and size runs every T, so every T rounds alike.
template <Cell C, std::size_t F, std::size_t H, class Act, bool ResetAfter = true, bool Fast = false, bool Bf16 = false>
[[gnu::noinline]] void recurrent_run(const float* packed, const float* x, std::size_t T, std::size_t ldx, float* y, std::size_t ldy,
                                     float* h, float* c, bool reverse, float* scratch) noexcept {
    using P = RecurrentPacking<C, F, H>;
    // Step t's input sums: a row of the chunk's projection, or computed in the step.
    const auto input = [&](std::size_t lo, std::size_t r) {
        if constexpr (detail::project_chunks<F>) return detail::Projected{scratch + r * P::row};
        else return detail::Unprojected<F, P::row>{packed + P::wx, packed + P::bx, x + (lo + r) * ldx};
    };
    const auto project = [&](std::size_t lo, std::size_t n) {
        if constexpr (detail::project_chunks<F>) detail::project<F, P::row>(packed + P::wx, packed + P::bx, x + lo * ldx, ldx, n, scratch);
    };
    if constexpr (P::Hp == lanes && !(C == Cell::gru && !ResetAfter)) {
        vfloat hv = load_n(h, H), cv = C == Cell::lstm ? load_n(c, H) : vfloat(0.f);
        for (std::size_t start = 0; start < T; start += recurrent_chunk) {
            const std::size_t n = std::min(recurrent_chunk, T - start);
            const std::size_t lo = reverse ? T - start - n : start;
            project(lo, n);
            for (std::size_t i = 0; i < n; ++i) {
                const std::size_t r = reverse ? n - 1 - i : i;
                detail::cell_step_registers<C, H, Act, Fast, Bf16>(packed + P::wh, packed + P::bh, input(lo, r), hv, cv);
                if (y) store_n(y + (lo + r) * ldy, hv, H);
            }
        }
        store_n(h, hv, H);
        if constexpr (C == Cell::lstm) store_n(c, cv, H);
    } else {
        alignas(alignment) float hbuf[2][P::Hp];
        alignas(alignment) float cbuf[C == Cell::lstm ? P::Hp : 1];
        std::fill_n(hbuf[0], 2 * P::Hp, 0.f);
        std::copy_n(h, H, hbuf[0]);
        if constexpr (C == Cell::lstm) {
            std::fill_n(cbuf, P::Hp, 0.f);
            std::copy_n(c, H, cbuf);
        }
        std::size_t cur = 0;
        for (std::size_t start = 0; start < T; start += recurrent_chunk) {
            const std::size_t n = std::min(recurrent_chunk, T - start);
            const std::size_t lo = reverse ? T - start - n : start;  // the chunk's rows, in memory order
            project(lo, n);
            for (std::size_t i = 0; i < n; ++i) {
                const std::size_t r = reverse ? n - 1 - i : i;
                detail::cell_step<C, H, Act, ResetAfter, Fast, Bf16>(packed + P::wh, packed + P::bh, input(lo, r), hbuf[cur], hbuf[cur ^ 1], cbuf);
                cur ^= 1;
                if (y) std::copy_n(hbuf[cur], H, y + (lo + r) * ldy);
            }
        }
        std::copy_n(hbuf[cur], H, h);
        if constexpr (C == Cell::lstm) std::copy_n(cbuf, H, c);
    }
}

}  // namespace typenet::kernels
