// Activation functions. Each is a small type with a scalar and a SIMD form, so that the same
// function runs as a layer of its own (tn::ReLU) or fused into the epilogue of the kernel
// that produces its input (tn::Dense<128, tn::relu>). Row-wise functions (softmax,
// log_softmax) see a whole feature row instead of one value.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>

#include "kernels/simd.hpp"

namespace typenet {

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
    static float apply(float x) noexcept { return x > 0.f ? x : 0.f; }
    static kernels::vfloat apply(kernels::vfloat x) noexcept { return xsimd::max(x, kernels::vfloat(0.f)); }
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
        return xsimd::select(x > kernels::vfloat(0.f), x, kernels::vfloat(Alpha) * xsimd::expm1(xsimd::min(x, kernels::vfloat(0.f))));
    }
};
using elu = elu_with<1>;

struct sigmoid : detail::elementwise_activation {
    static std::string name() { return "sigmoid"; }
    static float apply(float x) noexcept { return 1.f / (1.f + std::exp(-x)); }
    static kernels::vfloat apply(kernels::vfloat x) noexcept {
        return kernels::vfloat(1.f) / (kernels::vfloat(1.f) + xsimd::exp(-x));
    }
};

struct tanh : detail::elementwise_activation {
    static std::string name() { return "tanh"; }
    static float apply(float x) noexcept { return std::tanh(x); }
    static kernels::vfloat apply(kernels::vfloat x) noexcept { return xsimd::tanh(x); }
};

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
        const kernels::vfloat inner = kernels::vfloat(k0) * xsimd::fma(kernels::vfloat(k1) * x * x, x, x);
        return kernels::vfloat(0.5f) * x * (kernels::vfloat(1.f) + xsimd::tanh(inner));
    }
};

// SiLU, also called swish: x * sigmoid(x).
struct silu : detail::elementwise_activation {
    static std::string name() { return "silu"; }
    static float apply(float x) noexcept { return x / (1.f + std::exp(-x)); }
    static kernels::vfloat apply(kernels::vfloat x) noexcept {
        return x / (kernels::vfloat(1.f) + xsimd::exp(-x));
    }
};
using swish = silu;

// hard_sigmoid as PyTorch (nn.Hardsigmoid) and Keras 3 define it: relu6(x + 3) / 6.
// (Keras 2 used clip(0.2 x + 0.5, 0, 1); write that as a custom activation if you need it.)
struct hard_sigmoid : detail::elementwise_activation {
    static std::string name() { return "hard_sigmoid"; }
    static float apply(float x) noexcept { return std::clamp(x / 6.f + 0.5f, 0.f, 1.f); }
    static kernels::vfloat apply(kernels::vfloat x) noexcept {
        return xsimd::min(xsimd::max(xsimd::fma(x, kernels::vfloat(1.f / 6.f), kernels::vfloat(0.5f)), kernels::vfloat(0.f)),
                          kernels::vfloat(1.f));
    }
};

namespace detail {
// Numerically stable row maximum and sum of exp(x - max), shared by softmax and log_softmax.
inline float row_max(const float* x, std::size_t n) noexcept {
    using kernels::lanes, kernels::vfloat;
    std::size_t i = 0;
    float m = -INFINITY;
    if (n >= lanes) {
        vfloat vm = kernels::loadu(x);
        for (i = lanes; i + lanes <= n; i += lanes) vm = xsimd::max(vm, kernels::loadu(x + i));
        alignas(kernels::alignment) float tmp[lanes];
        vm.store_aligned(tmp);
        m = *std::max_element(tmp, tmp + lanes);
    }
    for (; i < n; ++i) m = std::max(m, x[i]);
    return m;
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
    float s = xsimd::hadd(vs);
    for (; i < n; ++i) {
        const float e = std::exp(x[i] - m);
        if constexpr (Store) x[i] = e;
        s += e;
    }
    return s;
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
        for (; i < n; ++i) x[i] *= inv;
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
        for (; i < n; ++i) x[i] -= shift;
    }
};

// The Activation role: an elementwise function (scalar and SIMD apply) or a row-wise one.
template <class A>
concept ActivationFunction = requires { { A::row_wise } -> std::convertible_to<bool>; { A::name() } -> std::convertible_to<std::string>; };

template <class A>
inline constexpr bool is_identity_activation = requires { requires A::identity; };

}  // namespace typenet
