// torchvision's MobileNetV2 as a type, with torchvision's module names (features.0.0.weight,
// features.1.conv.0.0.weight, ..., classifier.1.weight): its state_dict loads with no renaming.
// An inverted residual block is "conv": [1x1 expansion, BatchNorm, ReLU6], 3x3 depthwise,
// BatchNorm, ReLU6, 1x1 projection, BatchNorm; with its input added back when the stride is 1
// and the channels do not change. (The model folds each BatchNorm into its convolution and
// each ReLU6 into the convolution's epilogue.)
#pragma once
#include <cstddef>
#include <type_traits>

#include <typenet/typenet.hpp>

namespace zoo {
namespace tn = typenet;

namespace mobilenet_v2 {

// torchvision's Conv2dNormActivation with ReLU6: [0] conv, [1] BatchNorm, [2] ReLU6.
template <std::size_t Out, std::size_t Kernel = 1, std::size_t Stride = 1>
using ConvBNReLU6 = tn::Sequential<tn::Conv2D<Out, tn::kernel<Kernel>, tn::stride<Stride>, tn::padding<(Kernel - 1) / 2>, tn::no_bias>,
                                   tn::BatchNorm<>, tn::ReLU6>;
template <std::size_t Stride>
using DepthwiseBNReLU6 =
    tn::Sequential<tn::DepthwiseConv2D<tn::kernel<3>, tn::stride<Stride>, tn::padding<1>, tn::no_bias>, tn::BatchNorm<>, tn::ReLU6>;

template <std::size_t Hidden, std::size_t Out, std::size_t Stride, bool Expand>
using InvertedBody = std::conditional_t<
    Expand,
    tn::Named<"conv", tn::Sequential<ConvBNReLU6<Hidden>, DepthwiseBNReLU6<Stride>, tn::Conv2D<Out, tn::kernel<1>, tn::no_bias>, tn::BatchNorm<>>>,
    tn::Named<"conv", tn::Sequential<DepthwiseBNReLU6<Stride>, tn::Conv2D<Out, tn::kernel<1>, tn::no_bias>, tn::BatchNorm<>>>>;

// InvertedResidual(In, Out, Stride, expand_ratio = Hidden / In).
template <std::size_t In, std::size_t Hidden, std::size_t Out, std::size_t Stride>
using InvertedResidual = std::conditional_t<Stride == 1 && In == Out, tn::Residual<InvertedBody<Hidden, Out, Stride, Hidden != In>>,
                                            tn::Sequential<InvertedBody<Hidden, Out, Stride, Hidden != In>>>;

// torchvision's table (t, c, n, s): (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
// (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1), after a 32-channel stem; 1280 at the end.
using Features = tn::Sequential<
    ConvBNReLU6<32, 3, 2>,
    InvertedResidual<32, 32, 16, 1>,
    InvertedResidual<16, 96, 24, 2>, InvertedResidual<24, 144, 24, 1>,
    InvertedResidual<24, 144, 32, 2>, InvertedResidual<32, 192, 32, 1>, InvertedResidual<32, 192, 32, 1>,
    InvertedResidual<32, 192, 64, 2>, InvertedResidual<64, 384, 64, 1>, InvertedResidual<64, 384, 64, 1>, InvertedResidual<64, 384, 64, 1>,
    InvertedResidual<64, 384, 96, 1>, InvertedResidual<96, 576, 96, 1>, InvertedResidual<96, 576, 96, 1>,
    InvertedResidual<96, 576, 160, 2>, InvertedResidual<160, 960, 160, 1>, InvertedResidual<160, 960, 160, 1>,
    InvertedResidual<160, 960, 320, 1>,
    ConvBNReLU6<1280>>;

}  // namespace mobilenet_v2

template <std::size_t H, std::size_t W, std::size_t Classes = 1000>
using MobileNetV2 = tn::Sequential<tn::Input<H, W, 3>, tn::Named<"features", mobilenet_v2::Features>, tn::GlobalAveragePool2D,
                                   tn::Named<"classifier", tn::Sequential<tn::Dropout<1, 5>, tn::Dense<Classes>>>>;

}  // namespace zoo
