// Activation functions. Each is a small type with a scalar and a SIMD form, so that the same
// function runs as a layer of its own (tn::ReLU) or fused into the epilogue of the kernel
// that produces its input (tn::Dense<128, tn::relu>). Row-wise functions (softmax,
// log_softmax) see a whole feature row instead of one value.
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>

#include "elementary.hpp"
#include "simd.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

namespace detail {
struct elementwise_activation {
    static constexpr bool row_wise = false;
};
inline std::string float_str(float v) {
    std::string s = std::to_string(v);
    while (s.size() > 1 && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.push_back('0');
    return s;
}
}  // namespace detail

struct linear : detail::elementwise_activation {
    static constexpr bool identity = true;
    static std::string name() { return "linear"; }
    static float apply(float x) noexcept { return x; }
    static kernels::vfloat apply(kernels::vfloat x) noexcept { return x; }
};

struct relu : detail::elementwise_activation {
    static std::string name() { return "relu"; }
    static float apply(float x) noexcept { return x < 0.f ? 0.f : x; }  // NaN stays NaN, as in PyTorch
    static kernels::vfloat apply(kernels::vfloat x) noexcept { return kernels::relu_nan(x); }
};

// y = x for x > 0, alpha * x otherwise. PyTorch's default slope is 0.01 (tn::leaky_relu);
// Keras' LeakyReLU layer defaults to 0.3: spell it tn::leaky_relu_with<3, 10>. (Slopes are
// integer ratios: clang 16 does not accept float template arguments.)
template <long Num, long Den = 1>
struct leaky_relu_with : detail::elementwise_activation {
    static constexpr float Alpha = float(Num) / float(Den);
    static std::string name() { return "leaky_relu(" + detail::float_str(Alpha) + ")"; }
    static float apply(float x) noexcept { return x > 0.f ? x : Alpha * x; }
    static kernels::vfloat apply(kernels::vfloat x) noexcept {
        return xsimd::select(x > kernels::vfloat(0.f), x, x * kernels::vfloat(Alpha));
    }
};
using leaky_relu = leaky_relu_with<1, 100>;

// y = x for x > 0, alpha * (exp(x) - 1) otherwise (expm1 keeps precision near zero).
template <long Num, long Den = 1>
struct elu_with : detail::elementwise_activation {
    static constexpr float Alpha = float(Num) / float(Den);
    static std::string name() { return Alpha == 1.f ? "elu" : "elu(" + detail::float_str(Alpha) + ")"; }
    static float apply(float x) noexcept { return x > 0.f ? x : Alpha * std::expm1(x); }
    static kernels::vfloat apply(kernels::vfloat x) noexcept {
        return xsimd::select(x > kernels::vfloat(0.f), x, kernels::vfloat(Alpha) * xsimd::expm1(xsimd::min(kernels::vfloat(0.f), x)));
    }
};
using elu = elu_with<1>;

// sigmoid and tanh: kernels/elementary.hpp's (within 3 ulp, without xsimd's branches: a
// small layer's forward is mostly its activation), a NaN kept a NaN.
struct sigmoid : detail::elementwise_activation {
    static std::string name() { return "sigmoid"; }
    static float apply(float x) noexcept { return 1.f / (1.f + std::exp(-x)); }
    static kernels::vfloat apply(kernels::vfloat x) noexcept { return xsimd::select(xsimd::isnan(x), x, kernels::detail::sigmoid_v(x)); }
};

struct tanh : detail::elementwise_activation {
    static std::string name() { return "tanh"; }
    static float apply(float x) noexcept { return std::tanh(x); }
    static kernels::vfloat apply(kernels::vfloat x) noexcept { return xsimd::select(xsimd::isnan(x), x, kernels::detail::tanh_v(x)); }
};

// The fast forms (kernels/elementary.hpp): tanh within 1.5e-6 and sigmoid within 1e-6
// absolute, for about half the work; a NaN kept a NaN. What the tn::fast_activations policy
// puts in place of tanh and sigmoid everywhere (make<M, tn::fast_activations>()), or
// spelled directly: tn::Dense<8, tn::fast_tanh>.
struct fast_tanh : detail::elementwise_activation {
    static std::string name() { return "fast_tanh"; }
    static float apply(float x) noexcept { return kernels::first_lane(kernels::detail::tanh_fast_v(kernels::vfloat(x))); }
    static kernels::vfloat apply(kernels::vfloat x) noexcept { return xsimd::select(xsimd::isnan(x), x, kernels::detail::tanh_fast_v(x)); }
};
struct fast_sigmoid : detail::elementwise_activation {
    static std::string name() { return "fast_sigmoid"; }
    static float apply(float x) noexcept { return kernels::first_lane(kernels::detail::sigmoid_fast_v(kernels::vfloat(x))); }
    static kernels::vfloat apply(kernels::vfloat x) noexcept { return xsimd::select(xsimd::isnan(x), x, kernels::detail::sigmoid_fast_v(x)); }
};
namespace detail {
template <class A> struct fast_form {
    using type = A;
};
template <> struct fast_form<tanh> {
    using type = fast_tanh;
};
template <> struct fast_form<sigmoid> {
    using type = fast_sigmoid;
};
}  // namespace detail
// An option list's activation in its fast form; every other option as it is.
template <class A> using fast_form_t = typename detail::fast_form<A>::type;

// GELU in PyTorch's default (exact, erf) form: 0.5 x (1 + erf(x / sqrt 2)).
struct gelu : detail::elementwise_activation {
    static std::string name() { return "gelu"; }
    static constexpr float inv_sqrt2 = 0.70710678118654752f;
    static float apply(float x) noexcept { return 0.5f * x * (1.f + std::erf(x * inv_sqrt2)); }
    static kernels::vfloat apply(kernels::vfloat x) noexcept {
        return kernels::vfloat(0.5f) * x * (kernels::vfloat(1.f) + xsimd::erf(x * kernels::vfloat(inv_sqrt2)));
    }
};

// GELU, tanh approximation (PyTorch approximate='tanh', Keras approximate=True).
struct gelu_tanh : detail::elementwise_activation {
    static std::string name() { return "gelu_tanh"; }
    static constexpr float k0 = 0.79788456080286536f;  // sqrt(2 / pi)
    static constexpr float k1 = 0.044715f;
    static float apply(float x) noexcept { return 0.5f * x * (1.f + std::tanh(k0 * (x + k1 * x * x * x))); }
    static kernels::vfloat apply(kernels::vfloat x) noexcept {
        const kernels::vfloat inner = kernels::vfloat(k0) * kernels::fma(kernels::vfloat(k1) * x * x, x, x);
        return kernels::vfloat(0.5f) * x * (kernels::vfloat(1.f) + xsimd::tanh(inner));
    }
};

// SiLU, also called swish: x * sigmoid(x), computed as PyTorch does, x / (1 + e^-x) (so
// silu(-inf) is NaN, as there); e^-x by kernels/elementary.hpp's exp_neg_within, written for
// throughput: SiLU follows EfficientNet's every 1x1 and depthwise convolution (a pass over
// each GEMM tile).
struct silu : detail::elementwise_activation {
    static std::string name() { return "silu"; }
    static float apply(float x) noexcept { return x / (1.f + std::exp(-x)); }
    static kernels::vfloat apply(kernels::vfloat x) noexcept {
        // x clamped by one vrangeps (AVX-512DQ): it turns a NaN into the bound, but then the
        // numerator is NaN. e^-x without negating x (bitwise exp_within(-x)): 2.75 -> 2.40 ns a
        // vector (Zen 5, a /tmp loop in L1 interleaving the two; EfficientNet-B0 spends ~12% of
        // its pass in SiLU).
        return x / (kernels::vfloat(1.f) + kernels::detail::exp_neg_within(kernels::detail::clamp_symmetric(x, kernels::vfloat(104.f))));
    }
};
using swish = silu;

// hard_sigmoid as PyTorch (nn.Hardsigmoid) and Keras 3 define it: relu6(x + 3) / 6.
// (Keras 2 used clip(0.2 x + 0.5, 0, 1); write that as a custom activation if you need it.)
struct hard_sigmoid : detail::elementwise_activation {
    static std::string name() { return "hard_sigmoid"; }
    static float apply(float x) noexcept {
        const float y = x / 6.f + 0.5f;
        return y < 0.f ? 0.f : y > 1.f ? 1.f : y;  // NaN stays NaN (std::clamp's is unspecified)
    }
    static kernels::vfloat apply(kernels::vfloat x) noexcept {
        // Constants first: maxps/minps return the second operand, x's NaN, when one is NaN.
        return xsimd::min(kernels::vfloat(1.f), xsimd::max(kernels::vfloat(0.f), kernels::fma(x, kernels::vfloat(1.f / 6.f), kernels::vfloat(0.5f))));
    }
};

// hard_swish (PyTorch's nn.Hardswish, Keras 3's hard_swish / hard_silu): x * relu6(x + 3) / 6,
// as in MobileNetV3.
struct hard_swish : detail::elementwise_activation {
    static std::string name() { return "hard_swish"; }
    static float apply(float x) noexcept { return x * hard_sigmoid::apply(x); }
    static kernels::vfloat apply(kernels::vfloat x) noexcept { return x * hard_sigmoid::apply(x); }
};

// x clamped to [Lo / Den, Hi / Den]: PyTorch's nn.Hardtanh(min_val, max_val) (bounds as
// integer ratios: clang 16 takes no float template arguments); hardtanh is [-1, 1], relu6
// (MobileNet's; PyTorch's nn.ReLU6, Keras' relu6) [0, 6]. A NaN stays NaN.
template <long Lo = -1, long Hi = 1, long Den = 1>
struct hardtanh_with : detail::elementwise_activation {
    static_assert(Den > 0 && Lo <= Hi, "typenet: hardtanh_with<Lo, Hi, Den> needs Lo <= Hi and Den > 0");
    static constexpr float lo = float(Lo) / float(Den), hi = float(Hi) / float(Den);
    static std::string name() {
        if constexpr (Lo == 0 && Hi == 6 * Den) return "relu6";
        else if constexpr (Lo == -Den && Hi == Den) return "hardtanh";
        else return "hardtanh(" + detail::float_str(lo) + ", " + detail::float_str(hi) + ")";
    }
    static float apply(float x) noexcept { return x < lo ? lo : x > hi ? hi : x; }
    static kernels::vfloat apply(kernels::vfloat x) noexcept {
        // Constants first: maxps/minps return the second operand, x's NaN, when one is NaN.
        return xsimd::min(kernels::vfloat(hi), xsimd::max(kernels::vfloat(lo), x));
    }
};
using hardtanh = hardtanh_with<-1, 1>;
using relu6 = hardtanh_with<0, 6>;

namespace detail {
// Row-wise helpers work on whole vectors; the last partial vector is read with -inf in the
// missing lanes, which neither raises the maximum nor adds to the sum (exp(-inf) = 0). Rows
// shorter than a vector (a 10-class softmax on AVX-512) thus never take a scalar path.
inline kernels::vfloat load_tail(const float* x, std::size_t n) noexcept { return kernels::load_partial(x, n, -INFINITY); }

// Numerically stable row maximum.
inline float row_max(const float* x, std::size_t n) noexcept {
    using kernels::lanes, kernels::vfloat;
    vfloat vm(-INFINITY);
    std::size_t i = 0;
    for (; i + lanes <= n; i += lanes) vm = xsimd::max(vm, kernels::loadu(x + i));
    if (i < n) vm = xsimd::max(vm, load_tail(x + i, n - i));
    return kernels::reduce_max(vm);
}

// Sum of exp(x[i] - m); when Store, also writes each term back over x.
template <bool Store>
inline float sum_exp_shifted(float* x, std::size_t n, float m) noexcept {
    using kernels::lanes, kernels::vfloat;
    std::size_t i = 0;
    vfloat vs(0.f);
    for (; i + lanes <= n; i += lanes) {
        const vfloat e = xsimd::exp(kernels::loadu(x + i) - vfloat(m));
        if constexpr (Store) kernels::storeu(x + i, e);
        vs += e;
    }
    if (i < n) {
        const vfloat e = xsimd::exp(load_tail(x + i, n - i) - vfloat(m));
        if constexpr (Store) kernels::store_partial(x + i, e, n - i);
        vs += e;
    }
    return xsimd::hadd(vs);
}
// Row-wise function over many rows no longer than one vector: four rows at a time, so the
// four dependent chains (max, exp, sum, scale) overlap instead of running back to back.
template <class PerRow>
inline void short_rows(float* x, std::size_t rows, std::size_t n, PerRow finish) noexcept {
    using kernels::vfloat;
    const std::size_t full = rows / 4 * 4;
    for (std::size_t r = 0; r < full; r += 4) {
        vfloat v[4], e[4];
        float m[4], s[4];
        for (std::size_t j = 0; j < 4; ++j) v[j] = load_tail(x + (r + j) * n, n);
        for (std::size_t j = 0; j < 4; ++j) m[j] = kernels::reduce_max(v[j]);
        for (std::size_t j = 0; j < 4; ++j) e[j] = xsimd::exp(v[j] - vfloat(m[j]));
        for (std::size_t j = 0; j < 4; ++j) s[j] = xsimd::hadd(e[j]);
        for (std::size_t j = 0; j < 4; ++j) kernels::store_partial(x + (r + j) * n, finish(v[j], e[j], m[j], s[j]), n);
    }
    for (std::size_t r = full; r < rows; ++r) {
        const vfloat v = load_tail(x + r * n, n);
        const float m = kernels::reduce_max(v);
        const vfloat e = xsimd::exp(v - vfloat(m));
        kernels::store_partial(x + r * n, finish(v, e, m, xsimd::hadd(e)), n);
    }
}
}  // namespace detail

struct softmax {
    static constexpr bool row_wise = true;
    static std::string name() { return "softmax"; }
    // In place over one row of n features.
    static void apply_row(float* x, std::size_t n) noexcept {
        const float m = detail::row_max(x, n);
        const float inv = 1.f / detail::sum_exp_shifted<true>(x, n, m);
        std::size_t i = 0;
        for (; i + kernels::lanes <= n; i += kernels::lanes) kernels::storeu(x + i, kernels::loadu(x + i) * kernels::vfloat(inv));
        if (i < n) kernels::store_partial(x + i, kernels::load_partial(x + i, n - i, 0.f) * kernels::vfloat(inv), n - i);
    }
    static void apply_rows(float* x, std::size_t rows, std::size_t n) noexcept {
        if (n > kernels::lanes) {
            for (std::size_t r = 0; r < rows; ++r) apply_row(x + r * n, n);
            return;
        }
        detail::short_rows(x, rows, n, [](kernels::vfloat, kernels::vfloat e, float, float s) { return e * kernels::vfloat(1.f / s); });
    }
};

struct log_softmax {
    static constexpr bool row_wise = true;
    static std::string name() { return "log_softmax"; }
    // x - max - log(sum exp(x - max)): never takes the log of an underflowed probability.
    static void apply_row(float* x, std::size_t n) noexcept {
        const float m = detail::row_max(x, n);
        const float shift = m + std::log(detail::sum_exp_shifted<false>(x, n, m));
        std::size_t i = 0;
        for (; i + kernels::lanes <= n; i += kernels::lanes) kernels::storeu(x + i, kernels::loadu(x + i) - kernels::vfloat(shift));
        if (i < n) kernels::store_partial(x + i, kernels::load_partial(x + i, n - i, 0.f) - kernels::vfloat(shift), n - i);
    }
    static void apply_rows(float* x, std::size_t rows, std::size_t n) noexcept {
        if (n > kernels::lanes) {
            for (std::size_t r = 0; r < rows; ++r) apply_row(x + r * n, n);
            return;
        }
        detail::short_rows(x, rows, n, [](kernels::vfloat v, kernels::vfloat, float m, float s) {
            return v - kernels::vfloat(m + std::log(s));
        });
    }
};

// The Activation role: an elementwise function (scalar and SIMD apply) or a row-wise one.
template <class A>
concept ActivationFunction = requires { { A::row_wise } -> std::convertible_to<bool>; { A::name() } -> std::convertible_to<std::string>; };

template <class A>
inline constexpr bool is_identity_activation = requires { requires A::identity; };

}  // namespace typenet
