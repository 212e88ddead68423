// The lanes schedule: a small dense network run on a batch with its samples in SIMD lanes.
//
// A network whose layers are all narrow (a 1-8-8-1 waveshaper, a sensor calibration net)
// wastes most of every vector when it runs a sample per row: eight outputs fill half an
// AVX-512 register, and each layer stores its few values and the next reloads them. When a
// program is a chain of Dense layers (at most 32 inputs and outputs each, on vectors) and
// element-wise activations, predict() instead runs `lanes` samples at a time with one sample
// per lane: a layer is Out x In multiply-adds of a broadcast weight by a vector of samples,
// its activation runs on full vectors, and nothing leaves the registers between layers.
//
// The arithmetic of each sample is the GEMM's, in the same order (a sum from zero over the
// inputs in order, then the bias, then the activation), so a row's output is bit for bit what
// the row-at-a-time kernels give, whatever the batch: the schedule changes the speed only.
// A batch's last few samples run in a zero-padded block of lanes.
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "../core/layer.hpp"
#include "../kernels/simd.hpp"
#include "../layers/activation.hpp"
#include "../layers/dense.hpp"
#include "program.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::runtime {

namespace lanes_detail {
template <std::size_t U, class... O> Dense<U, O...> dense_base(const Dense<U, O...>*);
template <class A> ActivationLayer<A> activation_base(const ActivationLayer<A>*);

inline constexpr std::size_t max_width = 32;

// What node k of program P does in the schedule: 0 nothing (a view), 1 a Dense, 2 an
// activation, -1 something the schedule cannot run.
template <class P, std::size_t k>
consteval int role() {
    using L = typename P::template op<k>;
    using In = typename P::template in_shape<k>;
    using Out = typename P::template shape<k>;
    if constexpr (requires { dense_base(static_cast<const L*>(nullptr)); }) {
        using D = decltype(dense_base(static_cast<const L*>(nullptr)));
        if constexpr (In::rank == 1 && In::size <= max_width && Out::size <= max_width && !D::activation::row_wise && D::fp32) return 1;
        else return -1;
    } else if constexpr (requires { activation_base(static_cast<const L*>(nullptr)); }) {
        return decltype(activation_base(static_cast<const L*>(nullptr)))::activation::row_wise ? -1 : 2;
    } else if constexpr (core::layer_aliasing<L>() == LayerAliasing::view && std::is_same_v<In, Out>) {
        return 0;
    } else {
        return -1;
    }
}

template <class P>
consteval bool chain() {
    if constexpr (P::K < 2) {
        return false;
    } else {
        return [&]<std::size_t... k>(std::index_sequence<k...>) {
            return P::facts.kind[0] == passes::Kind::input &&
                   ((P::facts.kind[k + 1] == passes::Kind::layer && P::facts.arity(k + 1) == 1 && P::facts.arg(k + 1) == k &&
                     role<P, k + 1>() >= 0) &&
                    ...);
        }(std::make_index_sequence<P::K - 1>{});
    }
}
}  // namespace lanes_detail

template <class P>
struct LanesSchedule {
    using In = typename P::template shape<0>;
    using Out = typename P::template shape<P::K - 1>;
    static constexpr bool applies = lanes_detail::chain<P>() && In::rank == 1 && In::size <= lanes_detail::max_width;

    // All n rows of x (n x In::size) into y (n x Out::size).
    static void run(const float* params, const float* x, float* y, std::size_t n) noexcept {
        constexpr std::size_t L = kernels::lanes, F = In::size, O = Out::size;
        alignas(kernels::alignment) float tile[L * lanes_detail::max_width];
        for (std::size_t i = 0; i < n; i += L) {
            const std::size_t m = std::min(L, n - i);
            kernels::vfloat v[lanes_detail::max_width];
            // Columns in: v[f] holds feature f of the block's m samples (zeros past them).
            if constexpr (F == 1) {
                v[0] = m == L ? kernels::loadu(x + i) : kernels::load_partial(x + i, m, 0.f);
            } else {
                std::fill_n(tile, L * F, 0.f);
                for (std::size_t r = 0; r < m; ++r)
                    for (std::size_t f = 0; f < F; ++f) tile[f * L + r] = x[(i + r) * F + f];
                for (std::size_t f = 0; f < F; ++f) v[f] = kernels::load(tile + f * L);
            }
            [&]<std::size_t... k>(std::index_sequence<k...>) { (node<k + 1>(params, v), ...); }(std::make_index_sequence<P::K - 1>{});
            // Rows out.
            if constexpr (O == 1) {
                if (m == L) kernels::storeu(y + i, v[0]);
                else kernels::store_partial(y + i, v[0], m);
            } else {
                for (std::size_t o = 0; o < O; ++o) v[o].store_aligned(tile + o * L);
                for (std::size_t r = 0; r < m; ++r)
                    for (std::size_t o = 0; o < O; ++o) y[(i + r) * O + o] = tile[o * L + r];
            }
        }
    }

  private:
    template <std::size_t k>
    static void node(const float* params, kernels::vfloat* v) noexcept {
        using Op = typename P::template op<k>;
        constexpr int role = lanes_detail::role<P, k>();
        if constexpr (role == 1) {
            using D = decltype(lanes_detail::dense_base(static_cast<const Op*>(nullptr)));
            constexpr std::size_t Fi = P::template in_shape<k>::size, Fo = P::template shape<k>::size;
            // Dense's packed panels of nr outputs: W[o][f] at (o / nr) * Fi * nr + f * nr + o % nr,
            // the bias after the weights.
            constexpr kernels::DensePacking d{Fi, Fo};
            const float* w = params + P::packed_offset[P::owner[k]];
            const float* bias = w + d.weight_floats();
            kernels::vfloat out[Fo];
            TYPENET_UNROLL
            for (std::size_t o = 0; o < Fo; ++o) {
                kernels::vfloat acc(0.f);
                TYPENET_UNROLL
                for (std::size_t f = 0; f < Fi; ++f)
                    acc = kernels::fma(kernels::vfloat(w[(o / kernels::nr) * Fi * kernels::nr + f * kernels::nr + o % kernels::nr]), v[f], acc);
                acc += kernels::vfloat(bias[o]);
                out[o] = D::activation::apply(acc);
            }
            TYPENET_UNROLL
            for (std::size_t o = 0; o < Fo; ++o) v[o] = out[o];
        } else if constexpr (role == 2) {
            using A = typename decltype(lanes_detail::activation_base(static_cast<const Op*>(nullptr)))::activation;
            constexpr std::size_t Fo = P::template shape<k>::size;
            TYPENET_UNROLL
            for (std::size_t o = 0; o < Fo; ++o) v[o] = A::apply(v[o]);
        }
    }
};

}  // namespace typenet::runtime
