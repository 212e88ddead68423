// torchvision's ResNet-50 (v1.5: the stride on the 3x3 conv) as a type, with torchvision's
// module names: conv1, bn1, layer1.0.conv1 ... layer1.0.downsample.0, ..., fc.
#pragma once
#include <cstddef>

#include <typenet/typenet.hpp>

#include "resnet.hpp"

namespace zoo {
namespace tn = typenet;

template <std::size_t Width, std::size_t Stride = 1>
using BottleneckBody = tn::Sequential<
    tn::Named<"conv1", tn::Conv2D<Width, tn::kernel<1>, tn::no_bias>>, tn::Named<"bn1", tn::BatchNorm<>>, tn::ReLU,
    tn::Named<"conv2", tn::Conv2D<Width, tn::kernel<3>, tn::stride<Stride>, tn::padding<1>, tn::no_bias>>, tn::Named<"bn2", tn::BatchNorm<>>, tn::ReLU,
    tn::Named<"conv3", tn::Conv2D<4 * Width, tn::kernel<1>, tn::no_bias>>, tn::Named<"bn3", tn::BatchNorm<>>>;
template <std::size_t Width>
using Bottleneck = tn::Residual<BottleneckBody<Width>, tn::relu>;
// The first block of a stage: a 1x1 projection (stride 2 after the first stage).
template <std::size_t Width, std::size_t Stride>
using BottleneckDown = tn::Residual<
    BottleneckBody<Width, Stride>,
    tn::Projection<tn::Sequential<tn::Conv2D<4 * Width, tn::kernel<1>, tn::stride<Stride>, tn::no_bias>, tn::BatchNorm<>>>, tn::relu>;

template <std::size_t H, std::size_t W, std::size_t Classes = 1000>
using ResNet50 = ResNet<H, W, Classes, tn::Sequential<BottleneckDown<64, 1>, Bottleneck<64>, Bottleneck<64>>,
                        tn::Sequential<BottleneckDown<128, 2>, Bottleneck<128>, Bottleneck<128>, Bottleneck<128>>,
                        tn::Sequential<BottleneckDown<256, 2>, Bottleneck<256>, Bottleneck<256>, Bottleneck<256>, Bottleneck<256>,
                                       Bottleneck<256>>,
                        tn::Sequential<BottleneckDown<512, 2>, Bottleneck<512>, Bottleneck<512>>>;

}  // namespace zoo
