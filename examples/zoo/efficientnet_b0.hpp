// torchvision's EfficientNet-B0 as a type, with torchvision's module names
// (features.1.0.block.0.0.weight, features.1.0.block.1.fc1.weight, ..., classifier.1.weight):
// its state_dict loads with no renaming. An MBConv block is "block": [1x1 expansion,
// BatchNorm, SiLU], KxK depthwise, BatchNorm, SiLU, squeeze-and-excitation (SiLU, sigmoid;
// squeezed to a quarter of the block's input channels), 1x1 projection, BatchNorm; then
// "stochastic_depth" (the identity at inference), its input added back when the stride is 1
// and the channels do not change.
#pragma once
#include <cstddef>
#include <type_traits>

#include <typenet/typenet.hpp>

namespace zoo {
namespace tn = typenet;

namespace efficientnet {

template <std::size_t Out, std::size_t Kernel = 1, std::size_t Stride = 1>
using ConvBNSiLU = tn::Sequential<tn::Conv2D<Out, tn::kernel<Kernel>, tn::stride<Stride>, tn::padding<(Kernel - 1) / 2>, tn::no_bias>,
                                  tn::BatchNorm<>, tn::SiLU>;

template <std::size_t In, std::size_t Expand, std::size_t Kernel, std::size_t Stride, std::size_t Out>
consteval auto block_layers() {
    constexpr std::size_t E = In * Expand;
    using Dw = tn::Sequential<tn::DepthwiseConv2D<tn::kernel<Kernel>, tn::stride<Stride>, tn::padding<(Kernel - 1) / 2>, tn::no_bias>,
                              tn::BatchNorm<>, tn::SiLU>;
    using Se = tn::SqueezeExcite<(In / 4 > 0 ? In / 4 : 1), tn::silu, tn::sigmoid>;
    using Project = tn::Sequential<tn::Conv2D<Out, tn::kernel<1>, tn::no_bias>, tn::BatchNorm<>>;
    if constexpr (Expand == 1) return std::type_identity<tn::Sequential<Dw, Se, Project>>{};
    else return std::type_identity<tn::Sequential<ConvBNSiLU<E>, Dw, Se, Project>>{};
}

// MBConv(expand_ratio, kernel, stride, input, output), the I-th of the network's 16 blocks
// (its stochastic depth probability is 0.2 I / 16).
template <std::size_t Expand, std::size_t Kernel, std::size_t Stride, std::size_t In, std::size_t Out, long I>
using MBConv = std::conditional_t<
    Stride == 1 && In == Out,
    tn::Residual<tn::Sequential<tn::Named<"block", typename decltype(block_layers<In, Expand, Kernel, Stride, Out>())::type>,
                                tn::Named<"stochastic_depth", tn::StochasticDepth<I, 80>>>>,
    tn::Sequential<tn::Named<"block", typename decltype(block_layers<In, Expand, Kernel, Stride, Out>())::type>,
                   tn::Named<"stochastic_depth", tn::StochasticDepth<I, 80>>>>;

// torchvision's stages (expand, kernel, stride, in, out, layers): (1, 3, 1, 32, 16, 1),
// (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3), (6, 5, 1, 80, 112, 3),
// (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1).
using B0Features = tn::Sequential<
    ConvBNSiLU<32, 3, 2>,
    tn::Sequential<MBConv<1, 3, 1, 32, 16, 0>>,
    tn::Sequential<MBConv<6, 3, 2, 16, 24, 1>, MBConv<6, 3, 1, 24, 24, 2>>,
    tn::Sequential<MBConv<6, 5, 2, 24, 40, 3>, MBConv<6, 5, 1, 40, 40, 4>>,
    tn::Sequential<MBConv<6, 3, 2, 40, 80, 5>, MBConv<6, 3, 1, 80, 80, 6>, MBConv<6, 3, 1, 80, 80, 7>>,
    tn::Sequential<MBConv<6, 5, 1, 80, 112, 8>, MBConv<6, 5, 1, 112, 112, 9>, MBConv<6, 5, 1, 112, 112, 10>>,
    tn::Sequential<MBConv<6, 5, 2, 112, 192, 11>, MBConv<6, 5, 1, 192, 192, 12>, MBConv<6, 5, 1, 192, 192, 13>,
                   MBConv<6, 5, 1, 192, 192, 14>>,
    tn::Sequential<MBConv<6, 3, 1, 192, 320, 15>>,
    ConvBNSiLU<1280>>;

}  // namespace efficientnet

template <std::size_t H, std::size_t W, std::size_t Classes = 1000>
using EfficientNetB0 = tn::Sequential<tn::Input<H, W, 3>, tn::Named<"features", efficientnet::B0Features>, tn::GlobalAveragePool2D,
                                      tn::Named<"classifier", tn::Sequential<tn::Dropout<1, 5>, tn::Dense<Classes>>>>;

}  // namespace zoo
