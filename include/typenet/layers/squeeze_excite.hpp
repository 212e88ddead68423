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
#include "../kernels/dense.hpp"
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
    // The two products as Dense layers (kernels/dense.hpp): fc1 C -> Squeeze, fc2 Squeeze -> C,
    // each packed in panels with its bias, so that one sample runs the GEMV (four panels in
    // flight) and a batch one GEMM over its pooled rows — the weights read once a batch, not
    // once a sample.
    template <class In> static constexpr kernels::DensePacking fc1{channels<In>, Squeeze};
    template <class In> static constexpr kernels::DensePacking fc2{Squeeze, channels<In>};
    template <class In> static constexpr std::size_t packed_size_for = fc1<In>.floats(true) + fc2<In>.floats(true);
    // A row's pooled vector, its squeezed vector and its gate; a batch in blocks of `block` rows.
    static constexpr std::size_t block = 16;
    template <class In>
    static constexpr std::size_t scratch_size_for = 2 * padded<In> + kernels::round_up(Squeeze, kernels::lanes);
    template <class In> static constexpr std::size_t scratch_most_for = block * scratch_size_for<In>;

    template <class In>
    static void pack(const float* canonical, float* packed) noexcept {
        constexpr std::size_t C = channels<In>;
        const float* w1 = canonical;           // [Squeeze][C]
        const float* b1 = w1 + Squeeze * C;    // [Squeeze]
        const float* w2 = b1 + Squeeze;        // [C][Squeeze]
        const float* b2 = w2 + C * Squeeze;    // [C]
        kernels::dense_pack(fc1<In>, w1, b1, packed);
        kernels::dense_pack(fc2<In>, w2, b2, packed + fc1<In>.floats(true));
    }

    template <class In>
    static void forward(const float* params, const float* in, float* out, std::size_t rows, float* scratch) noexcept {
        using namespace kernels;
        constexpr std::size_t C = channels<In>, Cp = padded<In>, pixels = In::size / C;
        for (std::size_t r0 = 0; r0 < rows; r0 += block) {
            const std::size_t n = std::min(block, rows - r0);
            float* g = scratch;  // n gates of C, rows back to back
            gates<In>(params, in + r0 * In::size, n, g, scratch + n * Cp);
            for (std::size_t r = 0; r < n; ++r) {
                const float* x = in + (r0 + r) * In::size;
                float* y = out + (r0 + r) * In::size;
                const float* gr = g + r * C;
                for (std::size_t p = 0; p < pixels; ++p, x += C, y += C) {
                    std::size_t c = 0;
                    for (; c + lanes <= C; c += lanes) storeu(y + c, loadu(x + c) * loadu(gr + c));
                    if (c < C) store_partial(y + c, load_partial(x + c, C - c, 0.f) * load_partial(gr + c, C - c, 0.f), C - c);
                }
            }
        }
    }
    // The gates of n samples (g: n rows of C floats; scratch: n rows of padded<In> floats and
    // n of the squeezed width).
    template <class In>
    static void gates(const float* params, const float* in, std::size_t n, float* g, float* scratch) noexcept {
        constexpr std::size_t C = channels<In>, pixels = In::size / C;
        float* s = scratch;                   // n pooled rows of C
        float* h = scratch + n * padded<In>;  // n squeezed rows
        kernels::global_pool<false>(pixels, C, in, s, n);
        const float* p2 = params + fc1<In>.floats(true);
        if (n == 1) {
            kernels::dense_gemv<Act>(fc1<In>, params, true, s, h);
            kernels::dense_gemv<Gate>(fc2<In>, p2, true, h, g);
        } else {
            kernels::dense_gemm<Act>(fc1<In>, params, true, s, n, h);
            kernels::dense_gemm<Gate>(fc2<In>, p2, true, h, n, g);
        }
    }
    // The gate alone, for one sample (g: padded<In> floats, the first C the channels' gates;
    // scratch: scratch_size_for<In> floats): what a 1x1 convolution that alone reads this
    // layer takes into its weights instead of the scaling pass (passes/gates.hpp).
    static constexpr bool scales_channels = true;
    template <class In>
    static void gate(const float* params, const float* in, float* g, float* scratch) noexcept {
        gates<In>(params, in, 1, g, scratch);
    }
    static std::string name() {
        return "SqueezeExcite<" + std::to_string(Squeeze) + ", " + Act::name() + ", " + Gate::name() + ">";
    }
};

}  // namespace typenet
