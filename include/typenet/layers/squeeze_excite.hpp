// SqueezeExcite<Squeeze, Act = relu, Gate = hard_sigmoid>: squeeze-and-excitation (Hu et al.),
// as torchvision writes it (torchvision.ops.SqueezeExcitation(C, Squeeze, activation,
// scale_activation); MobileNetV3: relu and hard_sigmoid, EfficientNet: silu and sigmoid):
//
//   s = mean over the pixels of x            [C]
//   g = Gate(fc2(Act(fc1(s))))               fc1: C -> Squeeze, fc2: Squeeze -> C, with biases
//   y = x * g                                each channel scaled by its gate
//
// on [H, W, C] (or any shape: the last axis is the channels). One layer, one kernel: the mean
// is one read of the feature map, the two small products run on the pooled vector, and the
// scaling is one pass that may write over its input (it runs in place), where the same block
// written as a graph (pool, two 1x1 convolutions, a broadcasting Multiply) makes three.
// Parameters in torchvision's names and layout: fc1.weight [Squeeze, C, 1, 1], fc1.bias
// [Squeeze], fc2.weight [C, Squeeze, 1, 1], fc2.bias [C] (Keras: fc1.kernel [1, 1, C,
// Squeeze], ...).
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "../core/layer.hpp"
#include "../kernels/activations.hpp"
#include "../kernels/pool.hpp"
#include "../kernels/simd.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

template <std::size_t Squeeze, class Act = relu, class Gate = hard_sigmoid>
struct SqueezeExcite {
    static_assert(Squeeze > 0, "typenet: SqueezeExcite<0> has no squeezed channels");
    static constexpr LayerAliasing aliasing = LayerAliasing::in_place;
    template <class In> static constexpr std::size_t channels = In::dims[In::rank - 1];
    template <class In> static constexpr std::size_t padded = kernels::round_up(channels<In>, kernels::lanes);
    template <class In> using output_shape_for = In;
    template <class In>
    static constexpr std::array<ParamSpec, 4> params_for{
        ParamSpec{"fc1.weight", {Squeeze, channels<In>, 1, 1}, Init::glorot_uniform, "fc1.kernel", KerasLayout::conv},
        ParamSpec{"fc1.bias", {Squeeze}, Init::zeros},
        ParamSpec{"fc2.weight", {channels<In>, Squeeze, 1, 1}, Init::glorot_uniform, "fc2.kernel", KerasLayout::conv},
        ParamSpec{"fc2.bias", {channels<In>}, Init::zeros}};
    template <class In> static constexpr std::size_t flops_for = 2 * In::size + 4 * Squeeze * channels<In>;
    template <class In> static constexpr std::size_t packed_size_for = 2 * Squeeze * padded<In> + Squeeze + padded<In>;
    template <class In> static constexpr std::size_t scratch_fixed_for = 2 * padded<In>;  // the pooled vector, the gate

    template <class In>
    static void pack(const float* canonical, float* packed) noexcept {
        constexpr std::size_t C = channels<In>, Cp = padded<In>;
        const float* w1 = canonical;           // [Squeeze][C]
        const float* b1 = w1 + Squeeze * C;    // [Squeeze]
        const float* w2 = b1 + Squeeze;        // [C][Squeeze]
        const float* b2 = w2 + C * Squeeze;    // [C]
        std::fill_n(packed, packed_size_for<In>, 0.f);
        float* p = packed;
        for (std::size_t j = 0; j < Squeeze; ++j) std::copy_n(w1 + j * C, C, p + j * Cp);
        p += Squeeze * Cp;
        std::copy_n(b1, Squeeze, p);
        p += Squeeze;
        for (std::size_t j = 0; j < Squeeze; ++j)
            for (std::size_t c = 0; c < C; ++c) p[j * Cp + c] = w2[c * Squeeze + j];
        p += Squeeze * Cp;
        std::copy_n(b2, C, p);
    }

    template <class In>
    static void forward(const float* params, const float* in, float* out, std::size_t rows, float* scratch) noexcept {
        using namespace kernels;
        constexpr std::size_t C = channels<In>, Cp = padded<In>, pixels = In::size / C;
        float* s = scratch;
        float* g = scratch + Cp;
        std::fill_n(s, Cp, 0.f);
        for (std::size_t r = 0; r < rows; ++r) {
            const float* x = in + r * In::size;
            float* y = out + r * In::size;
            global_pool<false>(pixels, C, x, s, 1);
            squeeze_excite_gate<Act, Gate, C, Squeeze>(params, s, g);
            for (std::size_t p = 0; p < pixels; ++p, x += C, y += C) {
                std::size_t c = 0;
                for (; c + lanes <= C; c += lanes) storeu(y + c, loadu(x + c) * loadu(g + c));
                if (c < C) store_partial(y + c, load_partial(x + c, C - c, 0.f) * loadu(g + c), C - c);
            }
        }
    }
    // The gate alone, for one sample (g: padded<In> floats, the first C the channels' gates;
    // scratch: padded<In> floats): what a 1x1 convolution that alone reads this layer takes
    // into its weights instead of the scaling pass (passes/gates.hpp).
    static constexpr bool scales_channels = true;
    template <class In>
    static void gate(const float* params, const float* in, float* g, float* scratch) noexcept {
        constexpr std::size_t C = channels<In>, Cp = padded<In>, pixels = In::size / C;
        std::fill_n(scratch, Cp, 0.f);
        kernels::global_pool<false>(pixels, C, in, scratch, 1);
        kernels::squeeze_excite_gate<Act, Gate, C, Squeeze>(params, scratch, g);
    }
    static std::string name() {
        return "SqueezeExcite<" + std::to_string(Squeeze) + ", " + Act::name() + ", " + Gate::name() + ">";
    }
};

}  // namespace typenet
