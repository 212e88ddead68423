// Activation<A>: an activation function as a layer of its own (Keras' Activation layer,
// PyTorch's nn.ReLU). Runs in place. When it directly follows a linear Dense, the model
// fuses it into that Dense's epilogue and this layer costs nothing.
#pragma once
#include "../core/isa.hpp"
#include <cstddef>
#include <string>

#include "../kernels/activations.hpp"
#include "../kernels/epilogue.hpp"
#include "../core/layer.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

template <ActivationFunction A>
struct ActivationLayer {
    using activation = A;
    static constexpr LayerAliasing aliasing = LayerAliasing::in_place;
    template <class In> using output_shape_for = In;
    template <class In> static constexpr bool streams_for = true;  // per time step
    template <class In> static constexpr std::size_t flops_for = In::size;
    template <class In>
    static void forward(const float*, const float* in, float* out, std::size_t rows) noexcept {
        // Row-wise functions (softmax) act over the last axis, as Keras' default axis=-1 and
        // PyTorch's dim=-1 do.
        constexpr std::size_t last = In::dims[In::rank - 1];
        kernels::activation_map<A>(in, out, rows * (In::size / last), last);
    }
    static std::string name() { return "Activation<" + A::name() + ">"; }
};

template <class A> using Activation = ActivationLayer<A>;

using ReLU = ActivationLayer<relu>;
using LeakyReLU = ActivationLayer<leaky_relu>;
using ELU = ActivationLayer<elu>;
using Sigmoid = ActivationLayer<sigmoid>;
using Tanh = ActivationLayer<tanh>;
using GELU = ActivationLayer<gelu>;
using SiLU = ActivationLayer<silu>;
using HardSigmoid = ActivationLayer<hard_sigmoid>;
using HardSwish = ActivationLayer<hard_swish>;
using Hardtanh = ActivationLayer<hardtanh>;
using ReLU6 = ActivationLayer<relu6>;
using Softmax = ActivationLayer<softmax>;
using LogSoftmax = ActivationLayer<log_softmax>;

namespace detail {
template <class T> struct is_activation_layer : std::false_type {};
template <class A> struct is_activation_layer<ActivationLayer<A>> : std::true_type {};
}  // namespace detail

}  // namespace typenet
