// Direct 1-D convolution over a channels-last sequence [T, C], for Conv1D.
//
//   packed[g][j][c][f] = W[g * Fg + f][c][j]     (f padded to Fgp, a multiple of the vector
//                                                 width), then the bias, padded likewise
//
// Four output steps at a time share each weight vector. Every output is the same chain —
// taps j ascending, channels c ascending, from zero, then the bias, then the activation —
// whatever the block or the call, so a stream run step by step, in blocks or whole rounds
// alike.
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <cstddef>

#include "activations.hpp"
#include "epilogue.hpp"
#include "simd.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::kernels {

template <std::size_t Cin, std::size_t Filters, std::size_t K, std::size_t Groups>
struct Conv1DPacking {
    // One filter per channel: the channels in the lanes, packed[j][c] (padded to Fp), then
    // the bias; a padded group of one filter would waste all but one lane.
    static constexpr bool depthwise = Groups == Cin && Filters == Cin && Cin > 1;
    static constexpr std::size_t Cg = Cin / Groups, Fg = Filters / Groups;
    static constexpr std::size_t Fgp = round_up(Fg, lanes), Fp = round_up(Filters, lanes);
    static constexpr std::size_t weight_floats = depthwise ? K * Fp : Groups * K * Cg * Fgp;
    static constexpr std::size_t floats = weight_floats + (depthwise ? Fp : Groups * Fgp);
};

// weight [Filters][Cin / Groups][K] (PyTorch's Conv1d), bias [Filters] or null.
template <std::size_t Cin, std::size_t Filters, std::size_t K, std::size_t Groups>
inline void conv1d_pack(const float* weight, const float* bias, float* packed) noexcept {
    using P = Conv1DPacking<Cin, Filters, K, Groups>;
    std::fill_n(packed, P::floats, 0.f);
    if constexpr (P::depthwise) {
        for (std::size_t c = 0; c < Cin; ++c) {
            for (std::size_t j = 0; j < K; ++j) packed[j * P::Fp + c] = weight[c * K + j];
            packed[P::weight_floats + c] = bias ? bias[c] : 0.f;
        }
        return;
    }
    for (std::size_t g = 0; g < Groups; ++g)
        for (std::size_t f = 0; f < P::Fg; ++f) {
            const std::size_t o = g * P::Fg + f;
            for (std::size_t c = 0; c < P::Cg; ++c)
                for (std::size_t j = 0; j < K; ++j) packed[((g * K + j) * P::Cg + c) * P::Fgp + f] = weight[(o * P::Cg + c) * K + j];
            packed[P::weight_floats + g * P::Fgp + f] = bias ? bias[o] : 0.f;
        }
}

// y[t][Filters] for t < N: output t reads x rows t * S + j * D (x already padded).
template <class Act, std::size_t Cin, std::size_t Filters, std::size_t K, std::size_t Groups, std::size_t S, std::size_t D, std::size_t N>
inline void conv1d(const float* packed, const float* x, float* y) noexcept {
    using P = Conv1DPacking<Cin, Filters, K, Groups>;
    constexpr std::size_t R = 4;
    const float* bias = packed + P::weight_floats;
    if constexpr (P::depthwise) {  // the same chain per output as a group of one channel
        auto block = [&]<std::size_t M>(std::integral_constant<std::size_t, M>, std::size_t t0) {
            for (std::size_t v = 0; v < P::Fp; v += lanes) {
                const std::size_t cnt = std::min(lanes, Cin - v);
                vfloat acc[M];
                TYPENET_UNROLL
                for (std::size_t r = 0; r < M; ++r) acc[r] = vfloat(0.f);
                for (std::size_t j = 0; j < K; ++j) {
                    const vfloat w = load(packed + j * P::Fp + v);
                    TYPENET_UNROLL
                    for (std::size_t r = 0; r < M; ++r) {
                        const float* xr = x + ((t0 + r) * S + j * D) * Cin + v;
                        acc[r] = kernels::fma(cnt == lanes ? loadu(xr) : load_n(xr, cnt), w, acc[r]);
                    }
                }
                const vfloat b = load(bias + v);
                TYPENET_UNROLL
                for (std::size_t r = 0; r < M; ++r) {
                    vfloat a = acc[r] + b;
                    if constexpr (!Act::row_wise) a = Act::apply(a);
                    store_n(y + (t0 + r) * Filters + v, a, cnt);
                }
            }
        };
        constexpr std::size_t full = N / R * R;
        for (std::size_t t = 0; t < full; t += R) block(std::integral_constant<std::size_t, R>{}, t);
        for (std::size_t t = full; t < N; ++t) block(std::integral_constant<std::size_t, 1>{}, t);
        if constexpr (Act::row_wise) apply_rows<Act>(y, N, Filters);
        return;
    }
    auto block = [&]<std::size_t M>(std::integral_constant<std::size_t, M>, std::size_t t0) {
        for (std::size_t g = 0; g < Groups; ++g)
            for (std::size_t v = 0; v < P::Fgp; v += lanes) {
                vfloat acc[M];
                TYPENET_UNROLL
                for (std::size_t r = 0; r < M; ++r) acc[r] = vfloat(0.f);
                for (std::size_t j = 0; j < K; ++j)
                    for (std::size_t c = 0; c < P::Cg; ++c) {
                        const vfloat w = load(packed + ((g * K + j) * P::Cg + c) * P::Fgp + v);
                        const float* xc = x + (t0 * S + j * D) * Cin + g * P::Cg + c;
                        TYPENET_UNROLL
                        for (std::size_t r = 0; r < M; ++r) acc[r] = kernels::fma(vfloat(xc[r * S * Cin]), w, acc[r]);
                    }
                const std::size_t cnt = std::min(lanes, P::Fg - v);
                const vfloat b = load(bias + g * P::Fgp + v);
                TYPENET_UNROLL
                for (std::size_t r = 0; r < M; ++r) {
                    vfloat a = acc[r] + b;
                    if constexpr (!Act::row_wise) a = Act::apply(a);
                    store_n(y + (t0 + r) * Filters + g * P::Fg + v, a, cnt);
                }
            }
    };
    constexpr std::size_t full = N / R * R;
    for (std::size_t t = 0; t < full; t += R) block(std::integral_constant<std::size_t, R>{}, t);
    for (std::size_t t = full; t < N; ++t) block(std::integral_constant<std::size_t, 1>{}, t);
    if constexpr (Act::row_wise) apply_rows<Act>(y, N, Filters);
}

}  // namespace typenet::kernels
