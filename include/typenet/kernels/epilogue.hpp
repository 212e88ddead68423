// Epilogues: what a producing kernel does to its accumulators before they leave registers.
// Bias and elementwise activations happen per vector; a row-wise activation (softmax) runs
// once the whole row has been written, while it is still in L1.
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <cstddef>

#include "activations.hpp"
#include "simd.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::kernels {

template <class Act>
inline vfloat epilogue(vfloat acc, const float* bias) noexcept {
    if (bias) acc += load(bias);
    if constexpr (!Act::row_wise) return Act::apply(acc);
    else return acc;
}

// Store n <= lanes values of v to p: a full vector, or through a stack tile at a row's end.
inline void store_n(float* p, vfloat v, std::size_t n) noexcept {
    if (n == lanes) storeu(p, v);
    else store_partial(p, v, n);
}

inline vfloat load_n(const float* p, std::size_t n) noexcept {
    return n == lanes ? loadu(p) : load_partial(p, n, 0.f);
}

// The end of a micro-kernel's output row: up to two vectors of accumulators (n0 + n1 values)
// get the residual `add` (laid out like y), the bias and, with clamp, ReLU — all in
// registers — and are stored. Capped: the ReLU then a ceiling (ReLU6: min(6, max(0, x)), as
// hardtanh_with's apply, so the bits and a NaN are the same), for the GEMM (dense.hpp).
// Always inlined: its branches fold where a caller knows them (no bias, one vector); g++ 12
// called it from the int8 micro-kernels, 5% of ResNet-20's int8 forward.
template <bool Capped = false>
[[gnu::always_inline]] inline void store_row(float* y, vfloat a0, vfloat a1, std::size_t n0, std::size_t n1, const float* bias, const float* add,
                      bool clamp, vfloat ceiling = vfloat(0.f)) noexcept {
    if (add) {
        a0 += load_n(add, n0);
        if (n1) a1 += load_n(add + lanes, n1);
    }
    if (bias) {
        a0 += load(bias);
        a1 += load(bias + lanes);
    }
    if (clamp) {
        a0 = relu_nan(a0);
        a1 = relu_nan(a1);
        if constexpr (Capped) {
            a0 = xsimd::min(ceiling, a0);  // ceiling first: a NaN stays NaN
            a1 = xsimd::min(ceiling, a1);
        }
    }
    store_n(y, a0, n0);
    if (n1) store_n(y + lanes, a1, n1);
}

template <class Act>
inline void apply_rows(float* y, std::size_t rows, std::size_t n) noexcept {
    if constexpr (Act::row_wise) {
        if constexpr (requires { Act::apply_rows(y, rows, n); }) Act::apply_rows(y, rows, n);
        else for (std::size_t r = 0; r < rows; ++r) Act::apply_row(y + r * n, n);
    }
}

// y = act(x) over rows x n values; y may alias x.
template <class Act>
inline void activation_map(const float* x, float* y, std::size_t rows, std::size_t n) noexcept {
    if constexpr (Act::row_wise) {
        if (x != y) std::copy_n(x, rows * n, y);
        apply_rows<Act>(y, rows, n);
    } else {
        const std::size_t total = rows * n;
        std::size_t i = 0;
        for (; i + lanes <= total; i += lanes) storeu(y + i, Act::apply(loadu(x + i)));
        if (i < total) store_partial(y + i, Act::apply(load_partial(x + i, total - i, 0.f)), total - i);
    }
}

}  // namespace typenet::kernels
