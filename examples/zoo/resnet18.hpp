// torchvision's ResNet-18 as a type, written with torchvision's module names so that its
// state_dict loads with no renaming: conv1, bn1, layer1.0.conv1, ..., layer2.0.downsample.0,
// ..., fc. A Residual's body is seen through (its layers are the block's own children, as in
// torchvision's BasicBlock) and its projection is "downsample".
#pragma once
#include <cstddef>

#include <typenet/typenet.hpp>

#include "resnet.hpp"

namespace zoo {
namespace tn = typenet;

template <std::size_t C, std::size_t Stride = 1>
using BasicBody = tn::Sequential<tn::Named<"conv1", tn::Conv2D<C, tn::kernel<3>, tn::stride<Stride>, tn::padding<1>, tn::no_bias>>,
                                 tn::Named<"bn1", tn::BatchNorm<>>, tn::ReLU,
                                 tn::Named<"conv2", tn::Conv2D<C, tn::kernel<3>, tn::padding<1>, tn::no_bias>>,
                                 tn::Named<"bn2", tn::BatchNorm<>>>;
// BasicBlock with an identity shortcut, and the first block of a stage (stride 2, 1x1 projection).
template <std::size_t C>
using BasicBlock = tn::Residual<BasicBody<C>, tn::relu>;
template <std::size_t C>
using DownBlock = tn::Residual<BasicBody<C, 2>,
                               tn::Projection<tn::Sequential<tn::Conv2D<C, tn::kernel<1>, tn::stride<2>, tn::no_bias>, tn::BatchNorm<>>>,
                               tn::relu>;

template <std::size_t H, std::size_t W, std::size_t Classes = 1000>
using ResNet18 = ResNet<H, W, Classes, tn::Sequential<BasicBlock<64>, BasicBlock<64>>, tn::Sequential<DownBlock<128>, BasicBlock<128>>,
                        tn::Sequential<DownBlock<256>, BasicBlock<256>>, tn::Sequential<DownBlock<512>, BasicBlock<512>>>;

}  // namespace zoo
