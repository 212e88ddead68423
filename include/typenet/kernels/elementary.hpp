// Elementary functions on vectors, written for latency: exp, expm1, sigmoid and tanh with
// short dependency chains (a recurrent step waits on a sigmoid, then a tanh, at every step;
// a tiny network's forward is mostly its activations), as accurate as xsimd's (within 3 ulp,
// tests/kernels/recurrent.cpp), and the opt-in fast tanh and sigmoid (tn::fast_activations).
// NaN handling is the caller's: the activations (activations.hpp) keep a NaN a NaN.
#pragma once
#include "../core/isa.hpp"
#include <array>

#include "simd.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::kernels::detail {

// Within 3 ulp of double precision, or 3 * 2^-24 absolute near zero (tests/kernels/recurrent.cpp).
// e^r - 1 for |r| <= ln2 / 2, by its Taylor series to r^8, evaluated Estrin-style (depth 4).
inline vfloat expm1_reduced(vfloat r) noexcept {
    const vfloat r2 = r * r, r4 = r2 * r2;
    const vfloat a = kernels::fma(vfloat(1.f / 6), r, vfloat(0.5f));             // 1/2 + r/6
    const vfloat b = kernels::fma(vfloat(1.f / 120), r, vfloat(1.f / 24));       // 1/24 + r/120
    const vfloat c = kernels::fma(vfloat(1.f / 5040), r, vfloat(1.f / 720));     // 1/720 + r/5040
    const vfloat d = kernels::fma(c, r2, b);
    const vfloat e = kernels::fma(vfloat(1.f / 40320), r4, d);
    return kernels::fma(r2, kernels::fma(e, r2, a), r);                            // r + r^2 (a + r^2 e)
}
// x = n ln2 + r, n = round(x / ln2), |r| <= ln2 / 2 (ln2 in two parts, n ln2's high part exact).
struct Ln2Reduced {
    vfloat n, r;
};
inline Ln2Reduced reduce_ln2(vfloat x) noexcept {
    const vfloat n = xsimd::nearbyint(x * vfloat(1.44269504f));
    return {n, kernels::fma(n, vfloat(-1.42860677e-6f), kernels::fma(n, vfloat(-0.693145752f), x))};
}
// e^x - 1 for 0 <= x <= 18 (the caller clamps): x = n ln2 + r, then 2^n (e^r - 1) + 2^n - 1,
// exact cancellation-free for n = 0 (small x).
inline vfloat expm1_nonneg(vfloat x) noexcept {
    const auto [n, r] = reduce_ln2(x);
    const vfloat scale = xsimd::bitwise_cast<vfloat>((xsimd::to_int(n) + 127) << 23);
    return kernels::fma(scale, expm1_reduced(r), scale - vfloat(1.f));
}
// e^x for x <= 0 down to underflow: 2^n (1 + (e^r - 1)). A NaN stays NaN: x86's max and min
// return their second operand when either is NaN (NEON's, the NaN), so the bound goes first.
inline vfloat exp_nonpos(vfloat x) noexcept {
    x = xsimd::max(vfloat(-87.f), x);
    const auto [n, r] = reduce_ln2(x);
    const vfloat scale = xsimd::bitwise_cast<vfloat>((xsimd::to_int(n) + 127) << 23);
    return kernels::fma(scale, expm1_reduced(r), scale);
}
// 2^n p, n integral within [-150, 150] (see exp_within).
inline vfloat times_pow2(vfloat p, vfloat n) noexcept {
#if XSIMD_WITH_AVX512F
    if constexpr (is_avx512) return vfloat(_mm512_scalef_ps(p, n));
#endif
    const auto ni = xsimd::to_int(n), half = ni >> 1;
    return p * xsimd::bitwise_cast<vfloat>((half + 127) << 23) * xsimd::bitwise_cast<vfloat>((ni - half + 127) << 23);
}
// e^(S r) for |r| <= ln2 / 2, S = 1 or -1: the fitted polynomial in r, its odd coefficients
// times S (Horner: 6 FMAs).
template <int S>
inline vfloat exp_reduced(vfloat r) noexcept {
    constexpr float s = S;
    vfloat p = kernels::fma(vfloat(0.0013814617414027452f), r, vfloat(s * 0.008368710055947304f));
    p = kernels::fma(p, r, vfloat(0.04166838899254799f));
    p = kernels::fma(p, r, vfloat(s * 0.1666652113199234f));
    p = kernels::fma(p, r, vfloat(0.4999999403953552f));
    p = kernels::fma(p, r, vfloat(s));
    return kernels::fma(p, r, vfloat(1.f));
}
// e^x written for throughput (SiLU over a whole map: nothing waits on one result), within
// 2 ulp, for x within [-104, 104]: x = n ln2 + r, |r| <= ln2 / 2, e^r by a degree-6 polynomial
// fitted to it over that interval (relative error 3e-9 before rounding; Horner: 6 FMAs, one
// fewer than the Taylor series to r^7 it replaced), then times 2^n — with AVX-512 by one
// vscalefps, exact down to the denormals and up to infinity; elsewhere by two factors 2^(n/2)
// and 2^(n - n/2) made from exponent bits (2^n alone leaves the exponent's range at n = 128
// and n = -127, which e^88.5 and e^-88 need). Past +-104 e^x is 0 or infinite in float (2^150
// overflows, 2^-150 is 0).
inline vfloat exp_within(vfloat x) noexcept {
    const auto [n, r] = reduce_ln2(x);
    return times_pow2(exp_reduced<1>(r), n);
}
// e^-x for x within [-104, 104], bitwise exp_within(-x), without negating x: n is exp_within's
// n for -x, u = x + n ln2 is its r negated (each rounding is symmetric), and the polynomial
// with its odd coefficients negated, evaluated at u, gives its values exactly. One
// instruction fewer, and the one that cost: SiLU 2.75 -> 2.40 ns a vector (Zen 5, a /tmp loop
// in L1 interleaving the two, medians of 20001 rounds; bitwise the same on 2.7e8 inputs).
inline vfloat exp_neg_within(vfloat x) noexcept {
    const vfloat n = xsimd::nearbyint(x * vfloat(-1.44269504f));
    const vfloat u = kernels::fma(n, vfloat(1.42860677e-6f), kernels::fma(n, vfloat(0.693145752f), x));
    return times_pow2(exp_reduced<-1>(u), n);
}
// e^x for any x: clamped to [-104, 104] first; a NaN stays NaN (the bounds go first, as in
// exp_nonpos).
inline vfloat exp_v(vfloat x) noexcept { return exp_within(xsimd::min(vfloat(104.f), xsimd::max(vfloat(-104.f), x))); }
// sigmoid(x) = 1 / (1 + e^-|x|) for x >= 0, e^x / (1 + e^x) below: e^-|x| never overflows.
inline vfloat sigmoid_v(vfloat x) noexcept {
    const vfloat e = exp_nonpos(-xsimd::abs(x));
    const vfloat s = vfloat(1.f) / (vfloat(1.f) + e);
    return xsimd::select(x >= vfloat(0.f), s, e * s);
}
// tanh(x) = sign(x) m / (m + 2), m = e^(2|x|) - 1 (saturated at |x| = 9, where tanh is 1 in float).
inline vfloat tanh_v(vfloat x) noexcept {
    const vfloat m = expm1_nonneg(xsimd::min(vfloat(18.f), xsimd::abs(x) + xsimd::abs(x)));  // (NaN: as exp_nonpos)
    const vfloat t = m / (m + vfloat(2.f));
    return xsimd::copysign(t, x);
}

// x clamped to [-c, c]: one range instruction on AVX-512 (the smaller magnitude, x's sign).
inline vfloat clamp_symmetric(vfloat x, vfloat c) noexcept {
#if defined(__AVX512DQ__)
    if constexpr (is_avx512) return vfloat(_mm512_range_ps(x, c, 0b0010));
#endif
    return xsimd::min(xsimd::max(x, -c), c);
}

// c0 + c1 u + c2 u^2 + c3 u^3 by Estrin's scheme (u2 = u^2): two FMA levels after u^2.
[[gnu::always_inline]] inline vfloat cubic(vfloat u, vfloat u2, vfloat c0, vfloat c1, vfloat c2, vfloat c3) noexcept {
    return kernels::fma(u2, kernels::fma(c3, u, c2), kernels::fma(c1, u, c0));
}

// A quotient not yet divided: a caller that multiplies or adds quotients divides once.
struct Quotient {
    vfloat num, den;
};
// x P(u) / Q(u), u = x^2, P and Q cubic, for |x| <= the caller's clamp. Written for latency:
// x times each of P's coefficients runs beside the squaring, so the numerator is ready with
// the denominator (two FMA levels after u^2) and the division can follow at once. (settle
// keeps GCC from folding x p0 back into a longer chain, which costs about 1 ns per step.)
[[gnu::always_inline]] inline Quotient odd_rational_parts(vfloat a, const vfloat (&p)[4], const vfloat (&q)[4]) noexcept {
    const vfloat u = a * a, u2 = u * u;
    vfloat ap0 = a * p[0], ap2 = a * p[2];
    settle(ap0);
    settle(ap2);
    const vfloat lo = kernels::fma(a * p[1], u, ap0), hi = kernels::fma(a * p[3], u, ap2);
    return {kernels::fma(hi, u2, lo), cubic(u, u2, q[0], q[1], q[2], q[3])};
}
// x P(u) / Q(u) + k as one quotient, (x P(u) + k Q(u)) / Q(u): the sigmoid's 1/2 folded into
// the numerator (one FMA level longer than x P(u), which waits beside Q(u) anyway), so nothing
// follows the division. kq[i] = k q_i; with kq = -0 its quotient is odd_rational_parts', bitwise.
[[gnu::always_inline]] inline Quotient odd_rational_plus_parts(vfloat a, const vfloat (&p)[4], const vfloat (&q)[4], const vfloat (&kq)[4]) noexcept {
    const vfloat u = a * a, u2 = u * u;
    const vfloat lo = kernels::fma(u, kernels::fma(a, p[1], kq[1]), kernels::fma(a, p[0], kq[0]));
    const vfloat hi = kernels::fma(u, kernels::fma(a, p[3], kq[3]), kernels::fma(a, p[2], kq[2]));
    return {kernels::fma(hi, u2, lo), cubic(u, u2, q[0], q[1], q[2], q[3])};
}

// Opt-in (tn::fast_activations): tanh by a rational minimax fit, x P(x^2) / Q(x^2) with P and Q
// cubic in x^2, on x clamped to [-6.9, 6.9] (fitted to tanh on [0, 6.9] by iterated weighted
// least squares, tools/fast_tanh_fit.py); within 1.5e-6 of tanh over every float, and the
// sigmoid from it, 1/2 + tanh(x/2)/2, within 1e-6 (tests/kernels/recurrent.cpp). Odd, bounded
// by 1, monotone like tanh. Its critical path is a clamp, two squarings, two FMAs and one
// division — about half the exact functions' latency, which is what a small recurrent layer
// waits on at every step.
struct TanhFit {
    static constexpr float p0 = 0.9999961256980896f, p1 = 0.1231522187590599f, p2 = 0.002288658171892166f, p3 = 3.985559487773571e-06f;
    static constexpr float q0 = 1.f, q1 = 0.45647209882736206f, q2 = 0.021126482635736465f, q3 = 0.00014362293586600572f;
};
// 1/2 + tanh(x/2)/2 with the halvings folded into the coefficients: x clamped to [-13.8, 13.8],
// 1/2 + x P'(x^2) / Q'(x^2), P'_k = P_k / 4^(k+1), Q'_k = Q_k / 4^k.
struct SigmoidFit {
    static constexpr float p0 = TanhFit::p0 / 4, p1 = TanhFit::p1 / 16, p2 = TanhFit::p2 / 64, p3 = TanhFit::p3 / 256;
    static constexpr float q0 = 1.f, q1 = TanhFit::q1 / 4, q2 = TanhFit::q2 / 16, q3 = TanhFit::q3 / 64;
};
// The functions as quotients not yet divided, with factors known before x folded into the
// coefficients: a recurrent step scales an activation by a gate that is ready first (the LSTM's
// o tanh(c)), which saves the multiplication after the division (LSTM 8 / 16 / 32: 0.5-1.3 ns
// a step), and combines quotients before it divides: vdivps issues once every 2.5 cycles
// (Zen 4/5), and a step's i, f, g and o would end in four divisions at once, the last some 7
// cycles after the first; with f c = (c N_f) / Q_f and i g = (N_i N_g) / (Q_i Q_g), and o in the
// tanh's quotient, an LSTM step divides three times, apart.
// s sigmoid(x) = (x (s P) + (s / 2) Q) / Q: the sigmoid's 1/2 and s in the numerator.
inline Quotient sigmoid_fast_q(vfloat x, vfloat s = vfloat(1.f)) noexcept {
    using C = SigmoidFit;
    return odd_rational_plus_parts(clamp_symmetric(x, vfloat(2 * 6.9f)), {s * vfloat(C::p0), s * vfloat(C::p1), s * vfloat(C::p2), s * vfloat(C::p3)},
                                   {vfloat(C::q0), vfloat(C::q1), vfloat(C::q2), vfloat(C::q3)},
                                   {s * vfloat(C::q0 / 2), s * vfloat(C::q1 / 2), s * vfloat(C::q2 / 2), s * vfloat(C::q3 / 2)});
}
// (n / d) tanh(x) = x (n P) / (d Q).
inline Quotient tanh_fast_q(vfloat x, vfloat n = vfloat(1.f), vfloat d = vfloat(1.f)) noexcept {
    using C = TanhFit;
    return odd_rational_parts(clamp_symmetric(x, vfloat(6.9f)), {n * vfloat(C::p0), n * vfloat(C::p1), n * vfloat(C::p2), n * vfloat(C::p3)},
                              {d * vfloat(C::q0), d * vfloat(C::q1), d * vfloat(C::q2), d * vfloat(C::q3)});
}
inline vfloat divided(Quotient r) noexcept { return r.num / r.den; }
inline vfloat tanh_fast_v(vfloat x) noexcept { return divided(tanh_fast_q(x)); }
inline vfloat sigmoid_fast_v(vfloat x) noexcept { return divided(sigmoid_fast_q(x)); }
// s tanh(x), and (n / d) tanh(x) in one division.
inline vfloat scaled_tanh_fast_v(vfloat x, vfloat s) noexcept { return divided(tanh_fast_q(x, s)); }
inline vfloat quotient_tanh_fast_v(vfloat x, vfloat n, vfloat d) noexcept { return divided(tanh_fast_q(x, n, d)); }
// The GRU's fast step as one quotient: h' = (1 - z) n + z h, n = tanh(c + r g), r = sigmoid(a),
// z = sigmoid(b) (c = W_in x + b_in, g = W_hn h + b_hn; a and b the r and z gate sums), the
// fast functions' rationals combined before one division — the step otherwise waits on two in
// a row (r's sigmoid, then the candidate's tanh) and z's beside them. With sigmoid(a) = 1/2 +
// a P(u) / Q(u) (u = a^2, a clamped as in sigmoid_fast_v), the tanh's argument is y = M / Q,
// M = (c + g/2) Q(u) + a g P(u); the tanh's rational y T(y^2) / S(y^2), both cubic in y^2,
// times Q^6 / Q^6 is
//   M Th(M^2, Q^2) / (Q Sh(M^2, Q^2)),   Th(A, B) = t0 B^3 + t1 A B^2 + t2 A^2 B + t3 A^3
// (Sh likewise), with M clamped to |M| <= 6.9 Q (y to tanh_fast_v's clamp; Q >= 1). z = Z / R
// by sigmoid_fast_q's quotient, so 1 - z = (R - Z) / R, and
//   h' = (M Th (R - Z) + h Z Q Sh) / (Q Sh R).
// Written for latency: M's coefficients a (g p_i) + (g q_i / 2 + c q_i) take a last (the gate
// sums arrive together; a's clamp is the later). Z and R carry a factor 2^-60 (exact) so that
// nothing overflows for any state: Q, R <= 86.2 (|a|, |b| <= 13.8), Sh <= 86.2 B^3 < 3.5e13,
// so the denominator is in [2^-60, 0.23] and |h Z Q Sh| 2^-60 < 0.23 |h|. The same rationals
// as (1 - z) tanh_fast_v(c + sigmoid_fast_v(a) g) + z h, other roundings (bounded in
// tests/kernels/recurrent.cpp). One division a step instead of two: a GRU 16 bf16 step 25.7 ->
// 25.2 ns (session 26; the candidate alone as one quotient took 29.9 -> 28.1 in session 24).
// More operations, though: where a step issues more than it waits (kernels::cell_step, GRU 32
// bf16: 39.9 -> 42.6 ns with the candidate alone) the quotients stay apart.
inline vfloat gru_step_fast_v(vfloat a, vfloat g, vfloat c, vfloat b, vfloat h) noexcept {
    using S = SigmoidFit;
    using T = TanhFit;
    constexpr float k = 0x1p-60f;  // R and Z scaled (exactly), so that no product overflows
    const Quotient z = odd_rational_plus_parts(clamp_symmetric(b, vfloat(2 * 6.9f)), {vfloat(k * S::p0), vfloat(k * S::p1), vfloat(k * S::p2), vfloat(k * S::p3)},
                                               {vfloat(k * S::q0), vfloat(k * S::q1), vfloat(k * S::q2), vfloat(k * S::q3)},
                                               {vfloat(k * S::q0 / 2), vfloat(k * S::q1 / 2), vfloat(k * S::q2 / 2), vfloat(k * S::q3 / 2)});
    const vfloat s = z.den - z.num;  // (1 - z) R
    a = clamp_symmetric(a, vfloat(2 * 6.9f));
    const vfloat u = a * a, u2 = u * u;
    const vfloat q = cubic(u, u2, vfloat(S::q0), vfloat(S::q1), vfloat(S::q2), vfloat(S::q3));
    const auto mi = [&](float p, float qi) {
        vfloat gp = g * vfloat(p), kq = kernels::fma(g, vfloat(qi / 2), c * vfloat(qi));
        settle(gp);
        settle(kq);
        return kernels::fma(a, gp, kq);
    };
    const vfloat m = cubic(u, u2, mi(S::p0, S::q0), mi(S::p1, S::q1), mi(S::p2, S::q2), mi(S::p3, S::q3));
    const vfloat bound = cubic(u, u2, vfloat(6.9f * S::q0), vfloat(6.9f * S::q1), vfloat(6.9f * S::q2), vfloat(6.9f * S::q3));
    const vfloat M = clamp_symmetric(m, bound);
    const vfloat A = M * M, A2 = A * A, B = q * q, B2 = B * B;
    const auto homogeneous = [&](float c0, float c1, float c2, float c3) {  // c1 B^2 and c0 B^3 one multiplication after B^2, ready with A
        return kernels::fma(A2, kernels::fma(vfloat(c3), A, vfloat(c2) * B), kernels::fma((vfloat(c1) * B) * B, A, (vfloat(c0) * B) * B2));
    };
    const vfloat sh = homogeneous(T::q0, T::q1, T::q2, T::q3);
    // (The last to arrive is the FMA's addend, which Zen 5 takes latest: 0.3-0.4 ns a step
    // against h as a factor.)
    return kernels::fma(homogeneous(T::p0, T::p1, T::p2, T::p3), M * s, sh * (q * (h * z.num))) / (sh * (q * z.den));
}

// The same functions written for throughput (`_lean`): P(u) and Q(u) by Estrin's scheme, x's
// factor after them: tanh 3 operations fewer than the form above, s tanh 6, the sigmoid 2; the
// division waits one or two FMAs longer. A step of several vectors of units (kernels::cell_step:
// an LSTM of 32 units runs ten of these a step beside 128 vdpbf16ps) is bound by how many
// operations it issues, not by one chain's latency. Not bitwise the forms above; the same bounds.
template <class C>
[[gnu::always_inline]] inline vfloat even_cubic_p(vfloat u, vfloat u2) noexcept {
    return cubic(u, u2, vfloat(C::p0), vfloat(C::p1), vfloat(C::p2), vfloat(C::p3));
}
template <class C>
[[gnu::always_inline]] inline vfloat even_cubic_q(vfloat u, vfloat u2) noexcept {
    return cubic(u, u2, vfloat(C::q0), vfloat(C::q1), vfloat(C::q2), vfloat(C::q3));
}
inline vfloat scaled_tanh_fast_lean_v(vfloat x, vfloat s) noexcept {
    const vfloat a = clamp_symmetric(x, vfloat(6.9f)), u = a * a, u2 = u * u;
    return (a * s) * even_cubic_p<TanhFit>(u, u2) / even_cubic_q<TanhFit>(u, u2);
}
inline vfloat tanh_fast_lean_v(vfloat x) noexcept {
    const vfloat a = clamp_symmetric(x, vfloat(6.9f)), u = a * a, u2 = u * u;
    return a * even_cubic_p<TanhFit>(u, u2) / even_cubic_q<TanhFit>(u, u2);
}
inline vfloat sigmoid_fast_lean_v(vfloat x) noexcept {
    const vfloat a = clamp_symmetric(x, vfloat(2 * 6.9f)), u = a * a, u2 = u * u;
    const vfloat q = even_cubic_q<SigmoidFit>(u, u2);
    return kernels::fma(a, even_cubic_p<SigmoidFit>(u, u2), vfloat(0.5f) * q) / q;
}

// tanh_fast_v in the lower half of the lanes and sigmoid_fast_v in the upper half (an LSTM's
// paired [g | o]): one rational with each half's clamp and coefficients, bitwise each function.
constexpr std::array<float, lanes> halves(float lower, float upper) {
    std::array<float, lanes> v{};
    for (std::size_t i = 0; i < lanes; ++i) v[i] = i < lanes / 2 ? lower : upper;
    return v;
}
struct TanhSigmoidFit {
    using T = TanhFit;
    using S = SigmoidFit;
    static constexpr auto clamp = halves(6.9f, 2 * 6.9f);
    static constexpr auto p0 = halves(T::p0, S::p0), p1 = halves(T::p1, S::p1), p2 = halves(T::p2, S::p2), p3 = halves(T::p3, S::p3);
    static constexpr auto q0 = halves(T::q0, S::q0), q1 = halves(T::q1, S::q1), q2 = halves(T::q2, S::q2), q3 = halves(T::q3, S::q3);
    static constexpr auto kq0 = halves(-0.f, S::q0 / 2), kq1 = halves(-0.f, S::q1 / 2), kq2 = halves(-0.f, S::q2 / 2),
                          kq3 = halves(-0.f, S::q3 / 2);
};
inline Quotient tanh_sigmoid_fast_q(vfloat x) noexcept {
    using C = TanhSigmoidFit;
    const auto v = [](const std::array<float, lanes>& a) { return vfloat::load_unaligned(a.data()); };
    return odd_rational_plus_parts(clamp_symmetric(x, v(C::clamp)), {v(C::p0), v(C::p1), v(C::p2), v(C::p3)},
                                   {v(C::q0), v(C::q1), v(C::q2), v(C::q3)}, {v(C::kq0), v(C::kq1), v(C::kq2), v(C::kq3)});
}
inline vfloat tanh_sigmoid_fast_v(vfloat x) noexcept { return divided(tanh_sigmoid_fast_q(x)); }

}  // namespace typenet::kernels::detail
