// torchvision's MobileNetV3-Small and -Large as types, with torchvision's module names
// (features.1.block.0.0.weight, features.1.block.1.fc1.weight, ..., classifier.3.weight): their
// state_dicts load with no renaming. A block is "block": [1x1 expansion, BatchNorm, act],
// KxK depthwise, BatchNorm, act, [squeeze-and-excitation], 1x1 projection, BatchNorm; its
// input is added back when the stride is 1 and the channels do not change. act is ReLU or
// Hardswish; the squeeze-and-excitation is tn::SqueezeExcite (ReLU, Hardsigmoid), one fused
// layer. BatchNorm's eps is 1e-3 here, as torchvision builds these models.
#pragma once
#include <cstddef>
#include <type_traits>

#include <typenet/typenet.hpp>

namespace zoo {
namespace tn = typenet;

namespace mobilenet_v3 {

using BN = tn::BatchNorm<1, 1000>;
using RE = tn::ReLU;  // torchvision's "RE" and "HS"
using HS = tn::HardSwish;

template <std::size_t Out, class Act, std::size_t Kernel = 1, std::size_t Stride = 1>
using ConvBNAct =
    tn::Sequential<tn::Conv2D<Out, tn::kernel<Kernel>, tn::stride<Stride>, tn::padding<(Kernel - 1) / 2>, tn::no_bias>, BN, Act>;
template <std::size_t Kernel, std::size_t Stride, class Act>
using DepthwiseBNAct =
    tn::Sequential<tn::DepthwiseConv2D<tn::kernel<Kernel>, tn::stride<Stride>, tn::padding<(Kernel - 1) / 2>, tn::no_bias>, BN, Act>;
template <std::size_t Out>
using ConvBN = tn::Sequential<tn::Conv2D<Out, tn::kernel<1>, tn::no_bias>, BN>;

// torchvision's _make_divisible(v, 8): the squeeze width of a block that expands to E channels.
constexpr std::size_t make_divisible(std::size_t v, std::size_t d = 8) {
    std::size_t r = (v + d / 2) / d * d;
    if (r < d) r = d;
    if (10 * r < 9 * v) r += d;
    return r;
}

template <bool Expand, bool SE, std::size_t Kernel, std::size_t Expanded, std::size_t Out, std::size_t Stride, class Act>
consteval auto block_layers() {
    using Dw = DepthwiseBNAct<Kernel, Stride, Act>;
    using Se = tn::SqueezeExcite<make_divisible(Expanded / 4)>;
    if constexpr (Expand && SE) return std::type_identity<tn::Sequential<ConvBNAct<Expanded, Act>, Dw, Se, ConvBN<Out>>>{};
    else if constexpr (Expand) return std::type_identity<tn::Sequential<ConvBNAct<Expanded, Act>, Dw, ConvBN<Out>>>{};
    else if constexpr (SE) return std::type_identity<tn::Sequential<Dw, Se, ConvBN<Out>>>{};
    else return std::type_identity<tn::Sequential<Dw, ConvBN<Out>>>{};
}

// torchvision's InvertedResidualConfig(input, kernel, expanded, out, use_se, activation, stride).
template <std::size_t In, std::size_t Kernel, std::size_t Expanded, std::size_t Out, bool SE, class Act, std::size_t Stride>
using Bneck = std::conditional_t<
    Stride == 1 && In == Out,
    tn::Residual<tn::Named<"block", typename decltype(block_layers<Expanded != In, SE, Kernel, Expanded, Out, Stride, Act>())::type>>,
    tn::Sequential<tn::Named<"block", typename decltype(block_layers<Expanded != In, SE, Kernel, Expanded, Out, Stride, Act>())::type>>>;

using SmallFeatures = tn::Sequential<
    ConvBNAct<16, HS, 3, 2>,
    Bneck<16, 3, 16, 16, true, RE, 2>,
    Bneck<16, 3, 72, 24, false, RE, 2>, Bneck<24, 3, 88, 24, false, RE, 1>,
    Bneck<24, 5, 96, 40, true, HS, 2>, Bneck<40, 5, 240, 40, true, HS, 1>, Bneck<40, 5, 240, 40, true, HS, 1>,
    Bneck<40, 5, 120, 48, true, HS, 1>, Bneck<48, 5, 144, 48, true, HS, 1>,
    Bneck<48, 5, 288, 96, true, HS, 2>, Bneck<96, 5, 576, 96, true, HS, 1>, Bneck<96, 5, 576, 96, true, HS, 1>,
    ConvBNAct<576, HS>>;

using LargeFeatures = tn::Sequential<
    ConvBNAct<16, HS, 3, 2>,
    Bneck<16, 3, 16, 16, false, RE, 1>,
    Bneck<16, 3, 64, 24, false, RE, 2>, Bneck<24, 3, 72, 24, false, RE, 1>,
    Bneck<24, 5, 72, 40, true, RE, 2>, Bneck<40, 5, 120, 40, true, RE, 1>, Bneck<40, 5, 120, 40, true, RE, 1>,
    Bneck<40, 3, 240, 80, false, HS, 2>, Bneck<80, 3, 200, 80, false, HS, 1>, Bneck<80, 3, 184, 80, false, HS, 1>,
    Bneck<80, 3, 184, 80, false, HS, 1>,
    Bneck<80, 3, 480, 112, true, HS, 1>, Bneck<112, 3, 672, 112, true, HS, 1>,
    Bneck<112, 5, 672, 160, true, HS, 2>, Bneck<160, 5, 960, 160, true, HS, 1>, Bneck<160, 5, 960, 160, true, HS, 1>,
    ConvBNAct<960, HS>>;

template <std::size_t H, std::size_t W, class Features, std::size_t Last, std::size_t Classes>
using MobileNetV3 = tn::Sequential<tn::Input<H, W, 3>, tn::Named<"features", Features>, tn::GlobalAveragePool2D,
                                   tn::Named<"classifier", tn::Sequential<tn::Dense<Last>, tn::HardSwish, tn::Dropout<1, 5>, tn::Dense<Classes>>>>;

}  // namespace mobilenet_v3

template <std::size_t H, std::size_t W, std::size_t Classes = 1000>
using MobileNetV3Small = mobilenet_v3::MobileNetV3<H, W, mobilenet_v3::SmallFeatures, 1024, Classes>;
template <std::size_t H, std::size_t W, std::size_t Classes = 1000>
using MobileNetV3Large = mobilenet_v3::MobileNetV3<H, W, mobilenet_v3::LargeFeatures, 1280, Classes>;

}  // namespace zoo
