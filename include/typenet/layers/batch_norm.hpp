// BatchNorm: inference batch normalisation over the last axis (channels, in NHWC):
//   y = (x - running_mean) / sqrt(running_var + eps) * weight + bias
// with PyTorch's parameter names (Keras: gamma, beta, moving_mean, moving_variance).
// eps = EpsNum / EpsDen: BatchNorm<> is PyTorch's 1e-5; BatchNormalization is Keras' 1e-3.
// Directly after a linear Conv2D or Dense, the model folds it into that layer's weights and
// bias when the weights are loaded, and it costs nothing at run time.
#pragma once
#include "../core/isa.hpp"
#include <array>
#include <cmath>
#include <cstddef>
#include <string>

#include "../kernels/activations.hpp"
#include "../kernels/pool.hpp"
#include "../kernels/simd.hpp"
#include "../core/layer.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

template <long EpsNum = 1, long EpsDen = 100000>
struct BatchNorm {
    static constexpr float epsilon = float(EpsNum) / float(EpsDen);
    static constexpr LayerAliasing aliasing = LayerAliasing::in_place;
    static constexpr std::string_view keras_class = "batch_normalization";
    template <class In> static constexpr std::size_t channels = In::dims[In::rank - 1];
    template <class In> using output_shape_for = In;
    template <class In> static constexpr bool streams_for = true;  // per time step
    template <class In>
    static constexpr std::array<ParamSpec, 4> params_for{
        ParamSpec{"weight", {channels<In>}, Init::ones, "gamma"}, ParamSpec{"bias", {channels<In>}, Init::zeros, "beta"},
        ParamSpec{"running_mean", {channels<In>}, Init::zeros, "moving_mean"},
        ParamSpec{"running_var", {channels<In>}, Init::ones, "moving_variance"}};
    template <class In> static constexpr std::size_t flops_for = 2 * In::size;

    // scale = weight / sqrt(var + eps), shift = bias - mean * scale: what gets folded.
    static void scale_shift(const float* canonical, std::size_t c, float* scale, float* shift) noexcept {
        for (std::size_t i = 0; i < c; ++i) {
            scale[i] = float(double(canonical[i]) / std::sqrt(double(canonical[3 * c + i]) + double(epsilon)));
            shift[i] = float(double(canonical[c + i]) - double(canonical[2 * c + i]) * double(scale[i]));
        }
    }
    template <class In> static constexpr std::size_t padded = kernels::round_up(channels<In>, kernels::lanes);
    template <class In> static constexpr std::size_t packed_size_for = 2 * padded<In>;
    template <class In>
    static void pack(const float* canonical, float* packed) noexcept {
        std::fill_n(packed, 2 * padded<In>, 0.f);
        scale_shift(canonical, channels<In>, packed, packed + padded<In>);
    }
    template <class In>
    static void forward(const float* params, const float* in, float* out, std::size_t rows) noexcept {
        kernels::channel_affine(in, out, rows * (In::size / channels<In>), channels<In>, params, params + padded<In>);
    }
    static std::string name() { return "BatchNorm<eps=" + detail::float_str(epsilon) + ">"; }
};

using BatchNormalization = BatchNorm<1, 1000>;

namespace detail {
template <class T> struct is_batch_norm : std::false_type {};
template <long N, long D> struct is_batch_norm<BatchNorm<N, D>> : std::true_type {};
}  // namespace detail

}  // namespace typenet
