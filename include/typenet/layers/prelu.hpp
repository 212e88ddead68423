// PReLU<>: y = x for x >= 0, alpha[c] * x below, over the last axis (channels; on a sequence,
// each time step), with a learned alpha per channel: PyTorch's nn.PReLU(C), Keras' PReLU
// shared over every axis but the channels. PReLU<1>: one alpha for every channel
// (nn.PReLU()). Parameter "weight" [C] or [1] (Keras: "alpha"). Runs in place; streams.
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "../core/layer.hpp"
#include "../kernels/pool.hpp"
#include "../kernels/simd.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

template <std::size_t Alphas = 0>
struct PReLU {
    static_assert(Alphas <= 1, "typenet: PReLU<> has one alpha per channel, PReLU<1> one for all");
    static constexpr LayerAliasing aliasing = LayerAliasing::in_place;
    static constexpr std::string_view keras_class = "p_re_lu";
    template <class In> static constexpr std::size_t channels = In::dims[In::rank - 1];
    template <class In> static constexpr std::size_t alphas = Alphas == 1 ? 1 : channels<In>;
    template <class In> using output_shape_for = In;
    template <class In> static constexpr bool streams_for = true;  // per time step
    template <class In>
    static constexpr std::array<ParamSpec, 1> params_for{ParamSpec{"weight", {alphas<In>}, Init::zeros, "alpha"}};
    template <class In> static constexpr std::size_t flops_for = In::size;
    // Packed: alpha for every channel, padded to whole vectors.
    template <class In> static constexpr std::size_t packed_size_for = kernels::round_up(channels<In>, kernels::lanes);
    template <class In>
    static void pack(const float* canonical, float* packed) noexcept {
        std::fill_n(packed, packed_size_for<In>, 0.f);
        for (std::size_t c = 0; c < channels<In>; ++c) packed[c] = canonical[Alphas == 1 ? 0 : c];
    }
    template <class In>
    static void forward(const float* params, const float* in, float* out, std::size_t rows) noexcept {
        kernels::channel_prelu(in, out, rows * (In::size / channels<In>), channels<In>, params);
    }
    static std::string name() { return Alphas == 1 ? "PReLU<1>" : "PReLU<>"; }
};

}  // namespace typenet
